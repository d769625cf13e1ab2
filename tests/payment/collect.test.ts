import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLedger,
  ManualClock,
  silentLogger,
  type Invoice,
  type Ledger,
  type Scope,
} from '@/server/ledger';
import { recordingPlugin, rejectsWith } from '../support/engine';
import { flakyProvider } from '../support/flaky-provider';
import { otherAppOf, storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * Collecting an invoice, on every store, with concrete numbers. Plan "Pro": 49.00 a
 * month in advance, so subscribing issues an open invoice of 49.00 (INV-000001), which
 * `collectPayment` charges through the scope's provider: the sandbox by default, whose
 * outcome follows Stripe's test cards.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const VISA = '4242 4242 4242 4242';
const DECLINED = '4000 0000 0000 0002';
const NO_FUNDS = '4000 0000 0000 9995';
const FAILS_ON_CHARGE = '4000 0000 0000 0341';
const REQUIRES_ACTION = '4000 0025 0000 3155';

describe.each(storeFactories())('collecting invoices on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function setup(mode: 'test' | 'live' = 'test') {
    const flaky = flakyProvider();
    const recorder = recordingPlugin();
    const ledger = await createLedger({ store: store(), clock: new ManualClock(T0), logger: silentLogger, providers: [flaky.provider], plugins: [recorder.plugin] });
    const scope = uniqueScope();
    await ledger.scopes.register(scope, mode);
    const plan = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    // Sent invoices: finalization charges nothing, so each test collects the open invoice
    // itself (automatic collection at finalization: collection.test.ts, dunning.test.ts).
    const customer = await ledger.customers.create(scope, { email: 'ada@example.com', name: 'Ada', collectionMethod: 'send_invoice' });
    /** Subscribes the customer: the open invoice of 49.00 it issues. */
    const openInvoice = async (): Promise<Invoice> => {
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      const [inv] = (await ledger.invoices.listByCustomer(scope, customer.id)).items;
      expect(inv).toMatchObject({ status: 'open', number: 'INV-000001', total: 4900, amountDue: 4900 });
      return inv!;
    };
    const card = (number: string) => ledger.payments.sandbox.attachCard(scope, customer.id, { number, expMonth: 12, expYear: 2030 });
    return { ledger, scope, customer, openInvoice, card, flaky, recorder };
  }

  it('4242: an open invoice of 49.00 becomes paid, with one succeeded payment of 49.00 (attempt 1)', async () => {
    const { ledger, scope, openInvoice, card, recorder } = await setup();
    const method = await card(VISA);
    const inv = await openInvoice();
    const { invoice, payment } = await ledger.collectPayment(scope, inv.id);
    expect(invoice).toMatchObject({ id: inv.id, status: 'paid', amountDue: 0, paidAt: T0 });
    expect(payment).toMatchObject({
      status: 'succeeded',
      amount: 4900,
      currency: 'USD',
      provider: 'sandbox',
      attempt: 1,
      idempotencyKey: `${inv.id}:attempt:1`,
      paymentMethodId: method.id,
      failureCode: null,
    });
    expect(payment!.providerPaymentId).toMatch(/^sandbox_pay_/);
    expect((await ledger.payments.list(scope, { invoiceId: inv.id })).items).toEqual([payment]);
    expect(await ledger.payments.get(scope, payment!.id)).toEqual(payment);
    expect((await ledger.payments.attempts(scope, payment!.id)).map((a) => [a.number, a.outcome])).toEqual([[1, 'succeeded']]);
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ status: 'paid' });
    expect(recorder.of('onPaymentProcessed')).toEqual([[scope, payment]]);
    expect(recorder.of('onInvoicePaid')).toEqual([[scope, invoice]]);
    expect(recorder.of('onInvoiceFailed')).toEqual([]);
  });

  it('collecting a paid invoice again is illegal_state, and nothing is charged a second time', async () => {
    const { ledger, scope, openInvoice, card } = await setup();
    await card(VISA);
    const inv = await openInvoice();
    const first = await ledger.collectPayment(scope, inv.id);
    await rejectsWith(ledger.collectPayment(scope, inv.id), 'illegal_state');
    expect((await ledger.payments.list(scope, { invoiceId: inv.id })).items).toEqual([first.payment]);
    expect(await ledger.payments.attempts(scope, first.payment!.id)).toHaveLength(1);
  });

  it('0002: declined with card_declined; a failed payment is recorded and the invoice stays open at 49.00', async () => {
    const { ledger, scope, openInvoice, card, recorder } = await setup();
    await card(DECLINED);
    const inv = await openInvoice();
    const { invoice, payment } = await ledger.collectPayment(scope, inv.id);
    expect(payment).toMatchObject({ status: 'failed', failureCode: 'card_declined', failureMessage: 'Your card was declined.', attempt: 1, amount: 4900 });
    expect(invoice).toEqual(await ledger.invoices.get(scope, inv.id));
    expect(invoice).toMatchObject({ status: 'open', amountDue: 4900, paidAt: null });
    expect(invoice.updatedAt).toEqual(inv.updatedAt); // the invoice itself did not change
    expect(recorder.of('onInvoicePaid')).toEqual([]);
    expect(recorder.of('onPaymentProcessed')).toEqual([[scope, payment]]);
    expect(recorder.of('onInvoiceFailed')).toEqual([[scope, inv, { code: 'card_declined', message: 'Your card was declined.', payment }]]);
  });

  it('a declined invoice is paid by a new card on the next attempt, with the key of attempt 2', async () => {
    const { ledger, scope, openInvoice, card } = await setup();
    await card(DECLINED);
    const inv = await openInvoice();
    await ledger.collectPayment(scope, inv.id);
    await card(VISA); // the new card becomes the default
    const second = await ledger.collectPayment(scope, inv.id);
    expect(second.invoice.status).toBe('paid');
    expect(second.payment).toMatchObject({ status: 'succeeded', attempt: 2, idempotencyKey: `${inv.id}:attempt:2` });
    expect((await ledger.payments.list(scope, { invoiceId: inv.id })).items.map((p) => [p.attempt, p.status])).toEqual([
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
  });

  it('9995 fails with insufficient_funds; 0341 attaches but fails when charged', async () => {
    for (const [number, code] of [
      [NO_FUNDS, 'insufficient_funds'],
      [FAILS_ON_CHARGE, 'card_declined'],
    ] as const) {
      const { ledger, scope, openInvoice, card } = await setup();
      const method = await card(number);
      expect(method).toMatchObject({ brand: 'visa', last4: number.slice(-4), isDefault: true });
      const inv = await openInvoice();
      const { invoice, payment } = await ledger.collectPayment(scope, inv.id);
      expect([invoice.status, payment!.status, payment!.failureCode]).toEqual(['open', 'failed', code]);
    }
  });

  it('3155 requires action: the payment says so with the URL to confirm at; collecting again asks the same payment, not a new one', async () => {
    const { ledger, scope, openInvoice, card, recorder } = await setup();
    await card(REQUIRES_ACTION);
    const inv = await openInvoice();
    const { invoice, payment } = await ledger.collectPayment(scope, inv.id);
    expect(invoice.status).toBe('open');
    expect(payment).toMatchObject({ status: 'requires_action', attempt: 1 });
    // The signed link of the hosted 3-D Secure page (server/ledger/payment/hosted.ts).
    expect(payment!.actionUrl).toMatch(/^\/sandbox\/confirm\/[\w-]+\.[\w-]+$/);
    const again = await ledger.collectPayment(scope, inv.id);
    expect(again.payment).toEqual(payment);
    expect(await ledger.payments.attempts(scope, payment!.id)).toHaveLength(2);
    expect(recorder.of('onPaymentProcessed')).toEqual([]);
  });

  it("attempt N's idempotency key is stable: a provider that times out after charging, asked again, charges once", async () => {
    const { ledger, scope, customer, openInvoice, flaky, recorder } = await setup();
    await ledger.payments.updateSettings(scope, { provider: 'flaky' });
    const [method] = await ledger.payments.syncMethods(scope, customer.id);
    expect(method).toMatchObject({ provider: 'flaky', providerRef: 'flaky_pm_1', last4: '1881', isDefault: true });
    const inv = await openInvoice();

    flaky.chargeTimesOut();
    const first = await ledger.collectPayment(scope, inv.id);
    expect(first.invoice.status).toBe('open');
    expect(first.payment).toMatchObject({ status: 'pending', attempt: 1, idempotencyKey: `${inv.id}:attempt:1` });

    const second = await ledger.collectPayment(scope, inv.id);
    expect(second.invoice.status).toBe('paid');
    expect(second.payment).toMatchObject({ id: first.payment!.id, status: 'succeeded', providerPaymentId: 'flaky_ch_1' });
    expect(flaky.charges).toEqual([`${inv.id}:attempt:1`, `${inv.id}:attempt:1`]);
    expect(flaky.charged.size).toBe(1); // charged once
    expect((await ledger.payments.attempts(scope, first.payment!.id)).map((a) => [a.number, a.outcome, a.idempotencyKey])).toEqual([
      [1, 'error', `${inv.id}:attempt:1`],
      [2, 'succeeded', `${inv.id}:attempt:1`],
    ]);
    expect(recorder.of('onProviderSync')).toEqual([[scope, 'flaky', { customerId: customer.id, added: [method] }]]);
  });

  it('two collects of one invoice at once charge it once: one succeeded payment, the invoice paid', async () => {
    const { ledger, scope, customer, openInvoice, flaky } = await setup();
    await ledger.payments.updateSettings(scope, { provider: 'flaky' });
    await ledger.payments.syncMethods(scope, customer.id);
    const inv = await openInvoice();
    // Whichever loses the race is refused (conflict, illegal_state) or sees the winner's payment.
    await Promise.allSettled([ledger.collectPayment(scope, inv.id), ledger.collectPayment(scope, inv.id)]);
    expect(flaky.charged.size).toBe(1);
    expect(new Set(flaky.charges)).toEqual(new Set([`${inv.id}:attempt:1`]));
    expect((await ledger.payments.list(scope, { invoiceId: inv.id })).items.map((p) => p.status)).toEqual(['succeeded']);
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ status: 'paid', amountDue: 0 });
  });

  it('an invoice with nothing due (credited in full) is paid at once, with no payment and no provider call', async () => {
    const { ledger, scope, openInvoice, flaky, recorder } = await setup();
    await ledger.payments.updateSettings(scope, { provider: 'flaky' });
    const inv = await openInvoice();
    // Credited down to nothing due, it is paid by the credit note itself; collecting it after is refused.
    const { invoice } = await ledger.invoices.createCreditNote(scope, inv.id, { amount: 4900, reason: 'billing_error' });
    expect(invoice).toMatchObject({ status: 'paid', amountDue: 0, credited: 4900 });
    await rejectsWith(ledger.collectPayment(scope, inv.id), 'illegal_state');
    expect(flaky.charges).toEqual([]);
    expect((await ledger.payments.list(scope, { invoiceId: inv.id })).items).toEqual([]);
    expect(recorder.of('onInvoicePaid')).toEqual([[scope, invoice]]);
  });

  it('a void invoice cannot be paid; a customer without a default method cannot be charged; both change nothing', async () => {
    const { ledger, scope, openInvoice, card } = await setup();
    const inv = await openInvoice();
    await rejectsWith(ledger.collectPayment(scope, inv.id), 'illegal_state'); // no method yet
    expect((await ledger.payments.list(scope, { invoiceId: inv.id })).items).toEqual([]);
    await card(VISA);
    await ledger.invoices.void(scope, inv.id);
    await rejectsWith(ledger.collectPayment(scope, inv.id), 'illegal_state');
    expect((await ledger.payments.list(scope, { invoiceId: inv.id })).items).toEqual([]);
  });

  it("another scope's invoice or payment is not_found there, and nothing is charged", async () => {
    const { ledger, scope, openInvoice, card } = await setup();
    await card(VISA);
    const inv = await openInvoice();
    const other = otherAppOf(scope);
    await ledger.scopes.register(other, 'test');
    await rejectsWith(ledger.collectPayment(other, inv.id), 'not_found');
    await rejectsWith(ledger.collectPayment(uniqueScope(), inv.id), 'not_found');
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ status: 'open' });
    const { payment } = await ledger.collectPayment(scope, inv.id);
    await rejectsWith(ledger.payments.get(other, payment!.id), 'not_found');
    await rejectsWith(ledger.payments.list(other, { invoiceId: inv.id }), 'not_found');
  });

  it('a malformed id is invalid; a payment is listed by its customer', async () => {
    const { ledger, scope, customer, openInvoice, card } = await setup();
    await rejectsWith(ledger.collectPayment(scope, 'pay_nope'), 'invalid');
    await rejectsWith(ledger.payments.list(scope, { invoiceId: 'inv_x', customerId: customer.id } as never), 'invalid');
    await card(VISA);
    const { payment } = await ledger.collectPayment(scope, (await openInvoice()).id);
    expect(await ledger.payments.list(scope, { customerId: customer.id })).toEqual({ items: [payment], nextCursor: null });
  });

  describe('live scopes', () => {
    it('the sandbox serves test scopes only: a live scope can neither attach a sandbox card nor charge through it', async () => {
      const { ledger, scope, customer, openInvoice, card } = await setup('live');
      await rejectsWith(card(VISA), 'illegal_state');
      expect(await ledger.payments.methods(scope, customer.id)).toEqual([]);
      const inv = await openInvoice();
      const err = await rejectsWith(ledger.collectPayment(scope, inv.id), 'illegal_state');
      expect(err.message).toMatch(/live scope has no real payment provider/);
      expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ status: 'open' });
    });

    it('a live scope collects through a provider that serves live scopes', async () => {
      const { ledger, scope, customer, openInvoice, flaky } = await setup('live');
      await ledger.payments.updateSettings(scope, { provider: 'flaky' });
      await ledger.payments.syncMethods(scope, customer.id);
      const { invoice } = await ledger.collectPayment(scope, (await openInvoice()).id);
      expect(invoice.status).toBe('paid');
      expect(flaky.charged.size).toBe(1);
    });
  });
});

