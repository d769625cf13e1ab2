import type { WebhookEventRecord } from '../payment/events';
import type { PaymentStore } from '../payment/store';
import type { Payment, PaymentAttempt, PaymentMethod, PaymentSettings, ProviderCustomer, Refund } from '../payment/types';
import { conflict, scopeKey, type Scope } from '../types';
import { ScopedTable } from './memory-table';

/**
 * Payments in memory, per scope, copied on the way in and out. The unique keys of the
 * SQL store (a payment's idempotency key, an attempt's number per payment) and its
 * one-default-method rule are checked here the same way.
 */
export function createMemoryPaymentStore(): PaymentStore {
  const settings = new Map<string, PaymentSettings>();
  const methods = new ScopedTable<PaymentMethod>();
  const payments = new ScopedTable<Payment>();
  const attempts = new ScopedTable<PaymentAttempt>();
  const refunds = new ScopedTable<Refund>();
  /** Keyed by customer and provider, as the SQL table's primary key. */
  const providerCustomers = new ScopedTable<ProviderCustomer & { id: string }>();
  const pcKey = (customerId: string, provider: string) => JSON.stringify([customerId, provider]);
  const pcOut = (row: (ProviderCustomer & { id: string }) | null | undefined): ProviderCustomer | null => {
    if (!row) return null;
    const { id: _id, ...pc } = row;
    return pc;
  };
  const byCreation = <T extends { createdAt: Date; id: string }>(rows: T[]) =>
    rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
  const inbox = new Map<string, WebhookEventRecord>();
  const inboxKey = (provider: string, eventId: string) => JSON.stringify([provider, eventId]);
  const oldestFirst = <T extends { id: string }>(rows: T[]) => rows.sort((a, b) => (a.id < b.id ? -1 : 1));

  return {
    async getSettings(scope) {
      const s = settings.get(scopeKey(scope));
      return s ? structuredClone(s) : null;
    },
    async putSettings(scope, s) {
      settings.set(scopeKey(scope), structuredClone(s));
    },
    async insertMethod(scope, m) {
      if (methods.get(scope, m.id)) throw conflict(`payment method ${m.id} already exists`);
      if (methods.find(scope, (r) => r.provider === m.provider && r.providerRef === m.providerRef).length) {
        throw conflict(`payment method ${m.provider}/${m.providerRef} is already recorded`);
      }
      if (m.isDefault) {
        for (const other of methods.find(scope, (r) => r.customerId === m.customerId && r.isDefault)) {
          methods.put(scope, { ...other, isDefault: false });
        }
      }
      methods.put(scope, m);
    },
    async getMethod(scope, id) {
      return methods.get(scope, id);
    },
    async listMethods(scope, customerId) {
      return oldestFirst(methods.find(scope, (r) => r.customerId === customerId && r.detachedAt === null));
    },
    async defaultMethod(scope, customerId) {
      return methods.find(scope, (r) => r.customerId === customerId && r.isDefault && r.detachedAt === null)[0] ?? null;
    },
    async insertPayment(scope, p) {
      if (payments.find(scope, (r) => r.idempotencyKey === p.idempotencyKey).length) {
        throw conflict(`a payment with idempotency key "${p.idempotencyKey}" already exists`);
      }
      payments.put(scope, p);
    },
    async getPayment(scope, id) {
      return payments.get(scope, id);
    },
    async listPaymentsByInvoice(scope, invoiceId) {
      return payments.find(scope, (r) => r.invoiceId === invoiceId).sort((a, b) => a.attempt - b.attempt);
    },
    async listPaymentsByCustomer(scope, customerId, page) {
      return payments.page(scope, page, (r) => r.customerId === customerId);
    },
    async transitionPayment(scope, id, from, patch) {
      const current = payments.get(scope, id);
      if (!current || !from.includes(current.status)) return null;
      const moved = { ...current, ...patch };
      payments.put(scope, moved);
      return structuredClone(moved);
    },
    async insertAttempt(scope, a) {
      if (attempts.find(scope, (r) => r.paymentId === a.paymentId && r.number === a.number).length) {
        throw conflict(`payment ${a.paymentId} already has an attempt ${a.number}`);
      }
      attempts.put(scope, a);
    },
    async listAttempts(scope, paymentId) {
      return attempts.find(scope, (r) => r.paymentId === paymentId).sort((a, b) => a.number - b.number);
    },
    async addRefunded(scope, paymentId, delta, updatedAt) {
      const p = payments.get(scope, paymentId);
      if (!p) return null;
      const next = p.amountRefunded + delta;
      if (next < 0 || next > p.amount) return null;
      const moved = { ...p, amountRefunded: next, updatedAt };
      payments.put(scope, moved);
      return structuredClone(moved);
    },
    async insertRefund(scope, r) {
      const existing = refunds.find(scope, (x) => x.idempotencyKey === r.idempotencyKey)[0];
      if (existing) return { refund: existing, created: false };
      if (r.providerRefundId !== null && refunds.find(scope, (x) => x.provider === r.provider && x.providerRefundId === r.providerRefundId).length) {
        throw conflict(`refund ${r.provider}/${r.providerRefundId} is already recorded`);
      }
      refunds.put(scope, r);
      return { refund: structuredClone(r), created: true };
    },
    async getRefund(scope, id) {
      return refunds.get(scope, id);
    },
    async getRefundByKey(scope, key) {
      return refunds.find(scope, (r) => r.idempotencyKey === key)[0] ?? null;
    },
    async findRefundByProviderRef(scope, provider, ref) {
      return refunds.find(scope, (r) => r.provider === provider && r.providerRefundId === ref)[0] ?? null;
    },
    async listRefundsByPayment(scope, paymentId) {
      return byCreation(refunds.find(scope, (r) => r.paymentId === paymentId));
    },
    async listRefundsByInvoice(scope, invoiceId) {
      return byCreation(refunds.find(scope, (r) => r.invoiceId === invoiceId));
    },
    async listPendingRefunds(scope, limit) {
      return byCreation(refunds.find(scope, (r) => r.status === 'pending')).slice(0, limit);
    },
    async transitionRefund(scope, id, from, patch) {
      const current = refunds.get(scope, id);
      if (!current || !from.includes(current.status)) return null;
      if (patch.providerRefundId && patch.providerRefundId !== current.providerRefundId) {
        const taken = refunds.find(scope, (r) => r.id !== id && r.provider === current.provider && r.providerRefundId === patch.providerRefundId);
        if (taken.length) throw conflict(`refund ${current.provider}/${patch.providerRefundId} is already recorded`);
      }
      const moved = { ...current, ...patch };
      refunds.put(scope, moved);
      return structuredClone(moved);
    },
    async getProviderCustomer(scope, customerId, provider) {
      return pcOut(providerCustomers.get(scope, pcKey(customerId, provider)));
    },
    async putProviderCustomer(scope, row) {
      const existing = providerCustomers.get(scope, pcKey(row.customerId, row.provider));
      if (existing && (existing.deletedAt === null || existing.providerCustomerId === row.providerCustomerId)) return pcOut(existing)!;
      if (providerCustomers.find(scope, (r) => r.provider === row.provider && r.providerCustomerId === row.providerCustomerId).length) {
        throw conflict(`${row.provider} customer ${row.providerCustomerId} is already another customer's`);
      }
      providerCustomers.put(scope, { ...row, id: pcKey(row.customerId, row.provider) });
      return structuredClone(row);
    },
    async findProviderCustomer(scope, provider, ref) {
      return pcOut(providerCustomers.find(scope, (r) => r.provider === provider && r.providerCustomerId === ref)[0]);
    },
    async markProviderCustomerDeleted(scope, provider, ref, at) {
      const row = providerCustomers.find(scope, (r) => r.provider === provider && r.providerCustomerId === ref)[0];
      if (!row) return null;
      const marked = { ...row, deletedAt: row.deletedAt ?? at };
      providerCustomers.put(scope, marked);
      return pcOut(marked);
    },
    async findMethodByProviderRef(scope, provider, ref) {
      return methods.find(scope, (m) => m.provider === provider && m.providerRef === ref)[0] ?? null;
    },
    async updateMethodDetails(scope, id, patch) {
      const current = methods.get(scope, id);
      if (!current) return null;
      const updated = { ...current, ...patch, ...(patch.detachedAt ? { isDefault: false } : {}) };
      methods.put(scope, updated);
      return structuredClone(updated);
    },
    async scopesWithPendingWork(limit, after) {
      const found = new Map<string, Scope>();
      for (const [scope, p] of payments.all()) if (p.status === 'pending') found.set(scopeKey(scope), scope);
      for (const [scope, r] of refunds.all()) if (r.status === 'pending') found.set(scopeKey(scope), scope);
      const order = (s: Scope) => [s.tenantId, s.appId] as const;
      const cmp = (a: Scope, b: Scope) => {
        const [at, aa] = order(a);
        const [bt, ba] = order(b);
        return at < bt ? -1 : at > bt ? 1 : aa < ba ? -1 : aa > ba ? 1 : 0;
      };
      return [...found.values()]
        .filter((s) => !after || cmp(s, after) > 0)
        .sort(cmp)
        .slice(0, limit)
        .map((s) => ({ ...s }));
    },
    async listPendingPayments(scope, limit) {
      return byCreation(payments.find(scope, (p) => p.status === 'pending')).slice(0, limit);
    },
    async insertWebhookEvent(e) {
      const k = inboxKey(e.provider, e.eventId);
      if (inbox.has(k)) return false;
      inbox.set(k, structuredClone(e));
      return true;
    },
    async getWebhookEvent(provider, eventId) {
      const e = inbox.get(inboxKey(provider, eventId));
      return e ? structuredClone(e) : null;
    },
    async listPendingWebhookEvents(now, limit) {
      return [...inbox.values()]
        .filter((e) => e.processedAt === null && (e.lockedUntil === null || e.lockedUntil <= now))
        .sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime())
        .slice(0, limit)
        .map((e) => structuredClone(e));
    },
    async claimWebhookEvent(provider, eventId, now, lockedUntil) {
      const e = inbox.get(inboxKey(provider, eventId));
      if (!e || e.processedAt !== null || (e.lockedUntil !== null && e.lockedUntil > now)) return null;
      e.attempts += 1;
      e.lockedUntil = lockedUntil;
      return structuredClone(e);
    },
    async completeWebhookEvent(provider, eventId, done) {
      const e = inbox.get(inboxKey(provider, eventId));
      if (!e) return;
      Object.assign(e, { processedAt: done.processedAt, outcome: done.outcome, note: done.note, scope: done.scope ? { ...done.scope } : null, lastError: null, lockedUntil: null });
    },
    async failWebhookEvent(provider, eventId, error, retryAt) {
      const e = inbox.get(inboxKey(provider, eventId));
      if (!e) return;
      Object.assign(e, { lastError: error, lockedUntil: retryAt });
    },
    async setDefaultMethod(scope, customerId, id) {
      const m = methods.get(scope, id);
      if (!m || m.customerId !== customerId || m.detachedAt !== null) return null;
      for (const other of methods.find(scope, (r) => r.customerId === customerId && r.isDefault && r.id !== id)) {
        methods.put(scope, { ...other, isDefault: false });
      }
      const updated = { ...m, isDefault: true };
      methods.put(scope, updated);
      return structuredClone(updated);
    },
    async detachMethod(scope, id, at) {
      const m = methods.get(scope, id);
      if (!m || m.detachedAt !== null) return null;
      const updated = { ...m, isDefault: false, detachedAt: at };
      methods.put(scope, updated);
      return structuredClone(updated);
    },
  };
}
