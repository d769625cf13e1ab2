import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, type ChargeResult, type CreateCustomerInput, type PaymentProvider, type PaymentSettingsInput } from '@/server/ledger';
import { recordingPlugin } from '../support/engine';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * Collection at finalization, on a test clock, on every store. Plan "Pro": 49.00 a month
 * in advance; subscribing at T0 (Jan 15, 10:00 UTC) finalizes INV-000001 of 49.00. With a
 * default card it is charged then; without one it is sent, due 30 days later (Feb 14,
 * 10:00), past due once the clock passes that.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const DAY = 86_400_000;
const day = (n: number, hours = 0) => new Date(T0.getTime() + n * DAY + hours * 3_600_000);
const VISA = '4242 4242 4242 4242';

/** A provider that does not answer while `down` (it never charges then): the outcome is unknown. */
function unreachableProvider() {
  const state = { down: true, calls: [] as string[] };
  const provider: PaymentProvider = {
    name: 'unreachable',
    modes: ['test'],
    ensureCustomer: async (_s, c) => ({ providerCustomerId: `u_${c.id}` }),
    startSetup: async () => ({ url: 'https://unreachable.example/setup' }),
    listMethods: async () => [{ providerRef: 'u_pm_1', brand: 'visa', last4: '4242', expMonth: 4, expYear: 2031 }],
    detachMethod: async () => {},
    async charge(_s, { idempotencyKey }): Promise<ChargeResult> {
      state.calls.push(idempotencyKey);
      if (state.down) throw new Error('connect ETIMEDOUT');
      return { status: 'succeeded', providerPaymentId: `u_ch_${state.calls.length}` };
    },
    refund: async () => ({ status: 'succeeded', providerRefundId: 'u_re_1' }),
    verifyWebhook: async () => [],
  };
  return { provider, state };
}

