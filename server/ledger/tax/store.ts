import type { PageRequest, Scope } from '../types';
import type { TaxRateId, TaxRateRecord } from './types';

/** What the tax domain needs from storage. Every method takes the scope. */
export interface TaxRateStore {
  /**
   * Throws a `conflict` LedgerError when the rate is active and another active rate
   * exists for the same country and region (null region included) in the scope.
   */
  insert(scope: Scope, rate: TaxRateRecord): Promise<void>;
  get(scope: Scope, id: TaxRateId): Promise<TaxRateRecord | null>;
  /** Oldest first, `page.limit + 1` rows after `page.cursor`; active rates only unless asked. */
  list(scope: Scope, page: PageRequest, filter: { country?: string; includeInactive: boolean }): Promise<TaxRateRecord[]>;
  /**
   * Writes displayName, description, active and updatedAt only: percentage, inclusive,
   * country and region never change. Returns false when the rate does not exist in the
   * scope; throws `conflict` when it activates a rate whose country and region already
   * have an active one.
   */
  update(scope: Scope, rate: TaxRateRecord): Promise<boolean>;
  /** The active rate for exactly this country and region (null: the country's default). */
  findActive(scope: Scope, country: string, region: string | null): Promise<TaxRateRecord | null>;
}
