import { and, asc, count, eq, gt, inArray, isNotNull, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Database } from '../../../db/client';
import { creditNotes, customers, invoices, subscriptions, testClocks, usageDistinct, usageEvents, usageRollups } from '../../../db/schema';
import type { BillingStore, OnClock } from '../billing/store';
import type { TestClock } from '../billing/test-clocks';
import { scope as toScope, type CustomerId, type Scope, type TestClockId } from '../types';
import { rowsOf } from './rows';

const inScope = (s: Scope, ...more: (SQL | undefined)[]) => and(eq(testClocks.tenantId, s.tenantId), eq(testClocks.appId, s.appId), ...more);

const toClock = (r: typeof testClocks.$inferSelect): TestClock => ({
  id: r.id as TestClockId,
  name: r.name,
  now: r.now,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

/**
 * Rows of customers on the test clock `on` names (or on none), for a table with a
 * `customer_id`: a correlated lookup of the customer by its primary key.
 */
export function customerOnClock(t: { tenantId: PgColumn; appId: PgColumn; customerId: PgColumn }, on: OnClock | undefined): SQL | undefined {
  if (!on) return undefined;
  const match = sql`select 1 from ${customers} c where c.tenant_id = ${t.tenantId} and c.app_id = ${t.appId} and c.id = ${t.customerId}`;
  return on.testClockId === null
    ? sql`not exists (${match} and c.test_clock_id is not null)`
    : sql`exists (${match} and c.test_clock_id = ${on.testClockId})`;
}

export function createPostgresBillingStore(db: Database): BillingStore {
  return {
    async dueWork(at, limit) {
      // Each customer at its own time: its test clock's, else `at`. Served by
      // subscriptions_due_idx, invoices_drafts_idx, invoices_retry_idx (dunning's
      // retries) and invoices_due_idx (sent invoices coming due), all partial, then the
      // customers' primary key.
      const rows = rowsOf<{ tenant_id: string; app_id: string; test_clock_id: string | null }>(
        await db.execute(sql`
          select d.tenant_id, d.app_id, cu.test_clock_id from (
            select tenant_id, app_id, customer_id, current_period_end as due from subscriptions where status <> 'canceled'
            union all
            select tenant_id, app_id, customer_id, '-infinity'::timestamptz from subscriptions where outbox <> '[]'::jsonb
            union all
            select tenant_id, app_id, customer_id, finalize_at from invoices where status = 'draft'
            union all
            select tenant_id, app_id, customer_id, next_payment_attempt_at from invoices
              where next_payment_attempt_at is not null and status = 'open'
            union all
            select tenant_id, app_id, customer_id, due_at from invoices
              where status = 'open' and past_due_at is null and collection_method = 'send_invoice' and due_at is not null
            union all
            -- Prepaid credits expiring, recurring grants (wallets_due_idx).
            select tenant_id, app_id, customer_id, next_due_at from wallets where next_due_at is not null
          ) d
          left join customers cu on cu.tenant_id = d.tenant_id and cu.app_id = d.app_id and cu.id = d.customer_id
          left join test_clocks c on c.tenant_id = d.tenant_id and c.app_id = d.app_id and c.id = cu.test_clock_id
          where d.due <= coalesce(c.now, ${at.toISOString()}::timestamptz)
          group by d.tenant_id, d.app_id, cu.test_clock_id
          limit ${limit}
        `),
      );
      return rows.map((r) => ({ scope: toScope(r.tenant_id, r.app_id), testClockId: (r.test_clock_id as TestClockId | null) ?? null }));
    },
    async allTestClocks() {
      const rows = await db.select().from(testClocks);
      return rows.map((r) => ({ scope: toScope(r.tenantId, r.appId), clock: toClock(r) }));
    },
    async allTestClockCustomers() {
      // Served by customers_test_clock_idx (partial: only customers on a clock).
      const rows = await db
        .select({ tenantId: customers.tenantId, appId: customers.appId, id: customers.id, testClockId: customers.testClockId })
        .from(customers)
        .where(isNotNull(customers.testClockId));
      return rows.map((r) => ({ scope: toScope(r.tenantId, r.appId), customerId: r.id as CustomerId, testClockId: r.testClockId as TestClockId }));
    },
    async getTestClock(s, id) {
      const [r] = await db.select().from(testClocks).where(inScope(s, eq(testClocks.id, id)));
      return r ? toClock(r) : null;
    },
    async listTestClocks(s, page) {
      const rows = await db
        .select()
        .from(testClocks)
        .where(inScope(s, page.cursor ? gt(testClocks.id, page.cursor) : undefined))
        .orderBy(asc(testClocks.id))
        .limit(page.limit + 1);
      return rows.map(toClock);
    },
    async countTestClocks(s) {
      const [r] = await db.select({ n: count() }).from(testClocks).where(inScope(s));
      return r?.n ?? 0;
    },
    async countTestClockCustomers(s, id) {
      const [r] = await db
        .select({ n: count() })
        .from(customers)
        .where(and(eq(customers.tenantId, s.tenantId), eq(customers.appId, s.appId), eq(customers.testClockId, id)));
      return r?.n ?? 0;
    },
    async insertTestClock(s, c) {
      await db.insert(testClocks).values({ ...s, id: c.id, name: c.name, now: c.now, createdAt: c.createdAt, updatedAt: c.updatedAt });
    },
    async moveTestClock(s, id, to, updatedAt) {
      // Forward only, and never back past a concurrent advance that went further.
      const [moved] = await db
        .update(testClocks)
        .set({ now: to, updatedAt, version: sql`${testClocks.version} + 1` })
        .where(inScope(s, eq(testClocks.id, id), sql`${testClocks.now} < ${to.toISOString()}::timestamptz`))
        .returning();
      if (moved) return toClock(moved);
      const [r] = await db.select().from(testClocks).where(inScope(s, eq(testClocks.id, id)));
      return r ? toClock(r) : null;
    },
    async deleteTestClock(s, id) {
      return db.transaction(async (tx) => {
        // The clock's row first, locked: a customer being created on it waits (its foreign key), then fails.
        const [clock] = await tx.select({ id: testClocks.id }).from(testClocks).where(inScope(s, eq(testClocks.id, id))).for('update');
        if (!clock) return null;
        const own = <T extends { tenantId: PgColumn; appId: PgColumn; customerId: PgColumn }>(t: T, ids: string[]) =>
          and(eq(t.tenantId, s.tenantId), eq(t.appId, s.appId), inArray(t.customerId, ids));
        const rows = await tx
          .select({ id: customers.id })
          .from(customers)
          .where(and(eq(customers.tenantId, s.tenantId), eq(customers.appId, s.appId), eq(customers.testClockId, id)));
        const ids = rows.map((r) => r.id);
        if (ids.length > 0) {
          await tx.delete(usageEvents).where(own(usageEvents, ids));
          await tx.delete(usageRollups).where(own(usageRollups, ids));
          await tx.delete(usageDistinct).where(own(usageDistinct, ids));
          await tx.delete(creditNotes).where(own(creditNotes, ids));
          await tx.delete(invoices).where(own(invoices, ids));
          await tx.delete(subscriptions).where(own(subscriptions, ids));
          await tx.delete(customers).where(and(eq(customers.tenantId, s.tenantId), eq(customers.appId, s.appId), inArray(customers.id, ids)));
        }
        await tx.delete(testClocks).where(inScope(s, eq(testClocks.id, id)));
        return ids as CustomerId[];
      });
    },
  };
}
