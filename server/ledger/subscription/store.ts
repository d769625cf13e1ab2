import type { OnClock } from '../billing/store';
import type { CustomerId, PageRequest, Scope, SubscriptionId } from '../types';
import type { Subscription } from './types';

export interface SubscriptionStore {
  /** Throws `conflict` when the customer already has a live subscription. */
  insert(scope: Scope, sub: Subscription): Promise<void>;
  get(scope: Scope, id: SubscriptionId): Promise<Subscription | null>;
  listByCustomer(scope: Scope, customerId: CustomerId, page: PageRequest): Promise<Subscription[]>;
  /** The customer's live (trialing or active) subscription: there is at most one. */
  getLive(scope: Scope, customerId: CustomerId): Promise<Subscription | null>;
  /**
   * Writes the subscription if its stored version is still `expectedVersion` (the one it
   * was read with); false otherwise or when it does not exist. Throws `conflict` when it
   * would make a second live subscription for the customer.
   */
  update(scope: Scope, sub: Subscription, expectedVersion: number): Promise<boolean>;
  /**
   * Live subscriptions whose current period ended at or before `at`, the oldest end
   * first; with `on`, only those of the customers on that test clock (or on none).
   */
  listDue(scope: Scope, at: Date, limit: number, on?: OnClock): Promise<Subscription[]>;
  /** Subscriptions (canceled ones too) whose outbox still holds invoices to make (`on`: as listDue). */
  listWithOutbox(scope: Scope, limit: number, on?: OnClock): Promise<Subscription[]>;
}
