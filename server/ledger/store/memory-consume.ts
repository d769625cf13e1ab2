import type { ConsumptionStore, StoredConsumption } from '../entitlement/consume-store';
import type { UsageStore } from '../meter/store';
import { scopeKey } from '../types';

/**
 * Consumptions in memory (tests, embedding). The lock is an in-process queue per
 * customer and feature: one process is the only writer of a memory store, so that is
 * the whole of the serialization PostgreSQL's advisory lock gives across processes.
 */
export function createMemoryConsumptionStore(usage: UsageStore): ConsumptionStore {
  const rows = new Map<string, StoredConsumption>();
  const queues = new Map<string, Promise<unknown>>();
  const rowKey = (scope: Parameters<ConsumptionStore['get']>[0], key: string) => `${scopeKey(scope)}\u0000${key}`;

  return {
    locked(scope, customerId, featureKey, work) {
      const k = `${scopeKey(scope)}\u0000${customerId}\u0000${featureKey}`;
      const before = queues.get(k) ?? Promise.resolve();
      const run = before.then(work, work);
      // The queue goes on whether this work succeeds or fails; the last one clears it.
      const tail = run.then(
        () => undefined,
        () => undefined,
      );
      queues.set(k, tail);
      void tail.then(() => {
        if (queues.get(k) === tail) queues.delete(k);
      });
      return run;
    },
    usage: (scope, query) => usage.aggregate(scope, query),
    async get(scope, key) {
      const row = rows.get(rowKey(scope, key));
      return row ? structuredClone(row) : null;
    },
    async insert(scope, list) {
      for (const row of list) {
        const k = rowKey(scope, row.idempotencyKey);
        if (!rows.has(k)) rows.set(k, structuredClone(row));
      }
    },
  };
}
