import type { InsertUsageResult, UsageStore } from '../meter/store';
import type { UsageEvent } from '../meter/types';
import { Dec, scopeKey, type Scope } from '../types';
import { AMOUNT_PATTERN, dedupeBatch, normalizeDecimal, reportRepeats, storedUsage } from './usage-shared';
import type { TransactionTerms } from '../plan/pricing';

/**
 * Usage in memory: the reference the SQL store is tested against. Events are kept per
 * scope, unique by idempotency key, and aggregated by scanning the raw events of the
 * customer and feature, so the answers are correct by construction (not fast).
 */
interface StoredEvent {
  event: UsageEvent;
  /** Insertion order: breaks ties of `latest` between events with the same timestamp. */
  seq: number;
}

/** The memory usage store, and a way to delete customers' usage (a test clock's deletion). */
export function createMemoryUsageStore(): UsageStore & { forgetCustomers(scope: Scope, ids: ReadonlySet<string>): void } {
  const byScope = new Map<string, { byKey: Map<string, StoredEvent>; bySeries: Map<string, StoredEvent[]> }>();
  let seq = 0;

  const tables = (scope: Scope) => {
    const k = scopeKey(scope);
    let t = byScope.get(k);
    if (!t) byScope.set(k, (t = { byKey: new Map(), bySeries: new Map() }));
    return t;
  };
  const seriesKey = (customerId: string, featureKey: string) => `${customerId}\u0000${featureKey}`;

  return {
    forgetCustomers(scope, ids) {
      const t = tables(scope);
      for (const [k, row] of t.byKey) if (ids.has(row.event.customerId)) t.byKey.delete(k);
      for (const [k, rows] of t.bySeries) if (ids.has(rows[0]?.event.customerId ?? '')) t.bySeries.delete(k);
    },
    async insertEvents(scope, events) {
      // Synchronous from here on: a batch is stored whole, never interleaved with another.
      const { unique, repeated } = dedupeBatch(events);
      const t = tables(scope);
      const result: InsertUsageResult = { inserted: new Set(), existing: new Map() };
      for (const { event } of unique) {
        const stored = t.byKey.get(event.idempotencyKey);
        if (stored) {
          result.existing.set(event.idempotencyKey, storedUsage(stored.event));
          continue;
        }
        const row: StoredEvent = {
          event: { ...structuredClone(event), quantity: normalizeDecimal(event.quantity) },
          seq: ++seq,
        };
        t.byKey.set(event.idempotencyKey, row);
        const sk = seriesKey(event.customerId, event.featureKey);
        let series = t.bySeries.get(sk);
        if (!series) t.bySeries.set(sk, (series = []));
        series.push(row);
        result.inserted.add(event.idempotencyKey);
      }
      return reportRepeats(result, unique, repeated);
    },

    async eventsIn(scope, w) {
      const from = w.from.getTime();
      const to = w.to.getTime();
      return (tables(scope).bySeries.get(seriesKey(w.customerId, w.featureKey)) ?? [])
        .filter((r) => r.event.timestamp.getTime() >= from && r.event.timestamp.getTime() < to)
        .sort((a, b) => a.event.timestamp.getTime() - b.event.timestamp.getTime() || a.seq - b.seq)
        .map((r) => structuredClone(r.event));
    },

    async aggregateMany(scope, queries) {
      return Promise.all(queries.map((q) => this.aggregate(scope, q)));
    },

    async aggregate(scope, q) {
      const from = q.from.getTime();
      const to = q.to.getTime();
      const rows = (tables(scope).bySeries.get(seriesKey(q.customerId, q.featureKey)) ?? []).filter((r) => {
        const at = r.event.timestamp.getTime();
        return at >= from && at < to;
      });
      if (q.transactions) {
        // In the period's order of transactions (timestamp, then arrival), as free units count them.
        const ordered = [...rows].sort((a, b) => a.event.timestamp.getTime() - b.event.timestamp.getTime() || a.seq - b.seq);
        return transactionSum(ordered.map((r) => r.event), q.transactions);
      }
      switch (q.aggregation) {
        case 'sum':
          return rows.reduce((acc, r) => acc.plus(r.event.quantity), new Dec(0)).toFixed();
        case 'count':
          return String(rows.length);
        case 'max':
          return rows.reduce((acc, r) => Dec.max(acc, r.event.quantity), new Dec(0)).toFixed();
        case 'latest': {
          let last: StoredEvent | null = null;
          for (const r of rows) {
            const at = r.event.timestamp.getTime();
            const lastAt = last?.event.timestamp.getTime() ?? -Infinity;
            if (at > lastAt || (at === lastAt && r.seq > last!.seq)) last = r;
          }
          return normalizeDecimal(last?.event.quantity);
        }
        case 'unique_count':
          return String(new Set(rows.flatMap((r) => (r.event.distinctValue === null ? [] : [r.event.distinctValue]))).size);
      }
    },
  };
}

const amountPattern = new RegExp(AMOUNT_PATTERN);

/**
 * An event's amount as the SQL store reads it: the property's text (a number as JSON
 * writes it, as jsonb gives it back), if it is a non-negative decimal; else 0.
 */
function amountOf(e: UsageEvent, property: string): Dec {
  const v = Object.hasOwn(e.properties, property) ? e.properties[property] : undefined;
  const text = typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? new Dec(JSON.stringify(v)).toFixed() : null;
  return text !== null && amountPattern.test(text) ? new Dec(text) : new Dec(0);
}

/**
 * Σ clamp(a × rate + fixed, min, max) over the events, in order: the SQL store's
 * transactionSum. With free units, a transaction among the first freeTransactions (when
 * set) is free while the running amount stays within freeAmount (when set); the one
 * that crosses freeAmount is charged on the part above it; any later one in full.
 */
function transactionSum(events: readonly UsageEvent[], t: TransactionTerms): string {
  const rate = new Dec(t.rate);
  const fixed = new Dec(t.fixed);
  const freeN = t.freeTransactions == null ? null : new Dec(t.freeTransactions);
  const freeAmount = t.freeAmount == null ? null : new Dec(t.freeAmount);
  const anyFree = freeN !== null || freeAmount !== null;
  let total = new Dec(0);
  let before = new Dec(0);
  let i = 0;
  for (const e of events) {
    const a = amountOf(e, t.property);
    i += 1;
    let charged: Dec | null = a; // null: free
    if (anyFree && !(freeN !== null && freeN.lt(i))) {
      if (freeAmount === null) charged = null;
      else {
        const left = freeAmount.minus(before);
        if (left.gte(a)) charged = null;
        else if (left.gt(0)) charged = a.minus(left);
      }
    }
    before = before.plus(a);
    if (charged === null) continue;
    let charge = charged.times(rate).plus(fixed);
    if (t.min !== null) charge = Dec.max(charge, t.min);
    if (t.max !== null) charge = Dec.min(charge, t.max);
    total = total.plus(charge);
  }
  return total.toFixed();
}
