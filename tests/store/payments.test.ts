import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Payment, PaymentAttempt, PaymentMethod, Refund } from '../../server/ledger/payment/types';
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
    amountRefunded: 0,
    dispute: null,
    createdAt: AT,
    updatedAt: AT,
    ...overrides,
  };
}

function refundRow(p: Payment, overrides: Partial<Refund> = {}): Refund {
  return {
    id: newId('refund'),
    paymentId: p.id,
    invoiceId: p.invoiceId,
    customerId: p.customerId,
    creditNoteId: null,
    amount: 1000,
    currency: p.currency,
    status: 'pending',
    provider: p.provider,
    providerRefundId: null,
    reason: 'billing_error',
    idempotencyKey: `cn_${Math.random().toString(16).slice(2)}:refund`,
    failureMessage: null,
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
    const custom = { provider: 'stripe', collectionMethod: 'send_invoice' as const, daysUntilDue: 14, retrySchedule: [1, 2], finalPolicy: 'canceled' as const, finalInvoiceCredit: 'refund' as const };
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
  it('amountRefunded: raised only while it stays within 0…amount (4900: 1000 + 3900 fit, 1 more does not), lowered back, never below 0', async () => {
    const p = paymentRow({ status: 'succeeded' });
    await payments().insertPayment(s, p);
    expect(await payments().addRefunded(s, p.id, 1000, later(1))).toMatchObject({ amountRefunded: 1000, updatedAt: later(1) });
    expect(await payments().addRefunded(s, p.id, 3901, later(2))).toBeNull();
    expect(await payments().addRefunded(s, p.id, 3900, later(3))).toMatchObject({ amountRefunded: 4900 });
    expect(await payments().addRefunded(s, p.id, 1, later(4))).toBeNull();
    expect(await payments().addRefunded(s, p.id, -1000, later(5))).toMatchObject({ amountRefunded: 3900 });
    expect(await payments().addRefunded(s, p.id, -3901, later(6))).toBeNull();
    expect(await payments().getPayment(s, p.id)).toMatchObject({ amountRefunded: 3900, updatedAt: later(5) });
    expect(await payments().addRefunded(otherAppOf(s), p.id, 1, later(7))).toBeNull();
  });

  it('amountRefunded: ten refunds of 1000 racing on a payment of 4900: four fit, the total stays 4000', async () => {
    const p = paymentRow({ status: 'succeeded' });
    await payments().insertPayment(s, p);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => payments().addRefunded(s, p.id, 1000, later(i))));
    expect(results.filter((r) => r !== null)).toHaveLength(4);
    expect((await payments().getPayment(s, p.id))!.amountRefunded).toBe(4000);
  });

  it('a dispute is recorded on a succeeded payment and read back', async () => {
    const p = paymentRow({ status: 'succeeded', providerPaymentId: 'pi_1' });
    await payments().insertPayment(s, p);
    const dispute = { providerDisputeId: 'dp_1', reason: 'fraudulent', status: 'needs_response', createdAt: AT.toISOString() };
    expect(await payments().transitionPayment(s, p.id, ['succeeded'], { status: 'succeeded', dispute, updatedAt: later(1) })).toMatchObject({ dispute });
    expect((await payments().getPayment(s, p.id))!.dispute).toEqual(dispute);
  });

  it('refunds: inserted once per idempotency key (the second insert returns the first), listed by payment and invoice, found by key and provider ref', async () => {
    const p = paymentRow({ status: 'succeeded' });
    await payments().insertPayment(s, p);
    const r1 = refundRow(p);
    expect(await payments().insertRefund(s, r1)).toEqual({ refund: r1, created: true });
    expect(await payments().insertRefund(s, { ...refundRow(p), idempotencyKey: r1.idempotencyKey, amount: 2000 })).toEqual({ refund: r1, created: false });
    const r2 = refundRow(p, { amount: 500, createdAt: later(1), updatedAt: later(1) });
    await payments().insertRefund(s, r2);
    expect(await payments().getRefund(s, r1.id)).toEqual(r1);
    expect(await payments().getRefundByKey(s, r2.idempotencyKey)).toEqual(r2);
    expect((await payments().listRefundsByPayment(s, p.id)).map((r) => r.amount)).toEqual([1000, 500]);
    expect((await payments().listRefundsByInvoice(s, p.invoiceId)).map((r) => r.id)).toEqual([r1.id, r2.id]);
    expect((await payments().listPendingRefunds(s, 10)).map((r) => r.id)).toEqual([r1.id, r2.id]);

    const done = await payments().transitionRefund(s, r1.id, ['pending'], { status: 'succeeded', providerRefundId: 're_1', updatedAt: later(2) });
    expect(done).toEqual({ ...r1, status: 'succeeded', providerRefundId: 're_1', updatedAt: later(2) });
    expect(await payments().findRefundByProviderRef(s, p.provider, 're_1')).toEqual(done);
    expect(await payments().findRefundByProviderRef(s, 'stripe', 're_1')).toBeNull();
    // Forward only: a succeeded refund is not pending any more.
    expect(await payments().transitionRefund(s, r1.id, ['pending'], { status: 'canceled', updatedAt: later(3) })).toBeNull();
    // A provider ref is another refund's: conflict, nothing changes.
    await rejectsWith(payments().transitionRefund(s, r2.id, ['pending'], { status: 'succeeded', providerRefundId: 're_1', updatedAt: later(3) }), 'conflict');
    expect(await payments().getRefund(s, r2.id)).toEqual(r2);
    expect((await payments().listPendingRefunds(s, 10)).map((r) => r.id)).toEqual([r2.id]);
    // Nothing crosses the scope.
    const other = otherAppOf(s);
    expect(await payments().getRefund(other, r1.id)).toBeNull();
    expect(await payments().findRefundByProviderRef(other, p.provider, 're_1')).toBeNull();
    expect(await payments().listRefundsByInvoice(other, p.invoiceId)).toEqual([]);
    expect(await payments().transitionRefund(other, r2.id, ['pending'], { status: 'failed', updatedAt: later(4) })).toBeNull();
    expect((await payments().insertRefund(other, { ...r1, status: 'pending', providerRefundId: null })).created).toBe(true);
  });

  it('provider customers: put once (the first id stands), found by the provider id within the scope only, marked deleted once', async () => {
    const cust = customerId();
    const row = { customerId: cust, provider: 'stripe', providerCustomerId: `cus_${Math.random().toString(16).slice(2)}`, createdAt: AT, deletedAt: null };
    expect(await payments().getProviderCustomer(s, cust, 'stripe')).toBeNull();
    expect(await payments().putProviderCustomer(s, row)).toEqual(row);
    expect(await payments().putProviderCustomer(s, { ...row, providerCustomerId: 'cus_other', createdAt: later(1) })).toEqual(row);
    expect(await payments().getProviderCustomer(s, cust, 'stripe')).toEqual(row);
    expect(await payments().getProviderCustomer(s, cust, 'paddle')).toBeNull();
    expect(await payments().findProviderCustomer(s, 'stripe', row.providerCustomerId)).toEqual(row);
    // Another customer of the scope cannot take the same provider id.
    await rejectsWith(payments().putProviderCustomer(s, { ...row, customerId: customerId() }), 'conflict');
    const other = otherAppOf(s);
    expect(await payments().findProviderCustomer(other, 'stripe', row.providerCustomerId)).toBeNull();
    expect(await payments().markProviderCustomerDeleted(other, 'stripe', row.providerCustomerId, later(2))).toBeNull();
    expect(await payments().markProviderCustomerDeleted(s, 'stripe', row.providerCustomerId, later(2))).toEqual({ ...row, deletedAt: later(2) });
    expect(await payments().markProviderCustomerDeleted(s, 'stripe', row.providerCustomerId, later(3))).toEqual({ ...row, deletedAt: later(2) });
    // Deleted at the provider: the same id again keeps the row as it is; a new id replaces it.
    expect(await payments().putProviderCustomer(s, { ...row, createdAt: later(4) })).toEqual({ ...row, deletedAt: later(2) });
    const again = { ...row, providerCustomerId: `${row.providerCustomerId}_2`, createdAt: later(5) };
    expect(await payments().putProviderCustomer(s, again)).toEqual(again);
    expect(await payments().findProviderCustomer(s, 'stripe', again.providerCustomerId)).toEqual(again);
    expect(await payments().findProviderCustomer(s, 'stripe', row.providerCustomerId)).toBeNull();
    expect(await payments().putProviderCustomer(s, { ...row, providerCustomerId: 'cus_third', createdAt: later(6) })).toEqual(again);
  });

  it('methods: found by provider ref (detached too); details updated; detaching the default leaves no default', async () => {
    const m = methodRow({ isDefault: true });
    await payments().insertMethod(s, m);
    expect(await payments().findMethodByProviderRef(s, m.provider, m.providerRef)).toEqual(m);
    expect(await payments().updateMethodDetails(s, m.id, { expMonth: 3, expYear: 2033 })).toEqual({ ...m, expMonth: 3, expYear: 2033 });
    const detached = await payments().updateMethodDetails(s, m.id, { detachedAt: later(1) });
    expect(detached).toEqual({ ...m, expMonth: 3, expYear: 2033, detachedAt: later(1), isDefault: false });
    expect(await payments().defaultMethod(s, m.customerId)).toBeNull();
    expect(await payments().findMethodByProviderRef(s, m.provider, m.providerRef)).toEqual(detached);
    expect(await payments().findMethodByProviderRef(otherAppOf(s), m.provider, m.providerRef)).toBeNull();
    expect(await payments().updateMethodDetails(otherAppOf(s), m.id, { expYear: 2040 })).toBeNull();
  });

  it('reconcile: the scopes with a pending payment or refund, in scope order, paged; their pending payments oldest first', async () => {
    const t = `t-rec-${Math.random().toString(16).slice(2, 10)}`;
    const [a, b, c] = ['a-1', 'a-2', 'a-3'].map((app) => ({ tenantId: t, appId: app }) as Scope);
    const older = paymentRow({ createdAt: later(-1000) });
    const newer = paymentRow({ createdAt: later(0) });
    await payments().insertPayment(a!, newer);
    await payments().insertPayment(a!, older);
    await payments().insertPayment(a!, paymentRow({ status: 'succeeded' }));
    const settled = paymentRow({ status: 'succeeded' });
    await payments().insertPayment(b!, settled); // nothing pending in b
    const forRefund = paymentRow({ status: 'succeeded' });
    await payments().insertPayment(c!, forRefund);
    await payments().insertRefund(c!, refundRow(forRefund));
    const ours = async (after?: Scope) => (await payments().scopesWithPendingWork(10_000, after)).filter((x) => x.tenantId === t);
    expect(await ours()).toEqual([a, c]);
    expect(await ours(a)).toEqual([c]);
    expect((await payments().listPendingPayments(a!, 10)).map((p) => p.id)).toEqual([older.id, newer.id]);
    expect(await payments().listPendingPayments(b!, 10)).toEqual([]);
  });
});
