import type { PaymentStore } from '../payment/store';
import type { Payment, PaymentAttempt, PaymentMethod, PaymentSettings } from '../payment/types';
import { conflict, scopeKey } from '../types';
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
  };
}
