import { z } from 'zod';
import type { Aggregation } from '../plan/types';
import type { TransactionTerms } from '../plan/pricing';
import { boundedRecord, idSchema, instant, requiredText, text, type CustomerId, type EventId } from '../types';

/**
 * A usage event: "customer C used Q of feature F at time T". The idempotency key makes
 * it exactly-once: the same key with the same payload is a duplicate (counted, not
 * stored again); with a different payload, a conflict. Usage belongs to the period of
 * its `timestamp`, not of its arrival.
 */
export const MAX_BATCH = 1_000;

/**
 * What one event may carry. The caps keep a single event from costing more than a batch
 * of ordinary ones (a 5 MB event of 10,000 properties was once stored whole):
 * - `idempotencyKey` at most 200 characters, `featureKey` at most 63;
 * - at most 50 `properties`, each key at most 100 characters, each string value at most
 *   500; numbers, booleans and null as they are;
 * - all the properties together at most 8 KiB as JSON (UTF-8 bytes), so an event is
 *   stored in well under 9 KiB.
 * Every string must be text PostgreSQL can store (no NUL, no unpaired surrogate): one
 * such event would otherwise fail its whole batch.
 */
export const EVENT_LIMITS = {
  idempotencyKey: 200,
  featureKey: 63,
  properties: 50,
  propertyKey: 100,
  propertyValue: 500,
  propertiesBytes: 8_192,
} as const;

/** A decimal quantity as a string or a finite number; at most 12 decimals. */
const quantity = z
  .union([z.string(), z.number()])
  .transform((v) => (typeof v === 'number' ? String(v) : v.trim()))
  .pipe(
    z
      .string()
      .regex(/^\d{1,18}(\.\d{1,12})?$/, 'must be a non-negative decimal number such as 1 or "0.5"'),
  );

const propertyValue = z.union([text(EVENT_LIMITS.propertyValue), z.number(), z.boolean(), z.null()], {
  error: 'must be a string, a number, a boolean or null',
});

/**
 * The most bytes `p` can take as JSON, cheaply: a character is at most 6 bytes escaped
 * (`\u0000`), a number at most 24 characters, and each entry adds quotes, a colon and a
 * comma. Most events are far below the cap, so only the rare large one is serialized.
 */
function jsonBytesAtMost(p: Record<string, unknown>): number {
  let n = 2;
  for (const k in p) {
    const v = p[k];
    n += 6 * k.length + 4 + (typeof v === 'string' ? 6 * v.length + 2 : 24);
  }
  return n;
}

const properties = boundedRecord(propertyValue, { keys: EVENT_LIMITS.properties, keyLength: EVENT_LIMITS.propertyKey }).superRefine(
  (p, ctx) => {
    if (jsonBytesAtMost(p) <= EVENT_LIMITS.propertiesBytes) return;
    const bytes = Buffer.byteLength(JSON.stringify(p));
    if (bytes > EVENT_LIMITS.propertiesBytes) {
      ctx.addIssue({ code: 'custom', message: `at most ${EVENT_LIMITS.propertiesBytes} bytes as JSON, got ${bytes}` });
    }
  },
);

/**
 * One usage event, as `POST /api/meter`, `usage.record` and `meter()` take it. Ids are
 * checked here (a malformed `customerId` is a 400 that names the field, at every
 * boundary); whether the customer exists is checked when the batch is resolved.
 */
export const meterEventSchema = z.object({
  /** The event's own id, when the caller makes ids; else one is made. */
  id: idSchema('event').optional(),
  idempotencyKey: requiredText(EVENT_LIMITS.idempotencyKey),
  customerId: idSchema('customer'),
  featureKey: requiredText(EVENT_LIMITS.featureKey),
  quantity,
  /** RFC 3339 (`2026-11-25T14:00:00Z`) or a Date, in 1970–9999; the usage window is checked later. */
  timestamp: instant,
  properties: properties.default({}),
});
export type MeterEventInput = z.input<typeof meterEventSchema>;

/** A validated event, ready for storage. */
export interface UsageEvent {
  id: EventId;
  idempotencyKey: string;
  customerId: CustomerId;
  featureKey: string;
  /** Exact decimal string. */
  quantity: string;
  timestamp: Date;
  properties: Record<string, string | number | boolean | null>;
  /** For unique_count features: the value of the counted property, else null. */
  distinctValue: string | null;
}

/**
 * What an idempotency key stands for: an event with the same key and the same payload
 * is a duplicate, with another payload a conflict. Compared field by field (only when a
 * key is met again, which is rare), so nothing per event is hashed on the hot path.
 */
export type UsagePayload = Pick<UsageEvent, 'customerId' | 'featureKey' | 'quantity' | 'timestamp' | 'properties'>;

/** An event as a store reports it when its key was already taken. */
export type StoredUsage = UsagePayload & { id: string };

export type MeterOutcome =
  | { status: 'accepted'; id: EventId }
  | { status: 'duplicate'; id: EventId | null }
  | { status: 'conflict'; reason: string }
  | { status: 'rejected'; reason: string };

/** One result per event, in the order given. */
export interface MeterResult {
  idempotencyKey: string | null;
  outcome: MeterOutcome;
}

export interface UsageQuery {
  customerId: CustomerId;
  featureKey: string;
  aggregation: Aggregation;
  /** Half-open [from, to). */
  from: Date;
  to: Date;
  /**
   * Percentage charges: instead of `aggregation`, the sum over the window's events of
   * clamp(a × rate + fixed, min, max), a being the event's amount property (a decimal in
   * major units; anything else counts as 0). Read from the raw events, per event, in the
   * store (SQL on PostgreSQL): the invoice reads the sum, never the rows.
   */
  transactions?: TransactionTerms;
}

export interface MeterConfig {
  /** Flush a scope's buffer when it holds this many events (default 100). */
  batchSize: number;
  /** …or when this long has passed since the first buffered event (default 5 s). */
  flushIntervalMs: number;
  /** Most events buffered across all scopes; beyond it `meter()` refuses (default 100,000). */
  maxBuffered: number;
  /** Events older than this are rejected (default 35 days). */
  graceMs: number;
  /** Events further in the future than this are rejected (default 5 minutes). */
  futureToleranceMs: number;
  /** Store write attempts before events are put back in the buffer (default 5). */
  maxAttempts: number;
  /** Most events written by one statement (default 5,000). */
  maxWriteBatch: number;
  /** Statements a scope's buffer may have in flight at once (default 4). */
  writeConcurrency: number;
  /**
   * The least a writer takes when the buffer is shared among writers (default 1,000):
   * a few large statements cost the database less than many small ones, so writers are
   * added only when there is that much to write.
   */
  minWriteBatch: number;
}

export const DEFAULT_METER_CONFIG: MeterConfig = {
  batchSize: 100,
  flushIntervalMs: 5_000,
  maxBuffered: 100_000,
  graceMs: 35 * 86_400_000,
  futureToleranceMs: 5 * 60_000,
  maxAttempts: 5,
  maxWriteBatch: 5_000,
  writeConcurrency: 4,
  minWriteBatch: 1_000,
};
