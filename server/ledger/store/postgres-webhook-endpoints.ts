import { and, asc, desc, eq, gte, isNotNull, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Database } from '../../../db/client';
import { events, webhookAttempts, webhookDeliveries, webhookEndpoints } from '../../../db/schema';
import type { EventType } from '../events/types';
import type { Scope } from '../types';
import { scopeKey } from '../types';
import {
  receives,
  type ClaimedDelivery,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEndpointRecord,
  type WebhookOutStore,
} from '../webhooks-out/types';
import { rowsOf } from './rows';
import { toEvent } from './postgres-events';

type Scoped = { tenantId: PgColumn; appId: PgColumn };
const inScope = (t: Scoped, s: Scope, ...more: (SQL | undefined)[]) => and(eq(t.tenantId, s.tenantId), eq(t.appId, s.appId), ...more)!;

/** Instants into raw SQL as ISO text, cast there: the same on postgres.js and PGlite. */
const tsParam = (d: Date) => sql`${d.toISOString()}::timestamptz`;

const toEndpoint = (r: typeof webhookEndpoints.$inferSelect): WebhookEndpointRecord => ({
  id: r.id,
  url: r.url,
  description: r.description,
  eventTypes: (r.eventTypes as EventType[] | null) ?? null,
  enabled: r.enabled,
  disabledReason: (r.disabledReason as WebhookEndpointRecord['disabledReason']) ?? null,
  failingSince: r.failingSince,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  secret: r.secret,
  previousSecret: r.previousSecret,
  previousSecretExpiresAt: r.previousSecretExpiresAt,
});

const toDelivery = (r: typeof webhookDeliveries.$inferSelect): WebhookDelivery => ({
  id: r.id,
  endpointId: r.endpointId,
  eventId: r.eventId,
  eventType: r.eventType,
  payload: r.payload,
  status: r.status,
  attempts: r.attempts,
  retryStep: r.retryStep,
  nextAttemptAt: r.nextAttemptAt,
  lockedUntil: r.lockedUntil,
  lastAttemptAt: r.lastAttemptAt,
  lastResponseCode: r.lastResponseCode,
  createdAt: r.createdAt,
});

const toAttempt = (r: typeof webhookAttempts.$inferSelect): WebhookAttempt => ({
  id: r.id,
  deliveryId: r.deliveryId,
  endpointId: r.endpointId,
  eventType: r.eventType,
  status: r.status,
  responseCode: r.responseCode,
  latencyMs: r.latencyMs,
  responseBody: r.responseBody,
  error: r.error,
  attemptedAt: r.attemptedAt,
});

/** A claimed message and its endpoint, as the claim's raw statement answers them. */
interface ClaimRow {
  tenant_id: string;
  app_id: string;
  id: string;
  endpoint_id: string;
  event_id: string | null;
  event_type: string;
  payload: string;
  status: WebhookDelivery['status'];
  attempts: number;
  retry_step: number;
  next_attempt_at: string | Date | null;
  locked_until: string | Date | null;
  last_attempt_at: string | Date | null;
  last_response_code: number | null;
  created_at: string | Date;
  e_url: string;
  e_description: string;
  e_event_types: string[] | string | null;
  e_enabled: boolean;
  e_disabled_reason: string | null;
  e_secret: string;
  e_previous_secret: string | null;
  e_previous_secret_expires_at: string | Date | null;
  e_failing_since: string | Date | null;
  e_created_at: string | Date;
  e_updated_at: string | Date;
}

/** Raw statements answer timestamps as text on postgres.js (drizzle's parsers) and as Dates on PGlite. */
const date = (v: string | Date) => (v instanceof Date ? v : new Date(v));
const dateOrNull = (v: string | Date | null) => (v === null ? null : date(v));

