import type { Subscription } from './subscription/types';
import type { Scope } from './types';

/**
 * Engine-internal notifications that caches depend on. Plugins observe the lifecycle
 * through hooks, which are best effort; a cache must hear of every write, including
 * those no hook names (resuming a subscription), synchronously and before the write's
 * caller gets its answer.
 */
export type SubscriptionWriteListener = (scope: Scope, sub: Subscription) => void;

export class ChangeFeed {
  readonly #subscriptionListeners: SubscriptionWriteListener[] = [];

  onSubscriptionWritten(listener: SubscriptionWriteListener): void {
    this.#subscriptionListeners.push(listener);
  }

  /** Called by every path that inserts or updates a subscription, after the store write. */
  subscriptionWritten(scope: Scope, sub: Subscription): void {
    for (const l of this.#subscriptionListeners) l(scope, sub);
  }
}
