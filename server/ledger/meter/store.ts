import type { Scope } from '../types';
import type { CustomerId } from '../types';
import type { StoredUsage, UsageEvent, UsageQuery } from './types';

/** A customer's feature over a half-open window [from, to). */
export interface UsageWindow {
  customerId: CustomerId;
  featureKey: string;
  from: Date;
  to: Date;
}

export interface InsertUsageResult {
  /** Idempotency keys of the events this call stored. */
  inserted: Set<string>;
  /**
   * For the events not stored because their key already existed (before this call, or
   * earlier in the same batch): the stored event (its id and payload).
   */
  existing: Map<string, StoredUsage>;
}

/**
 * Usage storage: append-only events, unique per (scope, idempotency key), plus hourly
 * rollups maintained in the same statement, so reads of a period cost the same however
 * many raw events it holds.
 */
export interface UsageStore {
  /**
   * Stores a batch in one statement (one round trip); keys already stored are skipped,
   * never overwritten. Atomic: all of the batch's new events are stored, or none.
   */
  insertEvents(scope: Scope, events: readonly UsageEvent[]): Promise<InsertUsageResult>;
  /**
   * The aggregate of a customer's usage of a feature over [from, to), as an exact
   * decimal string ("0" when there is none; for `latest`, the value of the last event).
   */
  aggregate(scope: Scope, query: UsageQuery): Promise<string>;
  /** Several aggregates at once (one round trip on PostgreSQL), in the order asked. */
  aggregateMany(scope: Scope, queries: readonly UsageQuery[]): Promise<string[]>;
  /**
   * The raw events of a customer's feature over [from, to), oldest first (on a tie, in
   * arrival order): what a custom usage aggregator (a percentile) reads, since it cannot
   * be computed from rollups. Reads every event of the window: O(events). Optional, so a
   * store without raw reads still serves the built-in aggregations.
   */
  eventsIn?(scope: Scope, window: UsageWindow): Promise<UsageEvent[]>;
}
