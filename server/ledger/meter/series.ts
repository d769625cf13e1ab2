import type { Aggregation } from '../plan/types';
import { invalid, type CustomerId, type Scope } from '../types';
import type { UsageStore } from './store';

/**
 * A customer's usage of one feature over a range, in calendar buckets (UTC): what the
 * portal's usage chart draws. Each bucket is the feature's aggregation over that bucket
 * alone (a day's sum, a day's peak, a day's distinct users), so for sum and count the
 * buckets add up to the range's total, and for the others they do not (the period's
 * figure comes from one aggregate over the whole range).
 *
 * All buckets are read with ONE `aggregateMany` call: one statement on PostgreSQL and
 * PGlite, whatever the store. The bucket size grows with the range so a statement never
 * holds more than ~62 subqueries: days up to 62 days, ISO weeks (from Monday) up to 62
 * weeks, calendar months beyond (a yearly plan is 12 bars, a 3-year plan 36).
 */
export type SeriesGranularity = 'day' | 'week' | 'month';

export interface SeriesQuery {
  customerId: CustomerId;
  featureKey: string;
  aggregation: Aggregation;
  /** Half-open [from, to). */
  from: Date;
  to: Date;
  /**
   * Buckets from here on are not read (their value is null): the future of a current
   * period. A bucket that `asOf` cuts is read up to `asOf`.
   */
  asOf?: Date;
}

export interface SeriesBucket {
  /** The bucket's UTC calendar start, which may lie before the range's `from` … */
  start: Date;
  end: Date;
  /** … and the part of the range it covers, half-open (what was aggregated). */
  from: Date;
  to: Date;
  /** Exact decimal string; null for a bucket not reached yet (at or after `asOf`). */
  value: string | null;
}

export interface UsageSeries {
  granularity: SeriesGranularity;
  buckets: SeriesBucket[];
}

const DAY_MS = 86_400_000;
/** The most buckets of one size before the next larger size is used. */
export const MAX_BUCKETS = 62;
/** The longest range a series answers (a 36-month plan period, with room). */
const MAX_RANGE_MS = 40 * 31 * DAY_MS;

/** The granularity a range is drawn at: as fine as fits in MAX_BUCKETS. */
export function granularityFor(from: Date, to: Date): SeriesGranularity {
  if (bucketCount(from, to, 'day') <= MAX_BUCKETS) return 'day';
  if (bucketCount(from, to, 'week') <= MAX_BUCKETS) return 'week';
  return 'month';
}

/** The UTC calendar bucket holding `t`: its day, its ISO week (from Monday 00:00 UTC) or its month. */
export function bucketStart(t: Date, g: SeriesGranularity): Date {
  const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), g === 'month' ? 1 : t.getUTCDate()));
  if (g === 'week') d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d;
}

function nextBucket(start: Date, g: SeriesGranularity): Date {
  const d = new Date(start);
  if (g === 'day') d.setUTCDate(d.getUTCDate() + 1);
  else if (g === 'week') d.setUTCDate(d.getUTCDate() + 7);
  else d.setUTCMonth(d.getUTCMonth() + 1);
  return d;
}

function bucketCount(from: Date, to: Date, g: SeriesGranularity): number {
  let n = 0;
  for (let b = bucketStart(from, g); b < to && n <= MAX_BUCKETS + 1; b = nextBucket(b, g)) n++;
  return n;
}

/** The buckets of [from, to) at a granularity, each with the part of the range it covers. */
export function bucketsOf(from: Date, to: Date, g: SeriesGranularity): Omit<SeriesBucket, 'value'>[] {
  const out: Omit<SeriesBucket, 'value'>[] = [];
  for (let start = bucketStart(from, g); start < to; ) {
    const end = nextBucket(start, g);
    out.push({ start, end, from: start < from ? from : start, to: end > to ? to : end });
    start = end;
  }
  return out;
}

/** Usage series read from the usage store's rollups (no raw scan of whole days). */
export class UsageReads {
  constructor(private readonly usage: UsageStore) {}

  /** The feature's usage over [from, to) in UTC day (or week, or month) buckets; one store round trip. */
  async series(scope: Scope, q: SeriesQuery): Promise<UsageSeries> {
    if (!(q.from < q.to)) throw invalid('a usage series needs from < to', [{ path: 'to', message: 'must be after from' }]);
    if (q.to.getTime() - q.from.getTime() > MAX_RANGE_MS) throw invalid('a usage series covers at most 40 months', [{ path: 'to', message: 'range too long' }]);
    const granularity = granularityFor(q.from, q.to);
    const buckets = bucketsOf(q.from, q.to, granularity);
    const asOf = q.asOf ?? null;
    // Only the buckets begun by asOf are read; a bucket it cuts is read up to it.
    const read = buckets
      .map((b, i) => ({ i, from: b.from, to: asOf && asOf < b.to ? asOf : b.to }))
      .filter((r) => r.from < r.to);
    const values = read.length
      ? await this.usage.aggregateMany(
          scope,
          read.map((r) => ({ customerId: q.customerId, featureKey: q.featureKey, aggregation: q.aggregation, from: r.from, to: r.to })),
        )
      : [];
    const byIndex = new Map(read.map((r, k) => [r.i, values[k] ?? '0']));
    return { granularity, buckets: buckets.map((b, i) => ({ ...b, value: byIndex.get(i) ?? null })) };
  }
}
