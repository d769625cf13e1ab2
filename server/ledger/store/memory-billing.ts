import type { BillingStore } from '../billing/store';
import type { Invoice } from '../invoice/types';
import type { Subscription } from '../subscription/types';
import { scopeKey, type Scope } from '../types';

/** The billing store in memory, over the memory store's subscriptions and invoices. */
export function createMemoryBillingStore(sources: {
  subscriptions: () => Iterable<[Scope, Subscription]>;
  invoices: () => Iterable<[Scope, Invoice]>;
}): BillingStore {
  const clocks = new Map<string, { scope: Scope; now: Date }>();
  return {
    async dueScopes(at, limit) {
      // Each scope at its own time: its test clock's, else `at`.
      const timeOf = (scope: Scope) => clocks.get(scopeKey(scope))?.now ?? at;
      const found = new Map<string, Scope>();
      for (const [scope, s] of sources.subscriptions()) {
        if ((s.status !== 'canceled' && s.currentPeriodEnd <= timeOf(scope)) || s.outbox.length > 0) found.set(scopeKey(scope), scope);
      }
      for (const [scope, i] of sources.invoices()) if (i.status === 'draft' && i.finalizeAt <= timeOf(scope)) found.set(scopeKey(scope), scope);
      return [...found.values()].slice(0, limit);
    },
    async allTestClocks() {
      return [...clocks.values()].map((c) => ({ scope: c.scope, now: new Date(c.now) }));
    },
    async getTestClock(scope) {
      const c = clocks.get(scopeKey(scope));
      return c ? new Date(c.now) : null;
    },
    async createTestClock(scope, at) {
      if (clocks.has(scopeKey(scope))) return false;
      clocks.set(scopeKey(scope), { scope, now: new Date(at) });
      return true;
    },
    async moveTestClock(scope, from, to) {
      const c = clocks.get(scopeKey(scope));
      if (!c || c.now.getTime() !== from.getTime() || to < from) return false;
      c.now = new Date(to);
      return true;
    },
    async deleteTestClock(scope) {
      return clocks.delete(scopeKey(scope));
    },
  };
}