function fromClaimRow(r: ClaimRow): ClaimedDelivery {
  const types = typeof r.e_event_types === 'string' ? (JSON.parse(r.e_event_types) as string[] | null) : r.e_event_types;
  return {
    scope: { tenantId: r.tenant_id, appId: r.app_id },
    delivery: {
      id: r.id,
      endpointId: r.endpoint_id,
      eventId: r.event_id,
      eventType: r.event_type,
      payload: r.payload,
      status: r.status,
      attempts: Number(r.attempts),
      retryStep: Number(r.retry_step),
      nextAttemptAt: dateOrNull(r.next_attempt_at),
      lockedUntil: dateOrNull(r.locked_until),
      lastAttemptAt: dateOrNull(r.last_attempt_at),
      lastResponseCode: r.last_response_code === null ? null : Number(r.last_response_code),
      createdAt: date(r.created_at),
    },
    endpoint: {
      id: r.endpoint_id,
      url: r.e_url,
      description: r.e_description,
      eventTypes: (types as EventType[] | null) ?? null,
      enabled: r.e_enabled,
      disabledReason: (r.e_disabled_reason as WebhookEndpointRecord['disabledReason']) ?? null,
      failingSince: dateOrNull(r.e_failing_since),
      createdAt: date(r.e_created_at),
      updatedAt: date(r.e_updated_at),
      secret: r.e_secret,
      previousSecret: r.e_previous_secret,
      previousSecretExpiresAt: dateOrNull(r.e_previous_secret_expires_at),
    },
  };
}

/** An ISO instant, or null, for a JSON row (cast by the statement). */
const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * Outbound webhooks on PostgreSQL/PGlite. The worker's reads cross tenants (undispatched
 * events, due messages) by their own partial indexes; every write names its row's scope.
 * Its transactions are its own (`db.transaction`): none of its queries runs inside a
 * change's `store.atomic`.
 */
