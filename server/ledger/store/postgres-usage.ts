import { sql } from 'drizzle-orm';
import type { Database } from '../../../db/client';
import type { InsertUsageResult, UsageStore } from '../meter/store';
import type { StoredUsage, UsageEvent } from '../meter/types';
import { aggregateStatement, rawQueryOf } from './postgres-usage-read';
import { dedupeBatch, MAX_EVENTS_PER_INSERT, normalizeDecimal, reportRepeats } from './usage-shared';
import { rowsOf } from './rows';

/**
 * Usage on PostgreSQL (a server through postgres.js, or PGlite): the same SQL on both.
 *
 * Writes: one statement per batch. The batch travels as one JSON parameter, unpacked by
 * json_to_recordset; data-modifying CTEs insert the events (a key already stored is
 * skipped by the primary key: that is the exactly-once guarantee), add the events that
 * were actually inserted to the hourly rollups, and record their distinct values. The
 * statement is atomic, so rollups never disagree with events.
 *
 * Locks are taken in a fixed order (events by key, rollups and distinct values by their
 * key), so concurrent batches that overlap wait for each other instead of deadlocking.
 *
 * Reads: the whole hours of a range come from the rollups, the partial hours at its two
 * edges from the raw events (postgres-usage-read.ts), in one query for all features;
 * a month costs ~720 rollup rows plus at most two hours of events, however many events
 * the month holds.
 */

const iso = (ms: number) => new Date(ms).toISOString();

const hasKeys = (o: object) => {
  for (const _ in o) return true;
  return false;
};

export function createPostgresUsageStore(db: Database): UsageStore {
  const raw = rawQueryOf(db);
  const aggregateMany: UsageStore['aggregateMany'] = async (s, queries) => {
    if (queries.length === 0) return [];
    const { text, params } = aggregateStatement(s, queries);
    const [row] = await raw(text, params);
    return queries.map((_, i) => normalizeDecimal(row?.[`v${i}`] as string | null | undefined));
  };

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
      return (await aggregateMany(s, [q]))[0]!;
    },
    aggregateMany,

    // A custom aggregator's read: every raw event of the window, through the series index.
    async eventsIn(s, w) {
      const rows = await raw(
        `select id, idempotency_key as k, quantity::text as q, floor(extract(epoch from "timestamp") * 1000)::bigint::text as ms,
                properties as p, distinct_value as d
           from usage_events
          where series = hashtextextended($1 || '|' || $2 || '|' || $3 || '|' || $4, 0)
            and tenant_id = $1 and app_id = $2 and customer_id = $3 and feature_key = $4
            and "timestamp" >= $5 and "timestamp" < $6
          order by "timestamp", seq`,
        [s.tenantId, s.appId, w.customerId, w.featureKey, w.from.toISOString(), w.to.toISOString()],
      );
      return rows.map(
        (r): UsageEvent => ({
          id: r.id as UsageEvent['id'],
          idempotencyKey: r.k as string,
          customerId: w.customerId,
          featureKey: w.featureKey,
          quantity: normalizeDecimal(r.q as string),
          timestamp: new Date(Number(r.ms)),
          properties: (typeof r.p === 'string' ? JSON.parse(r.p) : r.p) as UsageEvent['properties'],
          distinctValue: (r.d as string | null) ?? null,
        }),
      );
    },
  };
}
