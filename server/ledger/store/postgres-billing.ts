import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../../db/client';
import { testClocks } from '../../../db/schema';
import type { BillingStore } from '../billing/store';
import { scope as toScope, type Scope } from '../types';

function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

const inScope = (s: Scope) => and(eq(testClocks.tenantId, s.tenantId), eq(testClocks.appId, s.appId));

export function createPostgresBillingStore(db: Database): BillingStore {
  return {
    async dueScopes(at, limit) {
      // Each scope at its own time: a test clock's, else `at`. Served by
      // subscriptions_due_idx and invoices_drafts_idx (both partial).
      const rows = rowsOf<{ tenant_id: string; app_id: string }>(
        await db.execute(sql`
          select d.tenant_id, d.app_id from (
            select tenant_id, app_id, current_period_end as due from subscriptions where status <> 'canceled'
            union all
            select tenant_id, app_id, '-infinity'::timestamptz from subscriptions where outbox <> '[]'::jsonb
            union all
            select tenant_id, app_id, finalize_at from invoices where status = 'draft'
          ) d
          left join test_clocks c on c.tenant_id = d.tenant_id and c.app_id = d.app_id
          where d.due <= coalesce(c.now, ${at.toISOString()}::timestamptz)
          group by d.tenant_id, d.app_id
          limit ${limit}
        `),
      );
      return rows.map((r) => toScope(r.tenant_id, r.app_id));
    },
    async allTestClocks() {
      const rows = await db.select().from(testClocks);
      return rows.map((r) => ({ scope: toScope(r.tenantId, r.appId), now: r.now }));
    },
    async getTestClock(s) {
      const [r] = await db.select().from(testClocks).where(inScope(s));
      return r ? r.now : null;
    },
    async createTestClock(s, at) {
      const r = await db.insert(testClocks).values({ ...s, now: at, createdAt: at, updatedAt: at }).onConflictDoNothing().returning();
      return r.length === 1;
    },
    async moveTestClock(s, from, to) {
      if (to < from) return false;
      const r = await db
        .update(testClocks)
        .set({ now: to, updatedAt: to, version: sql`${testClocks.version} + 1` })
        .where(and(inScope(s), eq(testClocks.now, from)))
        .returning();
      return r.length === 1;
    },
    async deleteTestClock(s) {
      const r = await db.delete(testClocks).where(inScope(s)).returning();
      return r.length === 1;
    },
  };
}