export function createPostgresWebhookOutStore(db: Database): WebhookOutStore {
  return {
    async insertEndpoint(s, e) {
      await db.insert(webhookEndpoints).values({ ...s, ...e });
    },
    async getEndpoint(s, id) {
      const [r] = await db.select().from(webhookEndpoints).where(inScope(webhookEndpoints, s, eq(webhookEndpoints.id, id)));
      return r ? toEndpoint(r) : null;
    },
    async listEndpoints(s) {
      const rows = await db.select().from(webhookEndpoints).where(inScope(webhookEndpoints, s)).orderBy(asc(webhookEndpoints.id));
      return rows.map(toEndpoint);
    },
    async updateEndpoint(s, e) {
      const { id, createdAt: _c, ...rest } = e;
      const done = await db
        .update(webhookEndpoints)
        .set(rest)
        .where(inScope(webhookEndpoints, s, eq(webhookEndpoints.id, id)))
        .returning({ id: webhookEndpoints.id });
      return done.length > 0;
    },
    async deleteEndpoint(s, id) {
      return db.transaction(async (tx) => {
        await tx.delete(webhookAttempts).where(inScope(webhookAttempts, s, eq(webhookAttempts.endpointId, id)));
        await tx.delete(webhookDeliveries).where(inScope(webhookDeliveries, s, eq(webhookDeliveries.endpointId, id)));
        const gone = await tx.delete(webhookEndpoints).where(inScope(webhookEndpoints, s, eq(webhookEndpoints.id, id))).returning({ id: webhookEndpoints.id });
        return gone.length > 0;
      });
    },
    async disableEndpoint(s, id, reason, at) {
      const done = await db
        .update(webhookEndpoints)
        .set({ enabled: false, disabledReason: reason, updatedAt: at })
        .where(inScope(webhookEndpoints, s, eq(webhookEndpoints.id, id), eq(webhookEndpoints.enabled, true)))
        .returning({ id: webhookEndpoints.id });
      return done.length > 0;
    },
    async fanOut(limit, at, makeDelivery) {
      return db.transaction(async (tx) => {
        // Other instances skip the rows locked here and take the next ones.
        const batch = await tx
          .select()
          .from(events)
          .where(isNull(events.dispatchedAt))
          .orderBy(asc(events.createdAt), asc(events.id))
          .limit(limit)
          .for('update', { skipLocked: true });
        if (batch.length === 0) return { events: 0, deliveries: 0, leased: [] };
        const scopes = new Map<string, Scope>();
        for (const e of batch) scopes.set(scopeKey(e), { tenantId: e.tenantId, appId: e.appId });
        const endpoints = await tx
          .select()
          .from(webhookEndpoints)
          .where(
            and(
              eq(webhookEndpoints.enabled, true),
              or(...[...scopes.values()].map((s) => and(eq(webhookEndpoints.tenantId, s.tenantId), eq(webhookEndpoints.appId, s.appId)))),
            ),
          );
        const byScope = new Map<string, WebhookEndpointRecord[]>();
        for (const r of endpoints) {
          const k = scopeKey(r);
          byScope.set(k, [...(byScope.get(k) ?? []), toEndpoint(r)]);
        }
        // The statement's rows: every event of the batch once (to mark it dispatched), with
        // its body once however many endpoints take it, and a message per event and endpoint
        // naming its event by number. The body is not repeated per message in the JSON.
        const eventRows: { n: number; tenant_id: string; app_id: string; id: string; type: string; payload: string | null }[] = [];
        const messageRows: { n: number; id: string; endpoint_id: string; next_attempt_at: string | null; locked_until: string | null; created_at: string }[] = [];
        const made = new Map<string, ClaimedDelivery>();
        for (const r of batch) {
          const event = toEvent(r);
          const row: (typeof eventRows)[number] = { n: eventRows.length, tenant_id: r.tenantId, app_id: r.appId, id: r.id, type: r.type, payload: null };
          eventRows.push(row);
          for (const endpoint of byScope.get(scopeKey(r)) ?? []) {
            if (!receives(endpoint, event)) continue;
            const scope = { tenantId: r.tenantId, appId: r.appId };
            const delivery = makeDelivery(event, endpoint, scope);
            // The same body for every endpoint (the worker serializes an event once).
            if (row.payload === null) row.payload = delivery.payload;
            else if (row.payload !== delivery.payload) throw new Error('the fan-out made two bodies for one event');
            messageRows.push({ n: row.n, id: delivery.id, endpoint_id: delivery.endpointId, next_attempt_at: iso(delivery.nextAttemptAt), locked_until: iso(delivery.lockedUntil), created_at: delivery.createdAt.toISOString() });
            if (delivery.lockedUntil) made.set(delivery.id, { scope, delivery, endpoint });
          }
        }
        // One statement: the messages inserted and the events marked dispatched. The rows
        // travel as JSON parameters, as in recordAttempts: a stable statement, no per-value cost.
        const done = rowsOf<{ id: string }>(
          await tx.execute(sql`
            with ev as (
              select * from json_to_recordset(${JSON.stringify(eventRows)}::json) as x(n int, tenant_id text, app_id text, id text, type text, payload text)
            ), marked as (
              update events e set dispatched_at = ${tsParam(at)} from ev where e.tenant_id = ev.tenant_id and e.app_id = ev.app_id and e.id = ev.id
            )
            insert into webhook_deliveries (tenant_id, app_id, id, endpoint_id, event_id, event_type, payload, status, attempts, retry_step, next_attempt_at, locked_until, created_at)
            select ev.tenant_id, ev.app_id, m.id, m.endpoint_id, ev.id, ev.type, ev.payload, 'pending', 0, 0, m.next_attempt_at, m.locked_until, m.created_at
            from json_to_recordset(${JSON.stringify(messageRows)}::json) as m(n int, id text, endpoint_id text, next_attempt_at timestamptz, locked_until timestamptz, created_at timestamptz)
            join ev on ev.n = m.n
            on conflict do nothing
            returning webhook_deliveries.id`),
        );
        const inserted = new Set(done.map((d) => d.id));
        // A message another fan-out made first (a conflict) is not ours to send.
        return { events: batch.length, deliveries: inserted.size, leased: [...made.values()].filter((c) => inserted.has(c.delivery.id)) };
      });
    },
    async insertDelivery(s, d) {
      await db.insert(webhookDeliveries).values({ ...s, ...d });
    },
    async getDelivery(s, id) {
      const [r] = await db.select().from(webhookDeliveries).where(inScope(webhookDeliveries, s, eq(webhookDeliveries.id, id)));
      return r ? toDelivery(r) : null;
    },
    async claimDue(at, leaseUntil, limit, perEndpoint, skip) {
      const skipList = skip.length ? sql`and (d.tenant_id || '|' || d.app_id || '|' || d.endpoint_id) not in (${sql.join(skip.map((k) => sql`${k}`), sql`, `)})` : sql``;
      const due = sql`d.status = 'pending' and d.next_attempt_at <= ${tsParam(at)} and (d.locked_until is null or d.locked_until <= ${tsParam(at)})`;
      // Candidates are read from the due messages alone, soonest first (the endpoint's
      // enabled flag is a lookup per candidate, not a join: a join let the planner walk every
      // endpoint's whole history instead, tens of ms a claim), at most `perEndpoint` of each
      // endpoint are picked, and only those are locked (skip locked: another instance's
      // claim takes others; the lock checks them again) and leased. One statement answers
      // the messages with their endpoints (a claim is on the hot path).
      const claimed = rowsOf<ClaimRow>(
        await db.execute(sql`
          with candidates as materialized (
            select d.tenant_id, d.app_id, d.id, d.endpoint_id, d.next_attempt_at
            from webhook_deliveries d
            where ${due} ${skipList}
              and (select e.enabled from webhook_endpoints e where e.tenant_id = d.tenant_id and e.app_id = d.app_id and e.id = d.endpoint_id)
            order by d.next_attempt_at
            limit ${limit * 4}
          ), chosen as materialized (
            select tenant_id, app_id, id from (
              select c.*, row_number() over (partition by tenant_id, app_id, endpoint_id order by next_attempt_at, id) as n from candidates c
            ) ranked
            where n <= ${perEndpoint}
            order by next_attempt_at
            limit ${limit}
          ), picked as (
            -- Each chosen message by its primary key, checked again under the lock. The
            -- check is a CASE so that the planner cannot read these rows through the due
            -- index instead: with statistics taken when little was pending it did, scanning
            -- every due message once per chosen one (quadratic).
            select d.tenant_id, d.app_id, d.id from chosen c
            join webhook_deliveries d on d.tenant_id = c.tenant_id and d.app_id = c.app_id and d.id = c.id
            where case when d.status = 'pending' then d.next_attempt_at <= ${tsParam(at)} and (d.locked_until is null or d.locked_until <= ${tsParam(at)}) else false end
            for update of d skip locked
          )
          update webhook_deliveries d set locked_until = ${tsParam(leaseUntil)}
          from picked p, webhook_endpoints e
          where d.tenant_id = p.tenant_id and d.app_id = p.app_id and d.id = p.id
            and e.tenant_id = d.tenant_id and e.app_id = d.app_id and e.id = d.endpoint_id
          returning d.tenant_id, d.app_id, d.id, d.endpoint_id, d.event_id, d.event_type, d.payload, d.status, d.attempts, d.retry_step,
            d.next_attempt_at, d.locked_until, d.last_attempt_at, d.last_response_code, d.created_at,
            e.url as e_url, e.description as e_description, e.event_types as e_event_types, e.enabled as e_enabled,
            e.disabled_reason as e_disabled_reason, e.secret as e_secret, e.previous_secret as e_previous_secret,
            e.previous_secret_expires_at as e_previous_secret_expires_at, e.failing_since as e_failing_since,
            e.created_at as e_created_at, e.updated_at as e_updated_at`),
      );
      return claimed.map(fromClaimRow).sort((a, b) => a.delivery.nextAttemptAt!.getTime() - b.delivery.nextAttemptAt!.getTime());
    },
    async renewLeases(held, until) {
      if (held.length === 0) return [];
      const rows = held.map((h) => ({ tenant_id: h.scope.tenantId, app_id: h.scope.appId, id: h.id, locked_until: h.lockedUntil.toISOString() }));
      const renewed = rowsOf<{ tenant_id: string; app_id: string; id: string }>(
        await db.execute(sql`
          update webhook_deliveries d set locked_until = ${tsParam(until)}
          from json_to_recordset(${JSON.stringify(rows)}::json) as h(tenant_id text, app_id text, id text, locked_until timestamptz)
          where d.tenant_id = h.tenant_id and d.app_id = h.app_id and d.id = h.id and d.status = 'pending' and d.locked_until = h.locked_until
          returning d.tenant_id, d.app_id, d.id`),
      );
      return renewed.map((r) => `${r.tenant_id}|${r.app_id}|${r.id}`);
    },
    async recordAttempts(batch) {
      if (batch.length === 0) return;
      const rows = batch.map(({ scope: s, outcome: { attempt: a, delivery: d, failingSince } }) => ({
        tenant_id: s.tenantId,
        app_id: s.appId,
        id: a.id,
        delivery_id: a.deliveryId,
        endpoint_id: a.endpointId,
        event_type: a.eventType,
        status: a.status,
        response_code: a.responseCode,
        latency_ms: a.latencyMs,
        response_body: a.responseBody,
        error: a.error,
        attempted_at: iso(a.attemptedAt),
        d_status: d.status,
        retry_step: d.retryStep,
        next_attempt_at: iso(d.nextAttemptAt),
        last_code: d.lastResponseCode,
        failing_since: iso(failingSince),
      }));
      // One statement (atomic by itself, one commit for the batch): the attempts, their
      // messages (lease released), and each endpoint's failing mark as its latest attempt
      // left it, written only when it changes. The rows travel as one JSON parameter: the
      // statement's text is the same for every batch (prepared once), and building it
      // costs nothing per value (a parameter per value cost more CPU than the sends).
      // Its commit does not wait for the disk (synchronous_commit off, this transaction
      // only): a crash can lose the last attempts' records, never a message: a message
      // whose record is lost is still leased as pending, and is sent again when the lease
      // lapses, with its webhook-id (at least once; receivers deduplicate by it). The
      // fan-out keeps a durable commit: a message sent must not be made again under a new id.
      await db.execute(sql`
        with cfg as (select set_config('synchronous_commit', 'off', true)),
        v as (
          select x.* from cfg, json_to_recordset(${JSON.stringify(rows)}::json) as x(tenant_id text, app_id text, id text, delivery_id text, endpoint_id text,
            event_type text, status text, response_code int, latency_ms int, response_body text, error text, attempted_at timestamptz,
            d_status text, retry_step int, next_attempt_at timestamptz, last_code int, failing_since timestamptz)
        ), attempt as (
          insert into webhook_attempts (tenant_id, app_id, id, delivery_id, endpoint_id, event_type, status, response_code, latency_ms, response_body, error, attempted_at)
          select tenant_id, app_id, id, delivery_id, endpoint_id, event_type, status, response_code, latency_ms, response_body, error, attempted_at from v
        ), message as (
          update webhook_deliveries d set status = v.d_status, retry_step = v.retry_step, next_attempt_at = v.next_attempt_at,
            last_response_code = v.last_code, attempts = d.attempts + 1, last_attempt_at = v.attempted_at, locked_until = null
          from v where d.tenant_id = v.tenant_id and d.app_id = v.app_id and d.id = v.delivery_id
        )
        update webhook_endpoints e set failing_since = latest.failing_since
        from (select distinct on (tenant_id, app_id, endpoint_id) tenant_id, app_id, endpoint_id, failing_since from v order by tenant_id, app_id, endpoint_id, attempted_at desc, id desc) latest
        where e.tenant_id = latest.tenant_id and e.app_id = latest.app_id and e.id = latest.endpoint_id
          and (e.failing_since is null) <> (latest.failing_since is null)`);
    },
    async purge(before, limit) {
      // Oldest first by webhook_deliveries_settled_idx, in batches (one run never holds a long lock).
      const gone = await db.execute(sql`
        with gone as (
          delete from webhook_deliveries where (tenant_id, app_id, id) in (
            select tenant_id, app_id, id from webhook_deliveries
            where status <> 'pending' and created_at < ${tsParam(before)} order by created_at limit ${limit}
          ) returning tenant_id, app_id, id
        ), attempts as (
          delete from webhook_attempts a using gone where a.tenant_id = gone.tenant_id and a.app_id = gone.app_id and a.delivery_id = gone.id
        )
        select count(*)::int as n from gone`);
      return Number(rowsOf<{ n: number }>(gone)[0]?.n ?? 0);
    },
    async nextDueAt() {
      const [r] = await db
        .select({ at: webhookDeliveries.nextAttemptAt })
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.status, 'pending'), isNotNull(webhookDeliveries.nextAttemptAt)))
        .orderBy(asc(webhookDeliveries.nextAttemptAt))
        .limit(1);
      return r?.at ?? null;
    },
    async listAttempts(s, endpointId, page) {
      const rows = await db
        .select()
        .from(webhookAttempts)
        .where(inScope(webhookAttempts, s, eq(webhookAttempts.endpointId, endpointId), page.cursor ? lt(webhookAttempts.id, page.cursor) : undefined))
        .orderBy(desc(webhookAttempts.id))
        .limit(page.limit);
      return rows.map(toAttempt);
    },
    async requeue(s, which, at) {
      const where =
        'deliveryId' in which
          ? inScope(webhookDeliveries, s, eq(webhookDeliveries.id, which.deliveryId))
          : inScope(
              webhookDeliveries,
              s,
              eq(webhookDeliveries.endpointId, which.endpointId),
              eq(webhookDeliveries.status, 'failed'),
              gte(webhookDeliveries.createdAt, which.failedSince),
            );
      const done = await db
        .update(webhookDeliveries)
        .set({ status: 'pending', retryStep: 0, nextAttemptAt: at, lockedUntil: null })
        .where(where)
        .returning({ id: webhookDeliveries.id });
      return done.length;
    },
  };
}
