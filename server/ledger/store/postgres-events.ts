import { and, desc, eq, gte, like, lt, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../../db/client';
import { events } from '../../../db/schema';
import type { EventStore, EventType, LedgerEvent, RequestContext } from '../events/types';
import type { EventId, Scope } from '../types';
import { rowsOf } from './rows';

const inScope = (s: Scope, ...more: (SQL | undefined)[]) => and(eq(events.tenantId, s.tenantId), eq(events.appId, s.appId), ...more)!;

/** An events row as the engine's event (also read by the webhook fan-out). */
export const toEvent = (r: typeof events.$inferSelect): LedgerEvent => ({
  id: r.id as EventId,
  type: r.type as EventType,
  objectId: r.objectId,
  customerId: r.customerId,
  data: r.data,
  previous: r.previous ?? null,
  request: (r.actor as RequestContext | null) ?? null,
  createdAt: r.createdAt,
});

/** Escapes LIKE's wildcards, so a type prefix matches literally. */
const likePrefix = (p: string) => `${p.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The event log on PostgreSQL/PGlite; appended inside the change's transaction (EventLog.atomic). */
export function createPostgresEventStore(db: Database): EventStore {
  return {
    async append(s, list) {
      if (list.length === 0) return;
      await db.insert(events).values(
        list.map((e) => ({
          ...s,
          id: e.id,
          type: e.type,
          objectId: e.objectId,
          customerId: e.customerId,
          data: e.data,
          previous: e.previous,
          actor: e.request as Record<string, unknown> | null,
          createdAt: e.createdAt,
        })),
      );
    },
    async get(s, id) {
      const [r] = await db.select().from(events).where(inScope(s, eq(events.id, id)));
      return r ? toEvent(r) : null;
    },
    async list(s, q, page) {
      const rows = await db
        .select()
        .from(events)
        .where(
          inScope(
            s,
            q.type ? eq(events.type, q.type) : undefined,
            q.typePrefix ? like(events.type, likePrefix(q.typePrefix)) : undefined,
            q.objectId ? eq(events.objectId, q.objectId) : undefined,
            q.customerId ? eq(events.customerId, q.customerId) : undefined,
            q.createdFrom ? gte(events.createdAt, q.createdFrom) : undefined,
            q.createdTo ? lt(events.createdAt, q.createdTo) : undefined,
            page.cursor ? lt(events.id, page.cursor) : undefined,
          ),
        )
        .orderBy(desc(events.id))
        .limit(page.limit);
      return rows.map(toEvent);
    },
    async purge(before, limit) {
      // Oldest first by events_created_idx, in batches, so one run never holds a long lock.
      const gone = await db.execute<{ id: string }>(sql`
        delete from events where (tenant_id, app_id, id) in (
          select tenant_id, app_id, id from events where created_at < ${before.toISOString()}::timestamptz order by created_at limit ${limit}
        ) returning id`);
      return rowsOf(gone).length;
    },
  };
}
