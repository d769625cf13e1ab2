import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../../db/client';
import { entitlementConsumptions } from '../../../db/schema';
import type { ConsumptionStore, StoredConsumption } from '../entitlement/consume-store';
import type { CustomerId } from '../types';
import { aggregateStatement, numbered } from './postgres-usage-read';
import { rowsOf } from './rows';
import { normalizeDecimal } from './usage-shared';

/**
 * Consumptions on PostgreSQL (and PGlite). `locked` opens a transaction and takes a
 * transaction-scoped advisory lock on the hash of (tenant, app, customer, feature): every
 * consumer of that customer's feature, in every process, waits for the one before it
 * to commit. Under READ COMMITTED each statement sees what committed before it, so the
 * usage read after the lock includes every earlier consumption. (A hash collision only
 * makes two unrelated series wait for each other.)
 *
 * The usage read runs the usage store's own aggregate statement, but through `db`, so it
 * joins the transaction: the usage store's reads go to the pool's client directly (on
 * PGlite, with one connection, that would wait for this very transaction).
 */
export function createPostgresConsumptionStore(db: Database, atomic: <T>(work: () => Promise<T>) => Promise<T>): ConsumptionStore {
  const t = entitlementConsumptions;
  return {
    locked(s, customerId, featureKey, work) {
      return atomic(async () => {
        await db.execute(
          sql`select pg_advisory_xact_lock(hashtextextended(${`consume|${s.tenantId}|${s.appId}|${customerId}|${featureKey}`}, 0))`,
        );
        return work();
      });
    },
    async usage(s, query) {
      const { text, params } = aggregateStatement(s, [query]);
      const [row] = rowsOf<{ v0: string | null }>(await db.execute(numbered(text, params)));
      return normalizeDecimal(row?.v0);
    },
    async get(s, key) {
      const [r] = await db
        .select()
        .from(t)
        .where(and(eq(t.tenantId, s.tenantId), eq(t.appId, s.appId), eq(t.idempotencyKey, key)));
      return r ? toConsumption(r) : null;
    },
    async insert(s, list) {
      if (list.length === 0) return;
      await db
        .insert(t)
        .values(list.map((c) => ({ ...s, ...c })))
        .onConflictDoNothing();
    },
  };
}

const toConsumption = (r: typeof entitlementConsumptions.$inferSelect): StoredConsumption => ({
  idempotencyKey: r.idempotencyKey,
  customerId: r.customerId as CustomerId,
  featureKey: r.featureKey,
  quantity: normalizeDecimal(r.quantity),
  eventId: r.eventId,
  used: normalizeDecimal(r.used),
  limit: r.limit === null ? null : normalizeDecimal(r.limit),
  periodStart: r.periodStart,
  createdAt: r.createdAt,
});