describe.each(storeFactories())('collection at finalization on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function setup(opts: { settings?: PaymentSettingsInput; customer?: Partial<CreateCustomerInput> } = {}) {
    const recorder = recordingPlugin();
    const unreachable = unreachableProvider();
    const ledger = await createLedger({ store: store(), clock: new ManualClock(T0), logger: silentLogger, plugins: [recorder.plugin], providers: [unreachable.provider] });
    const scope = uniqueScope();
    await ledger.scopes.register(scope, 'test');
    if (opts.settings) await ledger.payments.updateSettings(scope, opts.settings);
    const pro = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const basic = await ledger.plans.create(scope, { key: 'basic', name: 'Basic', currency: 'USD', interval: { unit: 'month' }, basePrice: 1000 });
    const clock = await ledger.testClocks.create(scope, { at: T0 });
    const customer = await ledger.customers.create(scope, { email: 'ada@example.com', name: 'Ada', testClockId: clock.id, ...opts.customer });
    const card = (number: string) => ledger.payments.sandbox.attachCard(scope, customer.id, { number, expMonth: 12, expYear: 2030 });
    const advance = (to: Date) => ledger.billing.advanceClock(scope, { id: clock.id, to });
    const subscribe = (planId = pro.id) => ledger.subscriptions.create(scope, { customerId: customer.id, planId });
    const invoices = async () => (await ledger.invoices.listByCustomer(scope, customer.id)).items.sort((a, b) => a.number!.localeCompare(b.number!));
    return { ledger, scope, pro, basic, clock, customer, card, advance, subscribe, invoices, recorder, unreachable };
  }

  it('with a default card: INV-000001 of 49.00 is charged and paid as the subscription is made', async () => {
    const { ledger, scope, card, subscribe, invoices, recorder } = await setup();
    const method = await card(VISA);
    const sub = await subscribe();
    expect(sub.status).toBe('active');
    const [inv] = await invoices();
    expect(inv).toMatchObject({ number: 'INV-000001', status: 'paid', collectionMethod: 'charge_automatically', dueAt: T0, paidAt: T0, amountDue: 0, attemptCount: 0, pastDueAt: null, nextPaymentAttemptAt: null });
    const payments = (await ledger.payments.list(scope, { invoiceId: inv!.id })).items;
    expect(payments.map((p) => [p.attempt, p.status, p.amount, p.paymentMethodId])).toEqual([[1, 'succeeded', 4900, method.id]]);
    expect(recorder.of('onInvoiceFinalized')).toHaveLength(1);
    expect(recorder.of('onPaymentProcessed')).toHaveLength(1);
    expect(recorder.of('onInvoicePaid')).toHaveLength(1);
    expect(recorder.of('onInvoicePastDue')).toHaveLength(0);
  });

  it('with no card: sent, due Feb 14 10:00; past due once when the clock passes it (hook once), the subscription past_due; paid later: active', async () => {
    const { ledger, scope, card, subscribe, advance, invoices, recorder } = await setup();
    const sub = await subscribe();
    const [inv] = await invoices();
    expect(inv).toMatchObject({ status: 'open', collectionMethod: 'send_invoice', dueAt: day(30), amountDue: 4900, pastDueAt: null, nextPaymentAttemptAt: null });
    expect((await ledger.payments.list(scope, { invoiceId: inv!.id })).items).toEqual([]); // never charged by itself
    await advance(day(30, -1));
    expect(await ledger.invoices.get(scope, inv!.id)).toMatchObject({ pastDueAt: null });
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'active' });
    await advance(day(30, 12));
    expect(await ledger.invoices.get(scope, inv!.id)).toMatchObject({ status: 'open', pastDueAt: day(30) });
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'past_due' });
    expect(recorder.of('onInvoicePastDue')).toEqual([[scope, expect.objectContaining({ id: inv!.id, pastDueAt: day(30) })]]);
    // The renewal of Feb 15, 10:00 (day 31) is sent too, due Mar 17; the first stays past due, once.
    await advance(day(32));
    const [, renewal] = await invoices();
    expect(renewal).toMatchObject({ number: 'INV-000002', status: 'open', collectionMethod: 'send_invoice', dueAt: day(61), pastDueAt: null });
    expect(recorder.of('onInvoicePastDue')).toHaveLength(1);
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'past_due' });
    // Paid from the portal (a card, then pay): active again, since INV-000002 is not past due.
    await card(VISA);
    expect((await ledger.collectPayment(scope, inv!.id)).invoice).toMatchObject({ status: 'paid', paidAt: day(32) });
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'active' });
  });

  it("the customer's own terms win: daysUntilDue 10, and send_invoice even with a card", async () => {
    const { ledger, scope, customer, card, subscribe, invoices } = await setup({ customer: { collectionMethod: 'send_invoice', daysUntilDue: 10 } });
    expect(await ledger.customers.get(scope, customer.id)).toMatchObject({ collectionMethod: 'send_invoice', daysUntilDue: 10 });
    await card(VISA);
    await subscribe();
    expect((await invoices())[0]).toMatchObject({ status: 'open', collectionMethod: 'send_invoice', dueAt: day(10) });
    // Back to the automatic choice and the scope's days; a bad value changes nothing.
    await expect(ledger.customers.update(scope, customer.id, { daysUntilDue: -1 })).rejects.toMatchObject({ code: 'invalid' });
    await expect(ledger.customers.update(scope, customer.id, { collectionMethod: 'by_cheque' as never })).rejects.toMatchObject({ code: 'invalid' });
    expect(await ledger.customers.get(scope, customer.id)).toMatchObject({ collectionMethod: 'send_invoice', daysUntilDue: 10 });
    await ledger.customers.update(scope, customer.id, { collectionMethod: null, daysUntilDue: null });
    expect(await ledger.customers.get(scope, customer.id)).toMatchObject({ collectionMethod: null, daysUntilDue: null });
  });

  it("the scope's send_invoice sends every invoice, due after the scope's 14 days, card or not", async () => {
    const { card, subscribe, invoices } = await setup({ settings: { collectionMethod: 'send_invoice', daysUntilDue: 14 } });
    await card(VISA);
    await subscribe();
    expect((await invoices())[0]).toMatchObject({ status: 'open', collectionMethod: 'send_invoice', dueAt: day(14) });
  });

  it('charge_automatically with no card to charge: a failure, so past due and retried on day 3', async () => {
    const { ledger, scope, subscribe, invoices, recorder } = await setup({ customer: { collectionMethod: 'charge_automatically' } });
    const sub = await subscribe();
    expect((await invoices())[0]).toMatchObject({ status: 'open', collectionMethod: 'charge_automatically', attemptCount: 1, pastDueAt: T0, nextPaymentAttemptAt: day(3) });
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'past_due' });
    expect(recorder.of('onInvoicePastDue')).toHaveLength(1);
  });

  it('nothing due is paid at once: a −15.00 final invoice and the 10.00 invoice its credit pays, with no payment', async () => {
    const { ledger, scope, basic, clock, subscribe, invoices, recorder } = await setup();
    const sub = await subscribe();
    // Cancel with proration half-way through Pro's 31-day January period.
    await ledger.testClocks.move(scope, clock.id, new Date('2025-01-30T22:00:00Z'));
    await ledger.subscriptions.cancel(scope, sub.id, { at: 'now', prorate: true });
    await subscribe(basic.id);
    const [, final, next] = await invoices();
    expect(final).toMatchObject({ billingReason: 'subscription_cancel', total: -2450, amountDue: 0, status: 'paid' });
    expect(next).toMatchObject({ billingReason: 'subscription_create', total: 1000, creditApplied: 1000, amountDue: 0, status: 'paid', paidAt: new Date('2025-01-30T22:00:00Z') });
    for (const inv of [final!, next!]) expect((await ledger.payments.list(scope, { invoiceId: inv.id })).items).toEqual([]);
    expect(recorder.of('onInvoicePaid').map(([, inv]) => (inv as { number: string }).number)).toEqual(['INV-000002', 'INV-000003']);
  });

  it("a provider that does not answer never fails the subscription: the invoice stays open, its payment pending, asked again an hour later with the same key (well inside a provider's key window)", async () => {
    const { ledger, scope, customer, subscribe, advance, invoices, unreachable } = await setup({ settings: { provider: 'unreachable' } });
    await ledger.payments.syncMethods(scope, customer.id);
    const sub = await subscribe();
    expect(sub.status).toBe('active');
    const [inv] = await invoices();
    const hour = (n: number) => new Date(day(0).getTime() + n * 3_600_000);
    expect(inv).toMatchObject({ status: 'open', collectionMethod: 'charge_automatically', attemptCount: 0, pastDueAt: null, nextPaymentAttemptAt: hour(1) });
    const [pending] = (await ledger.payments.list(scope, { invoiceId: inv!.id })).items;
    expect(pending).toMatchObject({ status: 'pending', attempt: 1 });
    await advance(hour(1)); // still down: asked again, still pending, no failure counted
    expect(await ledger.invoices.get(scope, inv!.id)).toMatchObject({ status: 'open', attemptCount: 0, nextPaymentAttemptAt: hour(2) });
    unreachable.state.down = false;
    await advance(hour(2));
    expect(await ledger.invoices.get(scope, inv!.id)).toMatchObject({ status: 'paid', paidAt: hour(2), nextPaymentAttemptAt: null });
    expect(unreachable.state.calls).toEqual([`${inv!.id}:attempt:1`, `${inv!.id}:attempt:1`, `${inv!.id}:attempt:1`]);
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'active' });
  });
});
