import type { ChangeFeed } from './changes';
import type { EventLog } from './events/log';
import type { PluginRegistry } from './plugin/registry';
import type { Store } from './store/store';
import type { Clock, Logger, Scope } from './types';

/** What every service is built with: the engine's dependencies, nothing global. */
export interface EngineContext {
  readonly store: Store;
  readonly plugins: PluginRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly changes: ChangeFeed;
  /** The event log: a change's writes and its events in one transaction (`events.atomic`). */
  readonly events: EventLog;
  /**
   * The time of a customer's objects (its subscriptions, usage windows, entitlements,
   * invoices): its test clock's when the customer was created on one, else `clock`.
   * Without a customer (plans, tax rates, coupons themselves): `clock`. Every service
   * asks this, never `clock` directly, and names the customer whenever the object has
   * one, so a test clock moves only its own customers. A Map lookup, no query.
   */
  now(scope: Scope, customerId?: string | null): Date;
  /**
   * `now(scope, customerId)` for the paths that write a customer's objects: a customer
   * this instance has not seen yet (created on a clock through another instance) is read
   * from the store once first, so it is never taken for a customer on no clock.
   */
  customerNow(scope: Scope, customerId: string): Promise<Date>;
  /** Learns a customer's clock from its row just read from the store (see customerNow). */
  customerSeen(scope: Scope, customer: { id: string; testClockId?: string | null }): Promise<void>;
  /** `now(scope, customerId)` in epoch milliseconds, cheaper on hot paths (entitlement checks). */
  nowMs(scope: Scope, customerId?: string | null): number;
}
