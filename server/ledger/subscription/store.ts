import type { CustomerId, PageRequest, Scope, SubscriptionId } from '../types';
import type { Subscription } from './types';

export interface SubscriptionStore {
  /** Throws `conflict` when the customer already has a live subscription. */
  insert(scope: Scope, sub: Subscription): Promise<void>;
  get(scope: Scope, id: SubscriptionId): Promise<Subscription | null>;
  listByCustomer(scope: Scope, customerId: CustomerId, page: PageRequest): Promise<Subscription[]>;
  update(scope: Scope, sub: Subscription): Promise<boolean>;
}
