import type { StoredUsage, UsageEvent, UsageQuery } from '../../server/ledger/meter/types';
import type { Aggregation } from '../../server/ledger/plan/types';
import { Dec, newId, type CustomerId } from '../../server/ledger/types';

/**
 * Usage events as the meter hands them to a store, and a brute-force reference of what
 * the store's aggregate() must answer, for the usage conformance suite.
 */

export const AGGREGATIONS: readonly Aggregation[] = ['sum', 'count', 'max', 'latest', 'unique_count'];

export type UsageEventInput = Partial<Omit<UsageEvent, 'timestamp'>> & { timestamp: Date | string };

/** An event as the meter hands it to a store. */
export function usageEvent(input: UsageEventInput): UsageEvent {
  const e = {
    id: newId('event'),
    idempotencyKey: `k-${Math.random().toString(36).slice(2, 12)}`,
    customerId: 'cst_default' as CustomerId,
    featureKey: 'api_calls',
    quantity: '1',
    properties: {},
    distinctValue: null,
    ...input,
    timestamp: new Date(input.timestamp),
  };
  return e;
}

/**
 * What aggregate() must answer, computed from the stored events in the order they were
 * stored (so `latest` breaks ties of timestamps by that order: the later one wins).
 */
export function bruteForce(stored: readonly UsageEvent[], q: UsageQuery): string {
  const rows = stored.filter(
    (e) =>
      e.customerId === q.customerId &&
      e.featureKey === q.featureKey &&
      e.timestamp.getTime() >= q.from.getTime() &&
      e.timestamp.getTime() < q.to.getTime(),
  );
  switch (q.aggregation) {
    case 'sum':
      return rows.reduce((a, e) => a.plus(e.quantity), new Dec(0)).toFixed();
    case 'count':
      return String(rows.length);
    case 'max':
      return rows.reduce((a, e) => Dec.max(a, e.quantity), new Dec(0)).toFixed();
    case 'latest': {
      let last: UsageEvent | null = null;
      for (const e of rows) if (!last || e.timestamp.getTime() >= last.timestamp.getTime()) last = e;
      return last ? new Dec(last.quantity).toFixed() : '0';
    }
    case 'unique_count':
      return String(new Set(rows.map((e) => e.distinctValue).filter((v) => v !== null)).size);
  }
}

/** A small seeded PRNG (mulberry32): the property tests are random, but reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a store reports for an event whose key it already holds: its id and payload. */
export function storedOf(e: UsageEvent): StoredUsage {
  return {
    id: e.id,
    customerId: e.customerId,
    featureKey: e.featureKey,
    quantity: new Dec(e.quantity).toFixed(),
    timestamp: e.timestamp,
    properties: e.properties,
  };
}
