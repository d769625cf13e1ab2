import type { EventQuery, EventStore, LedgerEvent } from '../events/types';
import { ScopedTable } from './memory-table';

/** Whether an event matches a query's filters (shared by the memory store's list). */
export function matchesEvent(e: LedgerEvent, q: EventQuery): boolean {
  return (
    (!q.type || e.type === q.type) &&
    (!q.typePrefix || e.type.startsWith(q.typePrefix)) &&
    (!q.objectId || e.objectId === q.objectId) &&
    (!q.customerId || e.customerId === q.customerId) &&
    (!q.createdFrom || e.createdAt >= q.createdFrom) &&
    (!q.createdTo || e.createdAt < q.createdTo)
  );
}

/** The event log in memory: newest first by id (TypeIDs sort by the time they were made). */
export function createMemoryEventStore(): EventStore {
  const table = new ScopedTable<LedgerEvent>();
  return {
    async append(scope, events) {
      for (const e of events) table.put(scope, e);
    },
    async get(scope, id) {
      return table.get(scope, id);
    },
    async list(scope, query, page) {
      return table.newestFirst(scope, page, (e) => matchesEvent(e, query));
    },
    async purge(before, limit) {
      const old = [...table.all()].filter(([, e]) => e.createdAt < before).sort(([, a], [, b]) => a.createdAt.getTime() - b.createdAt.getTime()).slice(0, limit);
      for (const [scope, e] of old) table.delete(scope, (r) => r.id === e.id);
      return old.length;
    },
  };
}
