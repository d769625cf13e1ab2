import type { CouponId, PageRequest, Scope } from '../types';
import type { Coupon } from './types';

/** What the coupon domain needs from storage. Every method takes the scope. */
export interface CouponStore {
  /** Throws a `conflict` LedgerError when the code is taken in the scope. */
  insert(scope: Scope, coupon: Coupon): Promise<void>;
  get(scope: Scope, id: CouponId): Promise<Coupon | null>;
  /** `code` as stored: normalised (upper-case). */
  getByCode(scope: Scope, code: string): Promise<Coupon | null>;
  /** Oldest first, `page.limit + 1` rows after `page.cursor`. */
  list(scope: Scope, page: PageRequest): Promise<Coupon[]>;
  /**
   * Writes name, metadata, expiresAt, maxRedemptions, status and updatedAt; never the
   * discount terms, the code or timesRedeemed (a stale copy must not undo redemptions).
   * In the same write, a non-null maxRedemptions must not be below the times redeemed.
   * Returns the stored coupon as it now is, or null when it does not exist in the scope
   * or the new maxRedemptions is below its times redeemed (nothing is written then).
   */
  update(scope: Scope, coupon: Coupon): Promise<Coupon | null>;
  /**
   * One conditional write: raises timesRedeemed by 1 only if the coupon is active, not
   * expired at `at` (expiresAt > at) and below maxRedemptions. Returns whether it did.
   * Concurrent calls never raise it past maxRedemptions.
   */
  redeem(scope: Scope, id: CouponId, at: Date): Promise<boolean>;
  /**
   * Lowers timesRedeemed by 1 (never below 0), for a redemption that could not be
   * completed. Returns false when the coupon does not exist in the scope.
   */
  release(scope: Scope, id: CouponId): Promise<boolean>;
}
