import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bucketsOf, granularityFor, UsageReads } from '../../server/ledger/meter/series';
import type { UsageStore } from '../../server/ledger/meter/store';
import type { CustomerId, Scope } from '../../server/ledger/types';
import { otherAppOf, storeFactories, uniqueScope, useStore } from '../support/stores';
import { usageEvent } from '../support/usage';

/**
 * The usage series behind the portal's chart: a feature's usage in UTC calendar buckets,
 * read with one aggregateMany call, on every store. A period from Mar 10 14:30 UTC to
 * Mar 13 09:00 UTC has four day buckets: Mar 10 (from 14:30), Mar 11, Mar 12, Mar 13
 * (to 09:00).
 */
const C = 'cst_series_test' as CustomerId;
const F = 'api_calls';
const FROM = new Date('2025-03-10T14:30:00.000Z');
const TO = new Date('2025-03-13T09:00:00.000Z');
const iso = (d: Date) => d.toISOString();

describe('bucket sizes (pure)', () => {
  it('a 31-day month is 31 or 32 day buckets; 62 whole days stay daily, more become weeks, a year becomes months', () => {
    expect(granularityFor(new Date('2026-01-15T10:00:00Z'), new Date('2026-02-15T10:00:00Z'))).toBe('day');
    expect(bucketsOf(new Date('2026-01-15T10:00:00Z'), new Date('2026-02-15T10:00:00Z'), 'day')).toHaveLength(32);
    expect(granularityFor(new Date('2026-01-01T00:00:00Z'), new Date('2026-03-04T00:00:00Z'))).toBe('day'); // 62 days
    expect(granularityFor(new Date('2026-01-01T00:00:00Z'), new Date('2026-03-05T00:00:00Z'))).toBe('week'); // 63 days
    expect(granularityFor(new Date('2026-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'))).toBe('week'); // 53 ISO weeks
    expect(granularityFor(new Date('2026-01-01T00:00:00Z'), new Date('2028-01-01T00:00:00Z'))).toBe('month');
  });

  it('weeks start on Monday 00:00 UTC and months on the 1st; the edge buckets are cut to the range', () => {
    // 2026-01-01 is a Thursday: its week began Monday Dec 29.
    const weeks = bucketsOf(new Date('2026-01-01T12:00:00Z'), new Date('2026-01-20T00:00:00Z'), 'week');
    expect(weeks.map((b) => [iso(b.start), iso(b.from), iso(b.to)])).toEqual([
      ['2025-12-29T00:00:00.000Z', '2026-01-01T12:00:00.000Z', '2026-01-05T00:00:00.000Z'],
      ['2026-01-05T00:00:00.000Z', '2026-01-05T00:00:00.000Z', '2026-01-12T00:00:00.000Z'],
      ['2026-01-12T00:00:00.000Z', '2026-01-12T00:00:00.000Z', '2026-01-19T00:00:00.000Z'],
      ['2026-01-19T00:00:00.000Z', '2026-01-19T00:00:00.000Z', '2026-01-20T00:00:00.000Z'],
    ]);
    const months = bucketsOf(new Date('2026-01-31T00:00:00Z'), new Date('2026-03-15T00:00:00Z'), 'month');
    expect(months.map((b) => iso(b.start))).toEqual(['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']);
  });
});

