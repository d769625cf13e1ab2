import type { Aggregation } from '../plan/types';
import { Dec } from '../types';
import type { UsageEvent } from './types';

/**
 * Aggregation of usage events in TypeScript, exactly as the stores aggregate in SQL:
 * - sum: the sum of quantities;
 * - count: the number of events;
 * - max: the greatest quantity ("0" with no events);
 * - latest: the quantity of the event with the latest timestamp (on a tie, the one that
 *   arrived last; "0" with no events);
 * - unique_count: the number of distinct values of the feature's counted property.
 * All arithmetic is decimal (Dec): quantities are exact decimal strings, never floats.
 *
 * These combine a stored aggregate with events the store has not seen yet (buffered in
 * this process), for entitlement checks that count usage metered a moment ago.
 */

/** The value a unique_count counts for an event: its resolved distinct value, or the property. */
export function distinctValueOf(event: UsageEvent, uniqueProperty?: string): string | null {
  if (event.distinctValue !== null) return event.distinctValue;
  if (!uniqueProperty) return null;
  const v = event.properties[uniqueProperty];
  return v === undefined || v === null ? null : String(v);
}

/** The aggregate of `events` alone, as an exact decimal string. */
export function aggregateEvents(events: readonly UsageEvent[], aggregation: Aggregation, uniqueProperty?: string): string {
  const tally = new UsageTally(aggregation, '0', uniqueProperty);
  for (const e of events) tally.add(e);
  return tally.value();
}

/**
 * A stored aggregate combined with events the store does not hold yet: sum and count
 * add, max takes the greatest, latest takes the event with the later timestamp (the
 * stored value counts as older than any event given, since the store only returns the
 * value), unique_count adds the distinct values of the events. For unique_count that is
 * an upper bound: a value may already be among the stored ones, and only the store can
 * tell (it is exact again once the events are stored).
 */
export function combineAggregate(
  aggregation: Aggregation,
  stored: string,
  events: readonly UsageEvent[],
  uniqueProperty?: string,
): string {
  const tally = new UsageTally(aggregation, stored, uniqueProperty);
  for (const e of events) tally.add(e);
  return tally.value();
}

/** The greater of two decimal strings. */
export function maxDecimal(a: string, b: string): string {
  return new Dec(a).gte(b) ? a : b;
}

/**
 * A running aggregate: a base (a stored aggregate) plus events added one by one, in
 * O(1) per event. `add` returns whether the value changed.
 */
export class UsageTally {
  #value: Dec;
  /** For latest: the timestamp of the value's event; the base counts as the oldest. */
  #latestAt = -Infinity;
  /** For unique_count: the distinct values added on top of the base. */
  #distinct: Set<string> | null = null;

  constructor(
    readonly aggregation: Aggregation,
    base: string,
    readonly uniqueProperty?: string,
  ) {
    this.#value = new Dec(base);
  }

  add(event: UsageEvent): boolean {
    switch (this.aggregation) {
      case 'sum': {
        const q = new Dec(event.quantity);
        if (q.isZero()) return false;
        this.#value = this.#value.plus(q);
        return true;
      }
      case 'count':
        this.#value = this.#value.plus(1);
        return true;
      case 'max': {
        const q = new Dec(event.quantity);
        if (q.lte(this.#value)) return false;
        this.#value = q;
        return true;
      }
      case 'latest': {
        const at = event.timestamp.getTime();
        if (at < this.#latestAt) return false;
        this.#latestAt = at;
        this.#value = new Dec(event.quantity);
        return true;
      }
      case 'unique_count': {
        const v = distinctValueOf(event, this.uniqueProperty);
        if (v === null) return false;
        this.#distinct ??= new Set();
        if (this.#distinct.has(v)) return false;
        this.#distinct.add(v);
        this.#value = this.#value.plus(1);
        return true;
      }
    }
  }

  /**
   * Whether events were added on top of the base of a latest or unique_count tally: then
   * the value is an estimate (a repeated value, an older reading) that only the stored
   * aggregate settles. Sums, counts and peaks are exact as added.
   */
  get estimated(): boolean {
    return this.#distinct !== null || this.#latestAt !== -Infinity;
  }

  /** The exact aggregate: "12.5". */
  value(): string {
    return this.#value.toFixed();
  }

  /** The aggregate as a number, for results (the only conversion to a float). */
  toNumber(): number {
    return this.#value.toNumber();
  }
}
