import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../../db/client';
import type { InsertUsageResult, UsageStore } from '../meter/store';
import type { StoredUsage, UsageQuery } from '../meter/types';
import type { Scope } from '../types';
import { dedupeBatch, MAX_EVENTS_PER_INSERT, normalizeDecimal, reportRepeats, splitRange, type MsRange } from './usage-shared';

/**
 * Usage on PostgreSQL (a server through postgres.js, or PGlite): the same SQL on both.
 *
 * Writes: one statement per batch. The batch travels as one JSON parameter, unpacked by
 * jsonb_to_recordset; data-modifying CTEs insert the events (a key already stored is
 * skipped by the primary key: that is the exactly-once guarantee), add the events that
 * were actually inserted to the hourly rollups, and record their distinct values. The
 * statement is atomic, so rollups never disagree with events.
 *
 * Locks are taken in a fixed order (events by key, rollups and distinct values by their
 * key), so concurrent batches that overlap wait for each other instead of deadlocking.
 *
 * Reads: the whole hours of a range come from the rollups, the partial hours at its two
 * edges from the raw events (through usage_events_series_ts_idx), in one query;
 * a month costs ~720 rollup rows plus at most two hours of events, however many events
 * the month holds.
 */

/** postgres-js returns the rows (an array); PGlite returns `{ rows }`. */
function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

const iso = (ms: number) => new Date(ms).toISOString();

const hasKeys = (o: object) => {
  for (const _ in o) return true;
  return false;
};

