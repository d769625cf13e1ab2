import type { CouponId, Currency, CustomerId, InvoiceId, PageRequest, Scope } from '../types';
import type { Coupon } from './types';

/** What the coupon domain needs from storage. Every method takes the scope. */
export interface CouponStore extends CouponBalanceStore {
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

/**
 * What is left of a carried-over coupon amount (`carryOver`) for one customer: one
 * balance per customer and coupon, made at its first spend (until then the coupon's full
 * amount is left).
 */
export interface CouponBalance {
  customerId: CustomerId;
  couponId: CouponId;
  currency: Currency;
  /** Minor units still to discount: never below 0. */
  amountRemaining: number;
  updatedAt: Date;
}

/** A finalized invoice's use of a carried-over amount. */
export interface CouponSpend {
  customerId: CustomerId;
  couponId: CouponId;
  invoiceId: InvoiceId;
  currency: Currency;
  /** Minor units the invoice's discount takes from the balance (> 0). */
  amount: number;
  /** The balance before any spend: the coupon's amountOff. */
  initial: number;
  at: Date;
}

/** Carried-over coupon amounts, in the same store as the coupons (CouponStore). */
export interface CouponBalanceStore {
  /** Null before the first spend of the customer's balance of the coupon. */
  balance(scope: Scope, customerId: CustomerId, couponId: CouponId): Promise<CouponBalance | null>;
  /**
   * One conditional write: takes `amount` off the balance only if at least that much is
   * left, and records it as the invoice's spend. Concurrent spends never take the
   * balance below 0. Idempotent per invoice: an invoice that already spent the same
   * amount of the same coupon is true again and takes nothing more. False when the
   * balance is short, or the invoice spent another amount.
   */
  spend(scope: Scope, spend: CouponSpend): Promise<boolean>;
  /**
   * Gives a voided invoice's spend back to the balance it came from, once: the spend is
   * removed and its amount added back in one write, so a void run twice (or two at once)
   * gives it back once. Returns the amount given back: 0 when the invoice spent nothing,
   * or it was given back already.
   */
  giveBack(scope: Scope, invoiceId: InvoiceId, at: Date): Promise<number>;
}
