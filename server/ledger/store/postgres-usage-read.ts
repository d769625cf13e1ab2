import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../../db/client';
import type { UsageQuery } from '../meter/types';
import type { Scope } from '../types';
import { rowsOf } from './rows';
import { inTransaction } from './transaction';
import { AMOUNT_PATTERN, splitRange, type MsRange } from './usage-shared';

/**
 * The usage read: every aggregate asked for, in one statement. Built as SQL text with
 * numbered parameters rather than through drizzle's query builder: this runs on every
 * entitlement miss and every invoice, and building drizzle's object graph for it cost
 * more CPU (~250 µs) than running it. Same text on PGlite and PostgreSQL.
 *
 * Whole UTC hours come from the rollups, the partial hours at the two edges from raw
 * events (through usage_events_series_ts_idx: the series hash, then the exact columns).
 */
export type RawQuery = (text: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

/**
 * Runs text with parameters on drizzle's own client: postgres.js or PGlite. Inside a
 * transaction of the store (a consumption limited by credits prices the period's usage
 * under its lock), through `db` instead, so the read joins it: the client would run it on
 * another connection (on PGlite, which has one, waiting for that very transaction).
 */
export function rawQueryOf(db: Database): RawQuery {
  const client = (db as unknown as { $client: Record<string, unknown> }).$client;
  const joined: RawQuery = async (text, params) => rowsOf<Record<string, unknown>>(await db.execute(numbered(text, params)));
  if (typeof client.unsafe === 'function') {
    const unsafe = client.unsafe as (t: string, p: unknown[], o: object) => Promise<Record<string, unknown>[]>;
    return (text, params) => (inTransaction(db) ? joined(text, params) : unsafe(text, params, { prepare: true }));
  }
  if (typeof client.query === 'function') {
    const query = client.query.bind(client) as (t: string, p: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>;
    return async (text, params) => (inTransaction(db) ? joined(text, params) : (await query(text, params)).rows);
  }
  throw new Error('usage reads need a postgres.js or PGlite client');
}

/** SQL text with numbered parameters ($1, $2 …) as drizzle SQL, so it runs through `db`. */
export function numbered(text: string, params: readonly unknown[]): SQL {
  const chunks: SQL[] = [];
  let last = 0;
  for (const m of text.matchAll(/\$(\d+)/g)) {
    chunks.push(sql.raw(text.slice(last, m.index)));
    chunks.push(sql`${params[Number(m[1]) - 1]}`);
    last = m.index + m[0].length;
  }
  chunks.push(sql.raw(text.slice(last)));
  return sql.join(chunks);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** `select (…) as v0, (…) as v1 …`: each aggregate a scalar subquery; null for an empty range. */
export function aggregateStatement(s: Scope, queries: readonly UsageQuery[]): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const p = (v: unknown) => `$${params.push(v)}`;
  // Every parameter must be used (PostgreSQL cannot type an unused one): the scope's are
  // added with the first non-empty range.
  let tenant = '';
  let app = '';
  const columns = queries.map((q, i) => {
    if (q.transactions) {
      if (!(q.from < q.to)) return `null as v${i}`;
      if (!tenant) {
        tenant = p(s.tenantId);
        app = p(s.appId);
      }
      return `(${transactionSum(q, tenant, app, p)}) as v${i}`;
    }
    const { hours, edges } = splitRange(q.from, q.to);
    if (!hours && edges.length === 0) return `null as v${i}`;
    if (!tenant) {
      tenant = p(s.tenantId);
      app = p(s.appId);
    }
    const customer = p(q.customerId);
    const feature = p(q.featureKey);
    const series = (x: string) => `${x}.tenant_id = ${tenant} and ${x}.app_id = ${app} and ${x}.customer_id = ${customer} and ${x}.feature_key = ${feature}`;
    const inHours = (x: string, h: MsRange) => `${series(x)} and ${x}.hour >= ${p(iso(h.from))}::timestamptz and ${x}.hour < ${p(iso(h.to))}::timestamptz`;
    const inEdge = (e: MsRange) =>
      `e.series = hashtextextended(${tenant} || '|' || ${app} || '|' || ${customer} || '|' || ${feature}, 0) and ${series('e')}` +
      ` and e.timestamp >= ${p(iso(e.from))}::timestamptz and e.timestamp < ${p(iso(e.to))}::timestamptz`;
    // The parts of the range, each a subquery over the same columns, glued with union all.
    const parts = (fromHours: (h: MsRange) => string, fromEdge: (e: MsRange) => string) =>
      [...(hours ? [fromHours(hours)] : []), ...edges.map(fromEdge)].map((x) => `(${x})`).join(' union all ');
    let query: string;
    switch (q.aggregation) {
      case 'sum':
        query = `select coalesce(sum(v), 0)::text from (${parts(
          (h) => `select r.sum as v from usage_rollups r where ${inHours('r', h)}`,
          (e) => `select e.quantity as v from usage_events e where ${inEdge(e)}`,
        )}) p`;
        break;
      case 'count':
        query = `select coalesce(sum(v), 0)::text from (${parts(
          (h) => `select r.count as v from usage_rollups r where ${inHours('r', h)}`,
          (e) => `select count(*) as v from usage_events e where ${inEdge(e)}`,
        )}) p`;
        break;
      case 'max':
        query = `select coalesce(max(v), 0)::text from (${parts(
          (h) => `select max(r.max) as v from usage_rollups r where ${inHours('r', h)}`,
          (e) => `select max(e.quantity) as v from usage_events e where ${inEdge(e)}`,
        )}) p`;
        break;
      case 'latest':
        // Each part yields its own latest row; the latest of those wins. Hours are
        // disjoint, so the last hour with usage holds the latest event of the hours.
        query = `select v::text from (${parts(
          (h) => `select r.latest_value as v, r.latest_at as at, r.latest_seq as seq from usage_rollups r where ${inHours('r', h)} order by r.hour desc limit 1`,
          (e) => `select e.quantity as v, e.timestamp as at, e.seq from usage_events e where ${inEdge(e)} order by e.timestamp desc, e.seq desc limit 1`,
        )}) p order by at desc, seq desc limit 1`;
        break;
      case 'unique_count':
        query = `select count(distinct v)::text from (${parts(
          (h) => `select d.value as v from usage_distinct d where ${inHours('d', h)}`,
          (e) => `select e.distinct_value as v from usage_events e where ${inEdge(e)} and e.distinct_value is not null`,
        )}) p`;
        break;
    }
    return `(${query}) as v${i}`;
  });
  return { text: `select ${columns.join(', ')}`, params };
}

/**
 * A percentage charge's per-event sum: Σ clamp(a × rate + fixed, min, max) over the raw
 * events of the window (through usage_events_series_ts_idx), exact in numeric. A null
 * min or max drops out: PostgreSQL's greatest and least ignore nulls. With free units,
 * the events are taken in order (timestamp, then seq: arrival) with their running
 * amount, and each is free, charged on the part above the free amount, or charged whole
 * (the memory store's transactionSum, step for step).
 */
function transactionSum(q: UsageQuery, tenant: string, app: string, p: (v: unknown) => string): string {
  const t = q.transactions!;
  const customer = p(q.customerId);
  const feature = p(q.featureKey);
  const prop = p(t.property);
  const amount = `case when e.properties ->> ${prop} ~ '${AMOUNT_PATTERN}' then (e.properties ->> ${prop})::numeric else 0 end`;
  const charge = (v: string) => `least(greatest(${v} * ${p(t.rate)}::numeric + ${p(t.fixed)}::numeric, ${p(t.min)}::numeric), ${p(t.max)}::numeric)`;
  const events =
    ` from usage_events e` +
    ` where e.series = hashtextextended(${tenant} || '|' || ${app} || '|' || ${customer} || '|' || ${feature}, 0)` +
    ` and e.tenant_id = ${tenant} and e.app_id = ${app} and e.customer_id = ${customer} and e.feature_key = ${feature}` +
    ` and e.timestamp >= ${p(iso(q.from.getTime()))}::timestamptz and e.timestamp < ${p(iso(q.to.getTime()))}::timestamptz`;
  const freeTransactions = t.freeTransactions ?? null;
  const freeAmount = t.freeAmount ?? null;
  if (freeTransactions === null && freeAmount === null) return `select coalesce(sum(${charge(amount)}), 0)::text${events}`;
  const n = p(freeTransactions);
  const fa = p(freeAmount);
  // v: the part of the transaction charged, null when it is free.
  const charged =
    `case when ${n}::bigint is not null and x.i > ${n}::bigint then x.a` +
    ` when ${fa}::numeric is null then null` +
    ` when ${fa}::numeric - x.before >= x.a then null` +
    ` when ${fa}::numeric - x.before > 0 then x.a - (${fa}::numeric - x.before)` +
    ` else x.a end`;
  return (
    `select coalesce(sum(${charge('c.v')}), 0)::text from (` +
    `select ${charged} as v from (` +
    `select y.a, row_number() over w as i, sum(y.a) over w - y.a as before from (select ${amount} as a, e.timestamp as ts, e.seq${events}) y` +
    ` window w as (order by y.ts, y.seq rows between unbounded preceding and current row)) x) c where c.v is not null`
  );
}