export function createPostgresUsageStore(db: Database): UsageStore {
  /** Rows of one customer's feature in one scope: the leading columns of every usage key. */
  const series = (alias: string, s: Scope, q: UsageQuery) =>
    sql`${sql.raw(alias)}.tenant_id = ${s.tenantId} and ${sql.raw(alias)}.app_id = ${s.appId}
        and ${sql.raw(alias)}.customer_id = ${q.customerId} and ${sql.raw(alias)}.feature_key = ${q.featureKey}`;

  const hoursWhere = (alias: string, s: Scope, q: UsageQuery, h: MsRange) =>
    sql`${series(alias, s, q)} and ${sql.raw(alias)}.hour >= ${iso(h.from)}::timestamptz and ${sql.raw(alias)}.hour < ${iso(h.to)}::timestamptz`;

  // Raw events are found through usage_events_series_ts_idx: the series hash first,
  // then the exact columns (see db/schema.ts).
  const edgeWhere = (s: Scope, q: UsageQuery, e: MsRange) =>
    sql`e.series = hashtextextended(${s.tenantId} || '|' || ${s.appId} || '|' || ${q.customerId} || '|' || ${q.featureKey}, 0)
        and ${series('e', s, q)} and e.timestamp >= ${iso(e.from)}::timestamptz and e.timestamp < ${iso(e.to)}::timestamptz`;

  /** The statement that yields one row with the aggregate as `v`; null for an empty range. */
  function aggregateQuery(s: Scope, q: UsageQuery): SQL | null {
    const { hours, edges } = splitRange(q.from, q.to);
    if (!hours && edges.length === 0) return null;

    // The parts of the range, each as a subquery over the same columns, glued with union all.
    const parts = (fromHours: ((h: MsRange) => SQL) | null, fromEdge: (e: MsRange) => SQL) =>
      sql.join(
        [...(hours && fromHours ? [fromHours(hours)] : []), ...edges.map(fromEdge)].map((p) => sql`(${p})`),
        sql` union all `,
      );

    let query: SQL;
    switch (q.aggregation) {
      case 'sum':
        query = sql`select coalesce(sum(v), 0)::text as v from (${parts(
          (h) => sql`select r.sum as v from usage_rollups r where ${hoursWhere('r', s, q, h)}`,
          (e) => sql`select e.quantity as v from usage_events e where ${edgeWhere(s, q, e)}`,
        )}) p`;
        break;
      case 'count':
        query = sql`select coalesce(sum(v), 0)::text as v from (${parts(
          (h) => sql`select r.count as v from usage_rollups r where ${hoursWhere('r', s, q, h)}`,
          (e) => sql`select count(*) as v from usage_events e where ${edgeWhere(s, q, e)}`,
        )}) p`;
        break;
      case 'max':
        query = sql`select coalesce(max(v), 0)::text as v from (${parts(
          (h) => sql`select max(r.max) as v from usage_rollups r where ${hoursWhere('r', s, q, h)}`,
          (e) => sql`select max(e.quantity) as v from usage_events e where ${edgeWhere(s, q, e)}`,
        )}) p`;
        break;
      case 'latest':
        // Each part yields its own latest row; the latest of those wins.
        query = sql`select v::text as v from (${parts(
          // Hours are disjoint, so the last hour with usage holds the latest event.
          (h) => sql`select r.latest_value as v, r.latest_at as at, r.latest_seq as seq from usage_rollups r
                      where ${hoursWhere('r', s, q, h)} order by r.hour desc limit 1`,
          (e) => sql`select e.quantity as v, e.timestamp as at, e.seq from usage_events e
                      where ${edgeWhere(s, q, e)} order by e.timestamp desc, e.seq desc limit 1`,
        )}) p order by at desc, seq desc limit 1`;
        break;
      case 'unique_count':
        query = sql`select count(distinct v)::text as v from (${parts(
          (h) => sql`select d.value as v from usage_distinct d where ${hoursWhere('d', s, q, h)}`,
          (e) => sql`select e.distinct_value as v from usage_events e
                      where ${edgeWhere(s, q, e)} and e.distinct_value is not null`,
        )}) p`;
        break;
    }
    return query;
  }

  return {
    async insertEvents(s, events) {
      const { unique, repeated } = dedupeBatch(events);
      const result: InsertUsageResult = { inserted: new Set(), existing: new Map() };
      if (unique.length === 0) return result;

      // Rows go in idempotency-key order, so that concurrent batches sharing keys lock
      // them in the same order and wait for each other instead of deadlocking; `ord`
      // keeps the arrival order for `seq`.
      const sorted = [...unique].sort((a, b) => (a.event.idempotencyKey < b.event.idempotencyKey ? -1 : 1));
      const batch = JSON.stringify(
        sorted.map(({ event: e, ord }) => ({
          ord,
          id: e.id,
          k: e.idempotencyKey,
          c: e.customerId,
          f: e.featureKey,
          q: e.quantity,
          ts: e.timestamp.toISOString(),
          // Left out when empty: the column default costs nothing, parsing '{}' per row does.
          p: hasKeys(e.properties) ? e.properties : undefined,
          d: e.distinctValue ?? undefined,
        })),
      );
      const anyDistinct = unique.some((u) => u.event.distinctValue !== null);
      // seq = (one value of usage_events_seq per batch) × MAX + position in the batch: a
      // later event of a batch, or any event of a later batch, has a greater seq.
      // The statement answers how many events it inserted: all of them, unless some keys
      // were already stored; then a second query reads the batch's keys back, and the
      // rows whose seq is this batch's are the ones it inserted.
      const [counted] = rowsOf<{ n: number; base: string }>(
        await db.execute(sql`
          with t as (
            select * from json_to_recordset(${batch}::json)
              as t(ord int, id text, k text, c text, f text, q numeric, ts timestamptz, p jsonb, d text)
          ),
          b as (select nextval('usage_events_seq') * ${sql.raw(String(MAX_EVENTS_PER_INSERT))} as base),
          ins as (
            insert into usage_events as u
              (tenant_id, app_id, id, idempotency_key, customer_id, feature_key, quantity, timestamp,
               properties, distinct_value, seq)
            select ${s.tenantId}, ${s.appId}, t.id, t.k, t.c, t.f, t.q, t.ts, coalesce(t.p, '{}'::jsonb), t.d, b.base + t.ord
              from t cross join b
            on conflict (tenant_id, app_id, idempotency_key) do nothing
            returning u.idempotency_key, u.customer_id, u.feature_key, u.quantity, u.timestamp, u.distinct_value, u.seq
          ),
          x as (
            select ins.*, date_bin('1 hour', ins.timestamp, timestamptz '2000-01-01 00:00:00+00') as hour from ins
          ),
          roll as (
            insert into usage_rollups as r
              (tenant_id, app_id, customer_id, feature_key, hour, sum, count, max, latest_value, latest_at, latest_seq)
            select ${s.tenantId}, ${s.appId}, x.customer_id, x.feature_key, x.hour,
                   sum(x.quantity), count(*), max(x.quantity),
                   (array_agg(x.quantity order by x.timestamp desc, x.seq desc))[1],
                   max(x.timestamp),
                   (array_agg(x.seq order by x.timestamp desc, x.seq desc))[1]
              from x
             group by x.customer_id, x.feature_key, x.hour
             order by x.customer_id, x.feature_key, x.hour
            on conflict (tenant_id, app_id, customer_id, feature_key, hour) do update set
              sum = r.sum + excluded.sum,
              count = r.count + excluded.count,
              max = greatest(r.max, excluded.max),
              latest_value = case when (excluded.latest_at, excluded.latest_seq) > (r.latest_at, r.latest_seq)
                                  then excluded.latest_value else r.latest_value end,
              latest_seq = case when (excluded.latest_at, excluded.latest_seq) > (r.latest_at, r.latest_seq)
                                then excluded.latest_seq else r.latest_seq end,
              latest_at = greatest(r.latest_at, excluded.latest_at)
          ),
          dist as (${
            anyDistinct
              ? sql`
            insert into usage_distinct (tenant_id, app_id, customer_id, feature_key, hour, value)
            select distinct ${s.tenantId}, ${s.appId}, x.customer_id, x.feature_key, x.hour, x.distinct_value
              from x
             where x.distinct_value is not null
             order by 3, 4, 5, 6
            on conflict do nothing`
              : sql`select 1` // no unique_count values in this batch
          })
          select count(*)::int as n, (select base from b)::text as base from ins
        `),
      );
      const { n, base } = counted!;
      if (n === unique.length) {
        for (const u of unique) result.inserted.add(u.event.idempotencyKey);
      } else {
        const keys = JSON.stringify(unique.map((u) => u.event.idempotencyKey));
        const rows = rowsOf<{ k: string; id: string; c: string; f: string; q: string; ts: string | Date; p: StoredUsage['properties']; seq: string }>(
          await db.execute(sql`
            select idempotency_key as k, id, customer_id as c, feature_key as f, quantity::text as q,
                   timestamp as ts, properties as p, seq::text as seq
              from usage_events
             where tenant_id = ${s.tenantId} and app_id = ${s.appId}
               and idempotency_key in (select json_array_elements_text(${keys}::json))
          `),
        );
        const from = BigInt(base);
        const to = from + BigInt(MAX_EVENTS_PER_INSERT);
        for (const r of rows) {
          const seq = BigInt(r.seq);
          if (seq >= from && seq < to) result.inserted.add(r.k);
          else {
            result.existing.set(r.k, {
              id: r.id,
              customerId: r.c as StoredUsage['customerId'],
              featureKey: r.f,
              quantity: normalizeDecimal(r.q),
              timestamp: new Date(r.ts),
              properties: r.p,
            });
          }
        }
      }
      return reportRepeats(result, unique, repeated);
    },

    async aggregate(s, q) {
      const query = aggregateQuery(s, q);
      if (!query) return '0';
      const [row] = rowsOf<{ v: string | null }>(await db.execute(query));
      return normalizeDecimal(row?.v);
    },

    async aggregateMany(s, queries) {
      if (queries.length === 0) return [];
      // One round trip: each aggregate as a scalar subquery of one select.
      const columns = queries.map((q, i) => {
        const query = aggregateQuery(s, q);
        return sql`${query ? sql`(${query})` : sql`null`} as ${sql.raw(`v${i}`)}`;
      });
      const [row] = rowsOf<Record<string, string | null>>(await db.execute(sql`select ${sql.join(columns, sql`, `)}`));
      return queries.map((_, i) => normalizeDecimal(row?.[`v${i}`]));
    },
  };
}
