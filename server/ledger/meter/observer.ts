import type { Scope } from '../types';
import type { UsageEvent } from './types';

/**
 * In-process listeners of metering (the entitlement cache is one). Called by the meter's
 * write loop; an observer must not throw.
 */
export interface UsageObserver {
  /** An event accepted into this process's buffer (not yet durable). */
  onBuffered?(scope: Scope, event: UsageEvent): void;
  /**
   * A batch is about to be written (awaited before the write). What it returns is told
   * how the write ended: shared counters mark their writes in flight here.
   */
  beforeWrite?(scope: Scope, events: readonly UsageEvent[]): Promise<WriteOutcomeListener | void>;
  /** Events this process committed to the store (duplicates excluded), after the commit. */
  onCommitted?(scope: Scope, events: readonly UsageEvent[]): void;
  /**
   * Buffered events that will not be stored by this process: duplicates, conflicts,
   * events rejected when their batch was checked, and durable events whose write failed.
   */
  onDropped?(scope: Scope, events: readonly UsageEvent[]): void;
  /**
   * Events refused, with their outcome: `duplicate` (the key and payload already stored),
   * `conflict` (the key stored with another payload), `rejected` (a bad event, an unknown
   * customer or feature). Accepted events are onCommitted's. For metrics.
   */
  onRefused?(scope: Scope, outcome: 'duplicate' | 'conflict' | 'rejected', count: number): void;
}

export interface WriteOutcomeListener {
  /**
   * The batch is committed; `events` are the ones this write stored. `uncertain`: an
   * earlier attempt failed and may have committed some of them already (counters should
   * be recomputed rather than added to). Awaited.
   */
  committed(events: readonly UsageEvent[], uncertain: boolean): Promise<void>;
  /**
   * Every attempt to write the batch failed. One may still have committed before its
   * answer was lost, so counters should be recomputed rather than trusted. Awaited.
   */
  failed(): Promise<void>;
}
