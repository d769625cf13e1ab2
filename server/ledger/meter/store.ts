import type { Scope } from '../types';
import type { StoredUsage, UsageEvent, UsageQuery } from './types';

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
}
