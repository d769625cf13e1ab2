import type { BillingStore, DueWork } from '../billing/store';
import type { TestClock } from '../billing/test-clocks';
import type { Customer } from '../customer/types';
import type { Invoice } from '../invoice/types';
import type { Subscription } from '../subscription/types';
import { scopeKey, type CustomerId, type Scope, type TestClockId } from '../types';
import type { ScopedTable } from './memory-table';

/** The billing store in memory, over the memory store's customers, subscriptions and invoices. */
export function createMemoryBillingStore(sources: {
  customers: ScopedTable<Customer>;
  subscriptions: ScopedTable<Subscription>;
  invoices: () => Iterable<[Scope, Invoice]>;
  /** Wallets with credits expiring or recurring grants: when (wallet/store.ts). */
  wallets?: () => Iterable<[Scope, { customerId: string; nextDueAt: Date | null }]>;
  /** Deletes everything else the customers have (invoices, credit notes, usage). */
  forgetCustomers: (scope: Scope, ids: ReadonlySet<string>) => void;
}): BillingStore {
  const clocks = new Map<string, { scope: Scope; clock: TestClock }>();
  const clockKey = (scope: Scope, id: string) => `${scopeKey(scope)}\u0000${id}`;
  const copy = (c: TestClock): TestClock => structuredClone(c);
  const clockOf = (scope: Scope, customerId: string): TestClockId | null => sources.customers.rows(scope).get(customerId)?.testClockId ?? null;

  return {
    async dueWork(at, limit) {
      // Each customer at its own time: its test clock's, else `at`.
      const found = new Map<string, DueWork>();
      const note = (scope: Scope, customerId: string, due: Date | null) => {
        const testClockId = clockOf(scope, customerId);
        const time = testClockId ? (clocks.get(clockKey(scope, testClockId))?.clock.now ?? at) : at;
        if (due === null || due <= time) found.set(`${scopeKey(scope)}\u0000${testClockId ?? ''}`, { scope, testClockId });
      };
      for (const [scope, s] of sources.subscriptions.all()) {
        if (s.status !== 'canceled') note(scope, s.customerId, s.currentPeriodEnd);
        if (s.outbox.length > 0) note(scope, s.customerId, null);
      }
      for (const [scope, i] of sources.invoices()) {
        if (i.status === 'draft') note(scope, i.customerId, i.finalizeAt);
        // Dunning: a retry planned, a sent invoice coming due.
        if (i.status === 'open' && i.nextPaymentAttemptAt) note(scope, i.customerId, i.nextPaymentAttemptAt);
        if (i.status === 'open' && i.collectionMethod === 'send_invoice' && !i.pastDueAt && i.dueAt) note(scope, i.customerId, i.dueAt);
      }
      for (const [scope, w] of sources.wallets?.() ?? []) if (w.nextDueAt) note(scope, w.customerId, w.nextDueAt);
      return [...found.values()].slice(0, limit);
    },
    async allTestClocks() {
      return [...clocks.values()].map(({ scope, clock }) => ({ scope, clock: copy(clock) }));
    },
    async allTestClockCustomers() {
      const out: { scope: Scope; customerId: CustomerId; testClockId: TestClockId }[] = [];
      for (const [scope, c] of sources.customers.all()) if (c.testClockId) out.push({ scope, customerId: c.id, testClockId: c.testClockId });
      return out;
    },
    async getTestClock(scope, id) {
      const c = clocks.get(clockKey(scope, id));
      return c ? copy(c.clock) : null;
    },
    async listTestClocks(scope, page) {
      const k = scopeKey(scope);
      return [...clocks.values()]
        .filter((c) => scopeKey(c.scope) === k && (!page.cursor || c.clock.id > page.cursor))
        .map((c) => copy(c.clock))
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .slice(0, page.limit + 1);
    },
    async countTestClocks(scope) {
      const k = scopeKey(scope);
      return [...clocks.values()].filter((c) => scopeKey(c.scope) === k).length;
    },
    async countTestClockCustomers(scope, id) {
      return sources.customers.find(scope, (c) => c.testClockId === id).length;
    },
    async insertTestClock(scope, clock) {
      clocks.set(clockKey(scope, clock.id), { scope, clock: copy(clock) });
    },
    async moveTestClock(scope, id, to, updatedAt) {
      const c = clocks.get(clockKey(scope, id));
      if (!c) return null;
      if (to > c.clock.now) c.clock = { ...c.clock, now: new Date(to), updatedAt };
      return copy(c.clock);
    },
    async deleteTestClock(scope, id) {
      if (!clocks.delete(clockKey(scope, id))) return null;
      const ids = sources.customers.find(scope, (c) => c.testClockId === id).map((c) => c.id);
      const gone = new Set<string>(ids);
      sources.forgetCustomers(scope, gone);
      sources.subscriptions.delete(scope, (s) => gone.has(s.customerId));
      sources.customers.delete(scope, (c) => gone.has(c.id));
      return ids;
    },
  };
}
