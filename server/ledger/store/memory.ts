import type { Customer } from '../customer/types';
import type { Plan } from '../plan/types';
import type { Subscription } from '../subscription/types';
import type { ScopeMode, ScopeSettings } from '../scope/store';
import { conflict, scopeKey } from '../types';
import { createMemoryCouponStore } from './memory-coupons';
import { createMemoryBillingStore } from './memory-billing';
import { createMemoryInvoiceStore } from './memory-invoices';
import { createMemoryPaymentStore } from './memory-payments';
import { createMemoryEventStore } from './memory-events';
import { ScopedTable } from './memory-table';
import { createMemoryTaxRateStore } from './memory-tax';
import { createMemoryUsageStore } from './memory-usage';
import { createMemoryConsumptionStore } from './memory-consume';
import { createMemoryWalletStore } from './memory-wallets';
import type { Store } from './store';

export function createMemoryStore(): Store {
  const customers = new ScopedTable<Customer>();
  const plans = new ScopedTable<Plan>();
  const subs = new ScopedTable<Subscription>();
  const clockOf = (scope: Parameters<typeof customers.rows>[0], customerId: string) => customers.rows(scope).get(customerId)?.testClockId ?? null;
  const onClock = (scope: Parameters<typeof customers.rows>[0], customerId: string, on?: { testClockId: string | null }) =>
    !on || clockOf(scope, customerId) === on.testClockId;
  const { store: invoices, all: invoiceRows, forgetCustomers: forgetInvoices } = createMemoryInvoiceStore(clockOf);
  const usage = createMemoryUsageStore();
  const wallets = createMemoryWalletStore(clockOf);
  const modes = new Map<string, ScopeMode>();
  const scopeSettings = new Map<string, ScopeSettings>();

  return {
    kind: 'memory',
    // Writes apply as they come: a failure midway keeps the writes before it (tests only).
    atomic: (work) => work(),
    events: createMemoryEventStore(),
    wallets,
    customers: {
      async insert(scope, c) {
        if (c.externalId !== null && customers.find(scope, (r) => r.externalId === c.externalId).length) {
          throw conflict(`a customer with external id "${c.externalId}" already exists`);
        }
        customers.put(scope, c);
      },
      async get(scope, id) {
        return customers.get(scope, id);
      },
      async getByExternalId(scope, externalId) {
        return customers.find(scope, (r) => r.externalId === externalId)[0] ?? null;
      },
      async list(scope, page) {
        return customers.page(scope, page);
      },
      async update(scope, c) {
        const current = customers.rows(scope).get(c.id);
        if (!current) return false;
        c = { ...c, testClockId: current.testClockId }; // set at creation, never changed
        if (c.externalId !== null && customers.find(scope, (r) => r.externalId === c.externalId && r.id !== c.id).length) {
          throw conflict(`a customer with external id "${c.externalId}" already exists`);
        }
        customers.put(scope, c);
        return true;
      },
    },
    plans: {
      async insert(scope, p) {
        if (plans.find(scope, (r) => r.key === p.key).length) {
          throw conflict(`a plan with key "${p.key}" already exists`);
        }
        plans.put(scope, p);
      },
      async insertVersion(scope, previous, next) {
        const current = plans.get(scope, previous.id);
        if (!current?.isLatest) throw conflict(`plan ${previous.id} is no longer the latest version`);
        plans.put(scope, { ...current, isLatest: false, updatedAt: next.createdAt });
        plans.put(scope, next);
      },
      async get(scope, id) {
        return plans.get(scope, id);
      },
      async getLatestByKey(scope, key) {
        return plans.find(scope, (r) => r.key === key && r.isLatest)[0] ?? null;
      },
      async listLatest(scope, page, { includeArchived }) {
        // Plan lines are ordered by key, and the cursor is a key (as in the SQL store).
        return plans
          .find(scope, (r) => r.isLatest && (includeArchived || r.status === 'active') && (!page.cursor || r.key > page.cursor))
          .sort((a, b) => (a.key < b.key ? -1 : 1))
          .slice(0, page.limit + 1);
      },
      async updateInPlace(scope, p) {
        const current = plans.get(scope, p.id);
        if (!current) return false;
        // Only what does not change prices, as in the SQL store: a stale copy of the plan
        // must not undo a newer version (isLatest), an archive, or change a price.
        const { name, description, metadata, updatedAt } = p;
        plans.put(scope, { ...current, name, description, metadata, updatedAt });
        return true;
      },
      async archive(scope, key, at) {
        for (const p of plans.find(scope, (r) => r.key === key)) {
          plans.put(scope, { ...p, status: 'archived', updatedAt: at });
        }
      },
    },
    subscriptions: {
      async insert(scope, s) {
        if (s.status !== 'canceled' && subs.find(scope, (r) => r.customerId === s.customerId && r.status !== 'canceled').length) {
          throw conflict(`customer ${s.customerId} already has a live subscription`);
        }
        subs.put(scope, s);
      },
      async get(scope, id) {
        return subs.get(scope, id);
      },
      async listByCustomer(scope, customerId, page) {
        return subs.page(scope, page, (r) => r.customerId === customerId);
      },
      async getLive(scope, customerId) {
        return subs.find(scope, (r) => r.customerId === customerId && r.status !== 'canceled')[0] ?? null;
      },
      async update(scope, s, expectedVersion) {
        const current = subs.rows(scope).get(s.id);
        if (!current || current.version !== expectedVersion) return false;
        if (s.status !== 'canceled' && subs.find(scope, (r) => r.customerId === s.customerId && r.status !== 'canceled' && r.id !== s.id).length) {
          throw conflict(`customer ${s.customerId} already has a live subscription`);
        }
        subs.put(scope, s);
        return true;
      },
      async listWithOutbox(scope, limit, on) {
        return subs.find(scope, (r) => r.outbox.length > 0 && onClock(scope, r.customerId, on)).slice(0, limit);
      },
      async listDue(scope, at, limit, on) {
        return subs
          .find(scope, (r) => r.status !== 'canceled' && r.currentPeriodEnd <= at && onClock(scope, r.customerId, on))
          .sort((a, b) => a.currentPeriodEnd.getTime() - b.currentPeriodEnd.getTime() || (a.id < b.id ? -1 : 1))
          .slice(0, limit);
      },
    },
    usage,
    consumptions: createMemoryConsumptionStore(usage),
    coupons: createMemoryCouponStore(),
    taxRates: createMemoryTaxRateStore(),
    payments: createMemoryPaymentStore(),
    invoices,
    billing: createMemoryBillingStore({
      customers,
      subscriptions: subs,
      invoices: () => invoiceRows(),
      wallets: () => wallets.all(),
      forgetCustomers: (scope, ids) => {
        forgetInvoices(scope, ids);
        usage.forgetCustomers(scope, ids);
      },
    }),
    scopes: {
      async mode(scope) {
        return modes.get(scopeKey(scope)) ?? null;
      },
      async register(scope, mode) {
        const k = scopeKey(scope);
        if (!modes.has(k)) modes.set(k, mode);
        return modes.get(k)!;
      },
      async settings(scope) {
        const s = scopeSettings.get(scopeKey(scope));
        return s ? { ...s } : null;
      },
      async putSettings(scope, settings) {
        scopeSettings.set(scopeKey(scope), { ...settings });
      },
    },
  };
}
