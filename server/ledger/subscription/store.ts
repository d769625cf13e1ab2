import type { CustomerId, PageRequest, Scope, SubscriptionId } from '../types';
import type { Subscription } from './types';

export interface SubscriptionStore {
  /** Throws `conflict` when the customer already has a live subscription. */
  insert(scope: Scope, sub: Subscription): Promise<void>;
  get(scope: Scope, id: SubscriptionId): Promise<Subscription | null>;
  listByCustomer(scope: Scope, customerId: CustomerId, page: PageRequest): Promise<Subscription[]>;
  /** The customer's live (trialing or active) subscription: there is at most one. */
  getLive(scope: Scope, customerId: CustomerId): Promise<Subscription | null>;
  update(scope: Scope, sub: Subscription): Promise<boolean>;
}
