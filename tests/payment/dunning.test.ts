import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, type Invoice, type PaymentSettingsInput } from '@/server/ledger';
import { recordingPlugin } from '../support/engine';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * Dunning on a test clock, on every store. Plan "Pro": 49.00 a month in advance, with SSO
 * (a boolean feature) and seats (licensed). The customer lives on a test clock starting
 * at T0 (Jan 15, 10:00 UTC); subscribing finalizes INV-000001 of 49.00 and charges the
 * default card at once. Card 4000 0000 0000 0341 is saved but fails on every charge.
 * Default schedule: retries 3, 5 and 7 days after the first failure, then the final
 * policy (`unpaid`, or `canceled`).
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const DAY = 86_400_000;
const day = (n: number, hours = 0) => new Date(T0.getTime() + n * DAY + hours * 3_600_000);
const VISA = '4242 4242 4242 4242';
const FAILS_ON_CHARGE = '4000 0000 0000 0341';
const REQUIRES_ACTION = '4000 0025 0000 3155';

describe.each(storeFactories())('dunning on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function setup(settings: PaymentSettingsInput = {}) {
    const recorder = recordingPlugin();
    const ledger = await createLedger({ store: store(), clock: new ManualClock(T0), logger: silentLogger, plugins: [recorder.plugin] });
    const scope = uniqueScope();
    await ledger.scopes.register(scope, 'test');
    if (Object.keys(settings).length) await ledger.payments.updateSettings(scope, settings);
    const plan = await ledger.plans.create(scope, {
      key: 'pro',
      name: 'Pro',
      currency: 'USD',
      interval: { unit: 'month' },
      basePrice: 4900,
      features: [
        { key: 'sso', name: 'SSO', kind: 'boolean' },
        { key: 'seats', name: 'Seats', kind: 'licensed', limit: 10 },
        { key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', limit: 1000 },
      ],
    });
    const clock = await ledger.testClocks.create(scope, { at: T0 });
    const customer = await ledger.customers.create(scope, { email: 'ada@example.com', name: 'Ada', testClockId: clock.id });
    const card = (number: string) => ledger.payments.sandbox.attachCard(scope, customer.id, { number, expMonth: 12, expYear: 2030 });
    const advance = (to: Date) => ledger.billing.advanceClock(scope, { id: clock.id, to });
    const invoices = async () => (await ledger.invoices.listByCustomer(scope, customer.id)).items.sort((a, b) => a.issueAt.getTime() - b.issueAt.getTime());
    const payments = async (inv: Invoice) => (await ledger.payments.list(scope, { invoiceId: inv.id })).items.map((p) => [p.attempt, p.status, p.createdAt]);
    /** Subscribes with a card that fails on charge: INV-000001 failed once at T0. */
    const failing = async () => {
      await card(FAILS_ON_CHARGE);
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: 2 });
      const [inv] = await invoices();
      return { sub, inv: inv! };
    };
    const entitled = async () => [
      await ledger.entitled(scope, customer.id, 'sso'),
      await ledger.entitled(scope, customer.id, 'seats'),
      await ledger.entitled(scope, customer.id, 'api_calls'),
    ];
    return { ledger, scope, plan, clock, customer, card, advance, invoices, payments, failing, entitled, recorder };
  }

  it('declined at finalization: past due at once, retried on day 3 (fails), a good card attached, the day-5 retry pays and the subscription is active again', async () => {
    const { ledger, scope, advance, card, payments, failing, entitled, recorder } = await setup();
    const { sub, inv } = await failing();
    expect(inv).toMatchObject({
      number: 'INV-000001',
      status: 'open',
      collectionMethod: 'charge_automatically',
      dueAt: T0,
      amountDue: 4900,
      attemptCount: 1,
      pastDueAt: T0,
      nextPaymentAttemptAt: day(3),
    });
    // The subscription the call returned is as stored: past due already.
    expect(sub.status).toBe('past_due');
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'past_due' });
    expect(recorder.of('onInvoiceFailed')).toHaveLength(1);
    expect(recorder.of('onInvoicePastDue')).toEqual([[scope, expect.objectContaining({ id: inv.id, pastDueAt: T0 })]]);
    // Retries still running: access stays.
    expect((await entitled()).map((r) => [r.allowed, r.reason])).toEqual([[true, 'enabled'], [true, 'seats'], [true, 'within_limit']]);

    await advance(day(4));
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ status: 'open', attemptCount: 2, pastDueAt: T0, nextPaymentAttemptAt: day(5) });
    expect(await payments(inv)).toEqual([[1, 'failed', T0], [2, 'failed', day(3)]]);

    await card(VISA); // the new default
    await advance(day(6));
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ status: 'paid', paidAt: day(5), amountDue: 0, attemptCount: 2, nextPaymentAttemptAt: null });
    expect(await payments(inv)).toEqual([[1, 'failed', T0], [2, 'failed', day(3)], [3, 'succeeded', day(5)]]);
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'active' });
    expect(recorder.of('onInvoiceFailed')).toHaveLength(2);
    expect(recorder.of('onInvoicePastDue')).toHaveLength(1);
    expect(recorder.of('onInvoicePaid')).toHaveLength(1);
    expect(recorder.of('onPaymentProcessed')).toHaveLength(3);
  });

  it('retries on day 3 and day 5 fail; a good card attached on day 6; the last retry, on day 7, pays: active again', async () => {
    const { ledger, scope, advance, card, payments, failing, recorder } = await setup();
    const { sub, inv } = await failing();
    await advance(day(6));
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ status: 'open', attemptCount: 3, nextPaymentAttemptAt: day(7) });
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'past_due' });
    await card(VISA);
    await advance(day(8));
    expect(await payments(inv)).toEqual([[1, 'failed', T0], [2, 'failed', day(3)], [3, 'failed', day(5)], [4, 'succeeded', day(7)]]);
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ status: 'paid', paidAt: day(7), attemptCount: 3, nextPaymentAttemptAt: null });
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'active' });
    expect(recorder.of('onInvoiceFailed')).toHaveLength(3);
    expect(recorder.of('onInvoicePastDue')).toHaveLength(1);
  });

  it('a retry that needs the customer (3-D Secure) is a failed attempt, as at Stripe: the schedule goes on, the same payment asked again; once confirmed, the webhook pays it and the subscription is active', async () => {
    const { ledger, scope, advance, card, failing, recorder } = await setup();
    const { sub, inv } = await failing();
    await card(REQUIRES_ACTION);
    await advance(day(3, 1));
    const [, second] = (await ledger.payments.list(scope, { invoiceId: inv.id })).items;
    expect(second).toMatchObject({ attempt: 2, status: 'requires_action' });
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ status: 'open', attemptCount: 2, nextPaymentAttemptAt: day(5) });
    // The day-5 retry asks the same payment again (its key): still waiting for the customer, failure 3.
    await advance(day(5, 1));
    expect((await ledger.payments.list(scope, { invoiceId: inv.id })).items.map((p) => [p.attempt, p.status])).toEqual([[1, 'failed'], [2, 'requires_action']]);
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ status: 'open', attemptCount: 3, nextPaymentAttemptAt: day(7) });
    expect(recorder.of('onInvoiceFailed')).toHaveLength(1); // the payment itself failed once; 3-D Secure is no decline
    const delivery = await ledger.payments.sandbox.confirm(scope, second!.id);
    await ledger.webhooks.receive('sandbox', delivery.body, delivery.headers);
    await ledger.webhooks.whenIdle();
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ status: 'paid', nextPaymentAttemptAt: null });
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'active' });
  });

  it('a card that always asks for 3-D Secure never means access for ever: after the last retry the final policy applies (unpaid)', async () => {
    const { ledger, scope, advance, card, failing, entitled } = await setup();
    const { sub, inv } = await failing();
    await card(REQUIRES_ACTION);
    await advance(day(8));
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ status: 'open', attemptCount: 4, nextPaymentAttemptAt: null });
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'unpaid' });
    expect((await entitled()).every((r) => !r.allowed && r.reason === 'past_due')).toBe(true);
  });

  it('every retry fails (days 3, 5, 7): unpaid, SSO, seats and API calls refused with past_due; a new card and collectPayment make it active and allowed again', async () => {
    const { ledger, scope, advance, card, payments, failing, entitled, recorder } = await setup();
    const { sub, inv } = await failing();
    await advance(day(20)); // one advance rehearses every retry at its own time
    expect(await payments(inv)).toEqual([[1, 'failed', T0], [2, 'failed', day(3)], [3, 'failed', day(5)], [4, 'failed', day(7)]]);
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ status: 'open', attemptCount: 4, nextPaymentAttemptAt: null, pastDueAt: T0 });
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'unpaid' });
    expect((await entitled()).map((r) => [r.allowed, r.reason])).toEqual([[false, 'past_due'], [false, 'past_due'], [false, 'past_due']]);
    expect(recorder.of('onInvoiceFailed')).toHaveLength(4);
    expect(recorder.of('onInvoicePastDue')).toHaveLength(1);

    await card(VISA);
    const { invoice, payment } = await ledger.collectPayment(scope, inv.id);
    expect(invoice).toMatchObject({ status: 'paid', paidAt: day(20) });
    expect(payment).toMatchObject({ status: 'succeeded', attempt: 5, amount: 4900 });
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'active' });
    expect((await entitled()).map((r) => [r.allowed, r.reason])).toEqual([[true, 'enabled'], [true, 'seats'], [true, 'within_limit']]);
  });

  it('a manual collection that fails is recorded but moves no schedule', async () => {
    const { ledger, scope, advance, payments, failing, recorder } = await setup();
    const { inv } = await failing();
    await advance(day(1));
    const { payment } = await ledger.collectPayment(scope, inv.id);
    expect(payment).toMatchObject({ status: 'failed', attempt: 2 });
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ attemptCount: 1, nextPaymentAttemptAt: day(3) });
    expect(recorder.of('onInvoiceFailed')).toHaveLength(2);
    await advance(day(3, 1));
    expect(await payments(inv)).toEqual([[1, 'failed', T0], [2, 'failed', day(1)], [3, 'failed', day(3)]]);
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ attemptCount: 2, nextPaymentAttemptAt: day(5) });
  });

  it("final policy 'canceled': after the day-7 failure the subscription ends then, the invoice is uncollectible, and nothing more is billed", async () => {
    const { ledger, scope, advance, invoices, failing, entitled, recorder } = await setup({ finalPolicy: 'canceled' });
    const { sub, inv } = await failing();
    await advance(day(40)); // past Feb 15: no renewal of a canceled subscription
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ status: 'uncollectible', markedUncollectibleAt: day(7), attemptCount: 4, nextPaymentAttemptAt: null });
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'canceled', endedAt: day(7), canceledAt: day(7) });
    expect((await invoices()).map((i) => i.number)).toEqual(['INV-000001']);
    expect(recorder.of('onSubscriptionCanceled')).toHaveLength(1);
    expect((await entitled()).map((r) => r.reason)).toEqual(['no_subscription', 'no_subscription', 'no_subscription']);
  });

  it('a custom retry schedule per scope ([1, 2]) runs beside another scope on the default, and neither touches the other', async () => {
    const custom = await setup({ retrySchedule: [1, 2] });
    const standard = await setup();
    const a = await custom.failing();
    const b = await standard.failing();
    await custom.advance(day(2, 1));
    await standard.advance(day(2, 1));
    expect(await custom.payments(a.inv)).toEqual([[1, 'failed', T0], [2, 'failed', day(1)], [3, 'failed', day(2)]]);
    expect(await custom.ledger.invoices.get(custom.scope, a.inv.id)).toMatchObject({ attemptCount: 3, nextPaymentAttemptAt: null });
    expect(await custom.ledger.subscriptions.get(custom.scope, a.sub.id)).toMatchObject({ status: 'unpaid' });
    expect(await standard.payments(b.inv)).toEqual([[1, 'failed', T0]]);
    expect(await standard.ledger.invoices.get(standard.scope, b.inv.id)).toMatchObject({ attemptCount: 1, nextPaymentAttemptAt: day(3) });
    expect(await standard.ledger.subscriptions.get(standard.scope, b.sub.id)).toMatchObject({ status: 'past_due' });
    // Neither scope sees the other's invoice.
    expect(await custom.ledger.store.invoices.get(standard.scope, a.inv.id)).toBeNull();
    expect(await standard.ledger.store.invoices.get(custom.scope, b.inv.id)).toBeNull();
  });

  it('an unpaid subscription keeps renewing: the Feb 15 renewal invoices and charges it, and it stays unpaid', async () => {
    const { ledger, scope, advance, invoices, payments, failing } = await setup();
    const { sub } = await failing();
    await advance(new Date('2025-02-15T12:00:00Z'));
    const moved = await ledger.subscriptions.get(scope, sub.id);
    expect(moved).toMatchObject({ status: 'unpaid', currentPeriodStart: new Date('2025-02-15T10:00:00Z') });
    const [, renewal] = await invoices();
    expect(renewal).toMatchObject({ number: 'INV-000002', status: 'open', collectionMethod: 'charge_automatically', attemptCount: 1 });
    expect(await payments(renewal!)).toEqual([[1, 'failed', new Date('2025-02-15T10:00:00Z')]]);
  });

  it("the billing store's due work names the clock when a retry comes due, not before", async () => {
    const { ledger, scope, clock, failing } = await setup();
    await failing();
    const dueHere = async () => (await ledger.store.billing.dueWork(T0, 10_000)).some((w) => w.testClockId === clock.id && w.scope.tenantId === scope.tenantId);
    await ledger.testClocks.move(scope, clock.id, day(3, -1));
    expect(await dueHere()).toBe(false);
    await ledger.testClocks.move(scope, clock.id, day(3));
    expect(await dueHere()).toBe(true);
  });
  it('a payment that lands while the last failure is being recorded: the invoice paid, the subscription active, not left unpaid by the final policy', async () => {
    const { ledger, scope, customer, plan, card } = await setup({ retrySchedule: [] });
    await card(FAILS_ON_CHARGE);
    // The invoice is paid (a webhook, a manual payment) right after dunning recorded its last failure, before the final policy runs.
    const invoices = ledger.store.invoices;
    const original = invoices.updateCollection.bind(invoices);
    invoices.updateCollection = async (s, id, expected, patch) => {
      const done = await original(s, id, expected, patch);
      if (done && patch.attemptCount === 1) await ledger.invoices.markPaid(s, id);
      return done;
    };
    try {
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      const [inv] = (await ledger.invoices.listByCustomer(scope, customer.id)).items;
      expect(await ledger.invoices.get(scope, inv!.id)).toMatchObject({ status: 'paid' });
      expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'active' });
      expect(await ledger.entitled(scope, customer.id, 'sso')).toMatchObject({ allowed: true });
    } finally {
      invoices.updateCollection = original;
    }
  });
  it('a credit note for all an unpaid invoice still owes leaves nothing due: the invoice is paid and the subscription active again', async () => {
    const { ledger, scope, customer, failing } = await setup({ retrySchedule: [] });
    const { sub, inv } = await failing();
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'unpaid' });
    const { invoice } = await ledger.invoices.createCreditNote(scope, inv.id, { amount: inv.amountDue, reason: 'billing_error' });
    expect(invoice).toMatchObject({ status: 'paid', amountDue: 0 });
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'active' });
    expect(await ledger.entitled(scope, customer.id, 'sso')).toMatchObject({ allowed: true });
  });
});