describe.each(storeFactories())('$name store: usage series', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let s: Scope;
  beforeEach(async () => {
    s = uniqueScope();
    await store().usage.insertEvents(s, [
      usageEvent({ customerId: C, featureKey: F, quantity: '5', timestamp: '2025-03-10T14:00:00.000Z' }), // before the range
      usageEvent({ customerId: C, featureKey: F, quantity: '2', timestamp: '2025-03-10T14:30:00.000Z' }), // at from: in
      usageEvent({ customerId: C, featureKey: F, quantity: '3', timestamp: '2025-03-10T23:59:59.999Z' }),
      usageEvent({ customerId: C, featureKey: F, quantity: '7', timestamp: '2025-03-11T00:00:00.000Z' }), // midnight: the next day
      usageEvent({ customerId: C, featureKey: F, quantity: '0.5', timestamp: '2025-03-11T18:20:00.000Z' }),
      usageEvent({ customerId: C, featureKey: F, quantity: '4', timestamp: '2025-03-13T08:59:00.000Z' }),
      usageEvent({ customerId: C, featureKey: F, quantity: '100', timestamp: '2025-03-13T09:00:00.000Z' }), // at to: out
      usageEvent({ customerId: C, featureKey: 'storage', quantity: '9', timestamp: '2025-03-12T10:00:00.000Z' }), // another feature
    ]);
  });

  const series = (q: Partial<Parameters<UsageReads['series']>[1]> = {}, scope: Scope = s) =>
    new UsageReads(store().usage).series(scope, { customerId: C, featureKey: F, aggregation: 'sum', from: FROM, to: TO, ...q });

  it('sums per UTC day within [from, to): 5, 7.5, 0, 4 — and the days add up to the period total, 16.5', async () => {
    const r = await series();
    expect(r.granularity).toBe('day');
    expect(r.buckets.map((b) => [iso(b.start), iso(b.from), iso(b.to), b.value])).toEqual([
      ['2025-03-10T00:00:00.000Z', '2025-03-10T14:30:00.000Z', '2025-03-11T00:00:00.000Z', '5'],
      ['2025-03-11T00:00:00.000Z', '2025-03-11T00:00:00.000Z', '2025-03-12T00:00:00.000Z', '7.5'],
      ['2025-03-12T00:00:00.000Z', '2025-03-12T00:00:00.000Z', '2025-03-13T00:00:00.000Z', '0'],
      ['2025-03-13T00:00:00.000Z', '2025-03-13T00:00:00.000Z', '2025-03-13T09:00:00.000Z', '4'],
    ]);
    expect(await store().usage.aggregate(s, { customerId: C, featureKey: F, aggregation: 'sum', from: FROM, to: TO })).toBe('16.5');
  });

  it('count and max per day follow the feature aggregation: counts 2, 2, 0, 1; peaks 3, 7, 0, 4', async () => {
    expect((await series({ aggregation: 'count' })).buckets.map((b) => b.value)).toEqual(['2', '2', '0', '1']);
    expect((await series({ aggregation: 'max' })).buckets.map((b) => b.value)).toEqual(['3', '7', '0', '4']);
  });

  it('asOf: days from then on are null (not read yet), the day it cuts is read up to it', async () => {
    const r = await series({ asOf: new Date('2025-03-11T12:00:00.000Z') });
    expect(r.buckets.map((b) => b.value)).toEqual(['5', '7', null, null]);
  });

  it('reads every bucket in one aggregateMany call, and never calls aggregate one by one', async () => {
    const calls: number[] = [];
    const real = store().usage;
    const counting: UsageStore = {
      insertEvents: (sc, e) => real.insertEvents(sc, e),
      aggregate: () => Promise.reject(new Error('one aggregateMany, not aggregate per bucket')),
      aggregateMany: (sc, qs) => (calls.push(qs.length), real.aggregateMany(sc, qs)),
    };
    const r = await new UsageReads(counting).series(s, { customerId: C, featureKey: F, aggregation: 'sum', from: FROM, to: TO });
    expect(r.buckets.map((b) => b.value)).toEqual(['5', '7.5', '0', '4']);
    expect(calls).toEqual([4]);
  });

  it('another scope (another app of the same tenant) sees none of it', async () => {
    const r = await series({}, otherAppOf(s));
    expect(r.buckets.map((b) => b.value)).toEqual(['0', '0', '0', '0']);
  });

  it('a yearly range comes back as weekly buckets whose sums still add up to the total', async () => {
    const r = await series({ from: new Date('2025-01-01T00:00:00.000Z'), to: new Date('2026-01-01T00:00:00.000Z') });
    expect(r.granularity).toBe('week');
    expect(r.buckets.length).toBeLessThanOrEqual(62);
    // Mon Mar 10 begins a week: 5 + 2 + 3 + 7 + 0.5 + 4 + 100 (all in that week).
    const week = r.buckets.find((b) => iso(b.start) === '2025-03-10T00:00:00.000Z');
    expect(week?.value).toBe('121.5');
    expect(r.buckets.filter((b) => b.value !== '0')).toHaveLength(1);
  });

  it('refuses an empty or reversed range', async () => {
    await expect(series({ from: TO, to: FROM })).rejects.toThrow(/from < to/);
  });
});