describe('payment settings', () => {
  let ledger: Ledger;
  let scope: Scope;
  beforeAll(async () => {
    ledger = await createLedger({ logger: silentLogger });
    scope = uniqueScope();
  });

  it('default: the engine default provider (sandbox), charge_automatically, due in 30 days, retries after 3, 5 and 7 days, then unpaid', async () => {
    expect(await ledger.payments.settings(scope)).toEqual({
      provider: null,
      collectionMethod: 'charge_automatically',
      daysUntilDue: 30,
      retrySchedule: [3, 5, 7],
      finalPolicy: 'unpaid',
      finalInvoiceCredit: 'balance',
    });
    // An unregistered scope is live, and the sandbox serves test scopes only.
    const err = await rejectsWith(ledger.payments.providerFor(uniqueScope()), 'illegal_state');
    expect(err.message).toMatch(/live scope/);
  });

  it('changes what it is given and keeps the rest; an unknown provider or a decreasing schedule is invalid and changes nothing', async () => {
    expect(await ledger.payments.updateSettings(scope, { daysUntilDue: 14, retrySchedule: [1, 2, 4] })).toMatchObject({ daysUntilDue: 14, retrySchedule: [1, 2, 4], collectionMethod: 'charge_automatically' });
    await rejectsWith(ledger.payments.updateSettings(scope, { provider: 'stripe' }), 'invalid');
    await rejectsWith(ledger.payments.updateSettings(scope, { retrySchedule: [5, 3] }), 'invalid');
    expect(await ledger.payments.settings(scope)).toMatchObject({ provider: null, daysUntilDue: 14, retrySchedule: [1, 2, 4] });
  });

  it('a default provider that was not given is refused at creation', async () => {
    await expect(createLedger({ logger: silentLogger, defaultPaymentProvider: 'stripe' })).rejects.toMatchObject({ code: 'invalid' });
  });
});
