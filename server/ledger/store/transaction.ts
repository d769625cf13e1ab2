import { AsyncLocalStorage } from 'node:async_hooks';
import type { Database } from '../../../db/client';

/**
 * Transactions without threading a handle through every store method: `atomic(work)`
 * opens one and runs `work` with it as the async context's current transaction; the
 * returned `db` sends each query to that transaction when there is one, else to the
 * pool. So the stores' methods, unchanged, join the transaction of the change that
 * calls them (EventLog.atomic: a change and its events commit together).
 *
 * Inside `work`, only queries made through `db` join: a prepared statement or a raw
 * client query made outside it would run on another connection (and on PGlite, which has
 * one, wait for this transaction: a deadlock). Keep reads out of `work`, or make them
 * ask `inTransaction(db)` first (the usage reads do: postgres-usage-read.ts).
 */
const IN_TRANSACTION = Symbol('ledger.inTransaction');

/** Whether a query made through `db` now would run in a transaction of `atomic`. */
export const inTransaction = (db: Database): boolean => (db as unknown as Record<symbol, unknown>)[IN_TRANSACTION] === true;

export function transactional(base: Database): { db: Database; atomic<T>(work: () => Promise<T>): Promise<T> } {
  const current = new AsyncLocalStorage<Database>();
  const db = new Proxy(base, {
    get(target, prop) {
      const tx = current.getStore();
      if (prop === IN_TRANSACTION) return tx !== undefined;
      const source = tx && prop in tx ? tx : target;
      const value: unknown = Reflect.get(source, prop, source);
      // Methods run on their own object; the driver's client (a function with
      // properties, postgres.js's `sql`) is handed out as it is.
      return typeof value === 'function' && prop !== '$client' ? (value as (...a: unknown[]) => unknown).bind(source) : value;
    },
  });
  return {
    db,
    // Nested: the outer transaction holds; one commit for all.
    atomic: (work) => (current.getStore() ? work() : base.transaction((tx) => current.run(tx as unknown as Database, work))),
  };
}
