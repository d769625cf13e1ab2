import { and, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../../db/client';
import { auditLog } from '../../../db/schema';
import type { Actor } from '../events/types';
import { createPostgresStoreAndDb } from '../store/postgres';
import type { Store } from '../store/store';
import type { Scope } from '../types';
import type { AuditEntry, AuditStore } from './types';
import { rowsOf } from '../store/rows';

const inScope = (s: Scope, ...more: (SQL | undefined)[]) => and(eq(auditLog.tenantId, s.tenantId), eq(auditLog.appId, s.appId), ...more)!;

const toEntry = (r: typeof auditLog.$inferSelect): AuditEntry => ({
  id: r.id,
  actor: (r.actorType === 'portal_user' ? { type: 'portal_user', id: r.actorId, email: r.actorEmail } : { type: r.actorType, id: r.actorId }) as Actor,
  action: r.action,
  entityType: r.entityType,
  entityId: r.entityId,
  changes: r.changes,
  requestId: r.requestId,
  ip: r.ip,
  eventId: r.eventId,
  createdAt: r.createdAt,
});

export const auditRow = (s: Scope, e: AuditEntry): typeof auditLog.$inferInsert => ({
  ...s,
  id: e.id,
  actorType: e.actor.type,
  actorId: e.actor.id,
  actorEmail: e.actor.type === 'portal_user' ? e.actor.email : null,
  action: e.action,
  entityType: e.entityType,
  entityId: e.entityId,
  changes: e.changes,
  requestId: e.requestId,
  ip: e.ip,
  eventId: e.eventId,
  createdAt: e.createdAt,
});

/**
 * The trail on PostgreSQL/PGlite. `db` must send its queries to the transaction of the
 * change being made, or entries would commit apart from their change (and, on PGlite,
 * wait for it forever): build it with `createPostgresAuditedStores`.
 */
export function createPostgresAuditStore(db: Database): AuditStore {
  return {
    async append(s, entries) {
      if (entries.length === 0) return;
      await db.insert(auditLog).values(entries.map((e) => auditRow(s, e)));
    },
    async list(s, q, page) {
      const rows = await db
        .select()
        .from(auditLog)
        .where(
          inScope(
            s,
            q.entityId ? eq(auditLog.entityId, q.entityId) : undefined,
            q.entityType ? eq(auditLog.entityType, q.entityType) : undefined,
            q.actorType ? eq(auditLog.actorType, q.actorType) : undefined,
            q.actorId ? eq(auditLog.actorId, q.actorId) : undefined,
            q.action ? eq(auditLog.action, q.action) : undefined,
            q.from ? gte(auditLog.createdAt, q.from) : undefined,
            q.to ? lt(auditLog.createdAt, q.to) : undefined,
            page.cursor ? lt(auditLog.id, page.cursor) : undefined,
          ),
        )
        .orderBy(desc(auditLog.id))
        .limit(page.limit);
      return rows.map(toEntry);
    },
    async purge(before, limit) {
      // The one delete path: the trigger lets a DELETE through only for rows created
      // before the cutoff this transaction sets (SET LOCAL: gone at its end).
      return db.transaction(async (tx) => {
        await tx.execute(sql`select set_config('ledger.audit_purge_before', ${before.toISOString()}, true)`);
        const gone = await tx.execute<{ id: string }>(sql`
          delete from audit_log where (tenant_id, app_id, id) in (
            select tenant_id, app_id, id from audit_log where created_at < ${before.toISOString()}::timestamptz order by created_at limit ${limit}
          ) returning id`);
        return rowsOf(gone).length;
      });
    },
  };
}

/**
 * The engine's store and the audit store on one database, sharing transactions: the audit
 * store queries through the store's transaction-aware handle, so an entry written during a
 * change (EventLog.atomic) commits with it.
 */
export function createPostgresAuditedStores(pool: Database): { store: Store; audit: AuditStore } {
  const { store, db } = createPostgresStoreAndDb(pool);
  return { store, audit: createPostgresAuditStore(db) };
}
