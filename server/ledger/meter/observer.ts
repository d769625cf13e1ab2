import type { Scope } from '../types';
import type { UsageEvent } from './types';

/** In-process listeners of metering (the entitlement cache is one). */
export interface UsageObserver {
  /** An event accepted into this process's buffer (not yet durable). */
  onBuffered?(scope: Scope, event: UsageEvent): void;
  /** Events this process committed to the store (duplicates excluded), after the commit. */
  onCommitted?(scope: Scope, events: readonly UsageEvent[]): void;
}
