import type { CustomerId, PageRequest, Scope } from '../types';
import type { Customer } from './types';

/** What the customer domain needs from storage. Every method takes the scope. */
export interface CustomerStore {
  /** Throws a `conflict` LedgerError when the external id is taken in the scope. */
  insert(scope: Scope, customer: Customer): Promise<void>;
  get(scope: Scope, id: CustomerId): Promise<Customer | null>;
  getByExternalId(scope: Scope, externalId: string): Promise<Customer | null>;
  /** Oldest first, `page.limit + 1` rows after `page.cursor`. */
  list(scope: Scope, page: PageRequest): Promise<Customer[]>;
  /**
   * Replaces the stored row (never its test clock); returns false when it does not exist
   * in the scope.
   */
  update(scope: Scope, customer: Customer): Promise<boolean>;
}
