import type { StoredUsage, UsageEvent } from '../meter/types';
import type { InsertUsageResult } from '../meter/store';
import { Dec, invalid } from '../types';

/**
 * What the usage stores share: the hour grid of the rollups (UTC hours), the split of a
 * range into whole hours and raw edges, in-batch deduplication, and decimal output.
 */
export const HOUR_MS = 3_600_000;

/**
 * A transaction's amount as both stores read it from an event's property (percentage
 * charges): a non-negative decimal, a JSON number or a string such as "12.50", else 0.
 * One pattern, used by PostgreSQL's `~` and by the memory store's RegExp.
 */
export const AMOUNT_PATTERN = '^[0-9]{1,18}([.][0-9]+)?$';

/** Most events one insertEvents call takes: `seq` is batch number × this + position. */
export const MAX_EVENTS_PER_INSERT = 1_000_000;

export const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;
export const ceilHour = (ms: number) => Math.ceil(ms / HOUR_MS) * HOUR_MS;

/** A half-open range of epoch milliseconds. */
export interface MsRange {
  from: number;
  to: number;
}

/**
 * Splits [from, to) into the whole UTC hours inside it (read from rollups) and the
 * partial hours at its edges (read from raw events). Empty parts are left out.
 */
export function splitRange(from: Date, to: Date): { hours: MsRange | null; edges: MsRange[] } {
  const f = from.getTime();
  const t = to.getTime();
  if (!(f < t)) return { hours: null, edges: [] };
  const h0 = ceilHour(f);
  const h1 = floorHour(t);
  if (h0 >= h1) return { hours: null, edges: [{ from: f, to: t }] };
  const edges: MsRange[] = [];
  if (f < h0) edges.push({ from: f, to: h0 });
  if (h1 < t) edges.push({ from: h1, to: t });
  return { hours: { from: h0, to: h1 }, edges };
}

/**
 * The first event of each idempotency key, in batch order, with its position in the
 * batch; later events with a key already seen in the batch are reported as existing
 * with the first one's id and payload hash (the first is the one stored, if any).
 */
export function dedupeBatch(events: readonly UsageEvent[]): {
  unique: { event: UsageEvent; ord: number }[];
  repeated: Set<string>;
} {
  if (events.length > MAX_EVENTS_PER_INSERT) {
    throw invalid(`at most ${MAX_EVENTS_PER_INSERT} usage events per insert, got ${events.length}`);
  }
  const seen = new Set<string>();
  const repeated = new Set<string>();
  const unique: { event: UsageEvent; ord: number }[] = [];
  events.forEach((event, ord) => {
    if (seen.has(event.idempotencyKey)) repeated.add(event.idempotencyKey);
    else {
      seen.add(event.idempotencyKey);
      unique.push({ event, ord });
    }
  });
  return { unique, repeated };
}

/** Adds the in-batch repeats of keys this call stored to `existing`. */
export function reportRepeats(
  result: InsertUsageResult,
  unique: readonly { event: UsageEvent }[],
  repeated: ReadonlySet<string>,
): InsertUsageResult {
  if (repeated.size) {
    for (const { event } of unique) {
      if (repeated.has(event.idempotencyKey) && result.inserted.has(event.idempotencyKey)) {
        result.existing.set(event.idempotencyKey, storedUsage(event));
      }
    }
  }
  return result;
}

/** An exact decimal string in its shortest form: "12.50" -> "12.5", "0.000" -> "0". */
export function normalizeDecimal(value: string | null | undefined): string {
  if (value === null || value === undefined) return '0';
  return new Dec(value).toFixed();
}

/** An event as reported when its key is met again. */
export function storedUsage(e: UsageEvent): StoredUsage {
  return {
    id: e.id,
    customerId: e.customerId,
    featureKey: e.featureKey,
    quantity: normalizeDecimal(e.quantity),
    timestamp: e.timestamp,
    properties: e.properties,
  };
}
