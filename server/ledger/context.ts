import type { ChangeFeed } from './changes';
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
  /**
   * The time in a scope: the scope's test clock when it has one, else `clock`. Every
   * service asks this, never `clock` directly, so a test clock moves a whole scope.
   */
  now(scope: Scope): Date;
  /** `now(scope)` in epoch milliseconds, cheaper on hot paths (entitlement checks). */
  nowMs(scope: Scope): number;
}
