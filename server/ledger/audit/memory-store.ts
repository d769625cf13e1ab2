import { ScopedTable } from '../store/memory-table';
import type { AuditEntry, AuditQuery, AuditStore } from './types';

export function matchesAudit(e: AuditEntry, q: AuditQuery): boolean {
  return (
    (!q.entityId || e.entityId === q.entityId) &&
    (!q.entityType || e.entityType === q.entityType) &&
    (!q.actorType || e.actor.type === q.actorType) &&
    (!q.actorId || e.actor.id === q.actorId) &&
    (!q.action || e.action === q.action) &&
    (!q.from || e.createdAt >= q.from) &&
    (!q.to || e.createdAt < q.to)
  );
}

/**
 * The trail in memory: append-only by construction (no method changes or removes one
 * entry; only the purge drops old ones). The table copies rows in and out.
 */
export function createMemoryAuditStore(): AuditStore {
  const table = new ScopedTable<AuditEntry>();
  return {
    async append(scope, entries) {
      for (const e of entries) table.put(scope, e);
    },
    async list(scope, query, page) {
      return table.newestFirst(scope, page, (e) => matchesAudit(e, query));
    },
    async purge(before, limit) {
      const old = [...table.all()].filter(([, e]) => e.createdAt < before).sort(([, a], [, b]) => a.createdAt.getTime() - b.createdAt.getTime()).slice(0, limit);
      for (const [scope, e] of old) table.delete(scope, (r) => r.id === e.id);
      return old.length;
    },
  };
}
