import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Payment, PaymentAttempt, PaymentMethod } from '../../server/ledger/payment/types';
import { DEFAULT_PAYMENT_SETTINGS } from '../../server/ledger/payment/types';
import { currency, newId, type Scope } from '../../server/ledger/types';
import { AT } from '../support/builders';
import { rejectsWith } from '../support/engine';
import { otherAppOf, storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * The payment part of the Store contract, for every store: settings, methods (one
 * default per customer), payments (one per idempotency key, forward-only moves) and
 * their attempts, all within the scope.
 */
const later = (ms: number) => new Date(AT.getTime() + ms);
const customerId = () => newId('customer');

function methodRow(overrides: Partial<PaymentMethod> = {}): PaymentMethod {
  return {
    id: newId('paymentMethod'),
    customerId: customerId(),
    provider: 'sandbox',
    providerRef: `sandbox_card_succeeds_${Math.random().toString(16).slice(2, 18).padEnd(16, '0')}`,
    brand: 'visa',
    last4: '4242',
    expMonth: 12,
    expYear: 2030,
    isDefault: true,
    createdAt: AT,
    detachedAt: null,
    ...overrides,
  };
}

function paymentRow(overrides: Partial<Payment> = {}): Payment {
  const invoiceId = overrides.invoiceId ?? newId('invoice');
  const attempt = overrides.attempt ?? 1;
  return {
    id: newId('payment'),
    invoiceId,
    customerId: customerId(),
    amount: 4900,
    currency: currency('USD'),
    status: 'pending',
    provider: 'sandbox',
    attempt,
    idempotencyKey: `${invoiceId}:attempt:${attempt}`,
    paymentMethodId: newId('paymentMethod'),
    providerPaymentId: null,
    failureCode: null,
    failureMessage: null,
    actionUrl: null,
    createdAt: AT,
    updatedAt: AT,
    ...overrides,
  };
}

const attemptRow = (p: Payment, number: number, overrides: Partial<PaymentAttempt> = {}): PaymentAttempt => ({
  id: newId('paymentAttempt'),
  paymentId: p.id,
  invoiceId: p.invoiceId,
  idempotencyKey: p.idempotencyKey,
  number,
  outcome: 'succeeded',
  failureCode: null,
  failureMessage: null,
  createdAt: later(number),
  ...overrides,
});

describe.each(storeFactories())('$name store: payments', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let s: Scope;
  beforeEach(() => {
    s = uniqueScope();
  });
  const payments = () => store().payments;

  it('settings: none until put; put twice keeps the last; another app of the tenant has none', async () => {
    expect(await payments().getSettings(s)).toBeNull();
    await payments().putSettings(s, DEFAULT_PAYMENT_SETTINGS);
    const custom = { provider: 'stripe', collectionMethod: 'send_invoice' as const, daysUntilDue: 14, retrySchedule: [1, 2], finalPolicy: 'canceled' as const };
    await payments().putSettings(s, custom);
    expect(await payments().getSettings(s)).toEqual(custom);
    expect(await payments().getSettings(otherAppOf(s))).toBeNull();
  });

  it('methods: round-trip, one default per customer, the newest default wins', async () => {
    const cust = customerId();
    const first = methodRow({ customerId: cust, isDefault: true });
    const second = methodRow({ customerId: cust, isDefault: true, last4: '0002' });
    await payments().insertMethod(s, first);
    await payments().insertMethod(s, second);
    expect(await payments().getMethod(s, first.id)).toEqual({ ...first, isDefault: false });
    expect(await payments().defaultMethod(s, cust)).toEqual(second);
    expect((await payments().listMethods(s, cust)).map((m) => [m.last4, m.isDefault])).toEqual([
      ['4242', false],
      ['0002', true],
    ]);
  });

  it('methods: a provider reference is recorded once (conflict); detached ones are neither listed nor default', async () => {
    const m = methodRow();
    await payments().insertMethod(s, m);
    await rejectsWith(payments().insertMethod(s, methodRow({ providerRef: m.providerRef })), 'conflict');
    const gone = methodRow({ detachedAt: later(1) });
    await payments().insertMethod(s, gone);
    expect(await payments().listMethods(s, gone.customerId)).toEqual([]);
    expect(await payments().defaultMethod(s, gone.customerId)).toBeNull();
  });

  it('payments: round-trip; a second payment with the same idempotency key is a conflict and changes nothing', async () => {
    const p = paymentRow();
    await payments().insertPayment(s, p);
    expect(await payments().getPayment(s, p.id)).toEqual(p);
    await rejectsWith(payments().insertPayment(s, paymentRow({ invoiceId: p.invoiceId, idempotencyKey: p.idempotencyKey })), 'conflict');
    expect(await payments().listPaymentsByInvoice(s, p.invoiceId)).toEqual([p]);
  });

  it('payments: listed by invoice in attempt order and by customer in pages', async () => {
    const invoiceId = newId('invoice');
    const cust = customerId();
    const two = paymentRow({ invoiceId, customerId: cust, attempt: 2, status: 'failed' });
    const one = paymentRow({ invoiceId, customerId: cust, attempt: 1, status: 'failed' });
    const three = paymentRow({ customerId: cust });
    for (const p of [two, one, three]) await payments().insertPayment(s, p);
    expect((await payments().listPaymentsByInvoice(s, invoiceId)).map((p) => p.attempt)).toEqual([1, 2]);
    const page1 = await payments().listPaymentsByCustomer(s, cust, { limit: 2 });
    expect(page1).toHaveLength(3); // limit + 1: there is a next page
    const ids = [two, one, three].map((p) => p.id).sort();
    expect(page1.map((p) => p.id)).toEqual(ids);
    expect((await payments().listPaymentsByCustomer(s, cust, { limit: 2, cursor: ids[1] })).map((p) => p.id)).toEqual([ids[2]]);
  });

  it('payments move only from the states given: pending → succeeded, then never back', async () => {
    const p = paymentRow();
    await payments().insertPayment(s, p);
    const moved = await payments().transitionPayment(s, p.id, ['pending', 'requires_action'], { status: 'succeeded', providerPaymentId: 'ch_1', updatedAt: later(5) });
    expect(moved).toEqual({ ...p, status: 'succeeded', providerPaymentId: 'ch_1', updatedAt: later(5) });
    expect(await payments().transitionPayment(s, p.id, ['pending', 'requires_action'], { status: 'failed', updatedAt: later(6) })).toBeNull();
    expect(await payments().getPayment(s, p.id)).toEqual(moved);
  });

  it('attempts: numbered per payment, listed in order, a number recorded once', async () => {
    const p = paymentRow();
    await payments().insertPayment(s, p);
    const a2 = attemptRow(p, 2);
    const a1 = attemptRow(p, 1, { outcome: 'error', failureMessage: 'timeout' });
    await payments().insertAttempt(s, a2);
    await payments().insertAttempt(s, a1);
    await rejectsWith(payments().insertAttempt(s, attemptRow(p, 1)), 'conflict');
    expect(await payments().listAttempts(s, p.id)).toEqual([a1, a2]);
  });

  it('no read crosses the scope: another app of the same tenant sees none of it', async () => {
    const m = methodRow();
    const p = paymentRow({ customerId: m.customerId });
    await payments().insertMethod(s, m);
    await payments().insertPayment(s, p);
    await payments().insertAttempt(s, attemptRow(p, 1));
    const other = otherAppOf(s);
    expect(await payments().getMethod(other, m.id)).toBeNull();
    expect(await payments().defaultMethod(other, m.customerId)).toBeNull();
    expect(await payments().getPayment(other, p.id)).toBeNull();
    expect(await payments().listPaymentsByInvoice(other, p.invoiceId)).toEqual([]);
    expect(await payments().listPaymentsByCustomer(other, p.customerId, { limit: 10 })).toEqual([]);
    expect(await payments().listAttempts(other, p.id)).toEqual([]);
    expect(await payments().transitionPayment(other, p.id, ['pending'], { status: 'canceled', updatedAt: later(1) })).toBeNull();
    // The same idempotency key in another scope is another payment.
    await payments().insertPayment(other, { ...p, id: newId('payment') });
  });
});
