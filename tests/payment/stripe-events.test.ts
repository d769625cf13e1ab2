import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, type Customer, type Invoice, type Ledger, type Scope } from '@/server/ledger';
import { createStripeProvider } from '@/server/ledger/payment/stripe';
import { capturingLogger, rejectsWith } from '../support/engine';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * Stripe's events Ledger acts on beyond payments, on every store, with the real `stripe`
 * SDK against the tests' fake Stripe server and events signed with
 * `stripe.webhooks.generateTestHeaderString`, delivered through `ledger.webhooks.receive`
 * (the route's path minus HTTP): cards attached, updated and detached; a refund that
 * failed at Stripe; a dispute; a deleted customer. Each is applied only in the scope
 * whose stored ids hold its object: metadata naming another scope changes nothing.
 * Plan "Pro" at 49.00 a month in advance; invoices are sent and collected when the test
 * says.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const WEBHOOK_SECRET = 'whsec_test_ledger_events';

let fake: FakeStripe;
beforeAll(async () => {
  fake = await startFakeStripe({ timeoutMs: 3_000 });
});
afterAll(() => fake.close());

type Json = Record<string, unknown>;
let n = 0;
const eventBody = (type: string, object: Json, extra: Json = {}) =>
  JSON.stringify({ id: `evt_${process.pid}_${Date.now()}_${++n}`, object: 'event', api_version: '2026-10-28.endive', created: Math.floor(Date.now() / 1000), livemode: false, type, data: { object, ...extra } });
const sign = (payload: string, timestamp?: number) => ({ 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET, ...(timestamp ? { timestamp } : {}) }) });
const idOf = (body: string) => (JSON.parse(body) as { id: string }).id;

describe.each(storeFactories())('Stripe events acted on, on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let ledger: Ledger;
  const logger = capturingLogger();

  beforeAll(async () => {
    const provider = createStripeProvider({ secretKey: 'sk_test_ledger', webhookSecret: WEBHOOK_SECRET, stripeOptions: fake.stripeOptions });
    ledger = await createLedger({ store: store(), clock: new ManualClock(T0), logger, providers: [provider] });
  });
  afterAll(() => ledger.shutdown());

  const deliver = async (body: string, headers = sign(body)) => {
    const receipt = await ledger.webhooks.receive('stripe', body, headers);
    await ledger.webhooks.whenIdle();
    return { receipt, record: (await ledger.webhooks.event('stripe', idOf(body)))! };
  };

  /** A test scope on Stripe whose customer went through a set-up session (so Ledger recorded its Stripe customer). */
  async function tenant() {
    const scope = uniqueScope();
    await ledger.scopes.register(scope, 'test');
    await ledger.payments.updateSettings(scope, { provider: 'stripe', collectionMethod: 'send_invoice' });
    const plan = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const customer = await ledger.customers.create(scope, { email: `ada-${scope.tenantId}@example.com`, name: 'Ada' });
    const { url } = await ledger.paymentMethods.createSetupSession(scope, { customerId: customer.id, successUrl: 'https://app.example/ok', cancelUrl: 'https://app.example/no' });
    const session = [...fake.checkoutSessions.values()].find((s) => s.url === url)!;
    const cus = session.customer as string;
    /** The customer adds a card on Checkout: Stripe attaches it and sends payment_method.attached (no metadata of ours on it). */
    const addCard = async (card?: Parameters<FakeStripe['attachCard']>[1]) => {
      const pm = fake.attachCard(cus, card);
      const { record } = await deliver(eventBody('payment_method.attached', pm));
      return { pm, record };
    };
    const paidInvoice = async (): Promise<{ invoice: Invoice; pi: string }> => {
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      const [inv] = (await ledger.invoices.listByCustomer(scope, customer.id)).items;
      const { invoice, payment } = await ledger.collectPayment(scope, inv!.id);
      expect(invoice.status).toBe('paid');
      return { invoice, pi: payment!.providerPaymentId! };
    };
    return { scope, customer, cus, addCard, paidInvoice };
  }

  it('the Stripe customer made through the engine is recorded in the scope, once', async () => {
    const { scope, customer, cus } = await tenant();
    expect(await ledger.providerCustomers.get(scope, customer.id, 'stripe')).toMatchObject({ customerId: customer.id, provider: 'stripe', providerCustomerId: cus, deletedAt: null });
    expect(await ledger.store.payments.findProviderCustomer(scope, 'stripe', cus)).toMatchObject({ customerId: customer.id });
    await ledger.payments.syncMethods(scope, customer.id);
    expect(fake.customers.get(cus)).toMatchObject({ metadata: { ledger_tenant: scope.tenantId, ledger_app: scope.appId, ledger_customer: customer.id } });
    expect([...fake.customers.values()].filter((c) => (c.metadata as Json | undefined)?.ledger_customer === customer.id)).toHaveLength(1);
  });

  it('cards by webhook: the first attached becomes the default, the second does not; an update changes the expiry; a detach (its former customer in previous_attributes) detaches it; duplicates and replays change nothing', async () => {
    const { scope, customer, cus, addCard } = await tenant();
    const first = await addCard();
    expect(first.record).toMatchObject({ outcome: 'applied', scope });
    const second = await addCard({ brand: 'mastercard', last4: '4444', expMonth: 1, expYear: 2031 });
    expect(second.record.outcome).toBe('applied');
    const methods = await ledger.payments.methods(scope, customer.id);
    expect(methods.map((m) => [m.providerRef, m.brand, m.last4, m.expMonth, m.expYear, m.isDefault])).toEqual([
      [first.pm.id, 'visa', '4242', 12, 2030, true],
      [second.pm.id, 'mastercard', '4444', 1, 2031, false],
    ]);

    const update = eventBody('payment_method.updated', { ...first.pm, card: { brand: 'visa', last4: '4242', exp_month: 3, exp_year: 2033 } });
    expect((await deliver(update)).record.outcome).toBe('applied');
    expect((await ledger.payments.methods(scope, customer.id))[0]).toMatchObject({ expMonth: 3, expYear: 2033, isDefault: true });
    // The same delivery again, and the same event signed again later: duplicates, no effect.
    expect((await deliver(update)).receipt.events[0]!.duplicate).toBe(true);
    expect((await deliver(update, sign(update, Math.floor(Date.now() / 1000) + 5))).receipt.events[0]!.duplicate).toBe(true);

    const detach = eventBody('payment_method.detached', { ...second.pm, customer: null }, { previous_attributes: { customer: cus } });
    expect((await deliver(detach)).record).toMatchObject({ outcome: 'applied', scope });
    expect((await ledger.payments.methods(scope, customer.id)).map((m) => m.providerRef)).toEqual([first.pm.id]);
    expect(await ledger.store.payments.findMethodByProviderRef(scope, 'stripe', second.pm.id as string)).toMatchObject({ detachedAt: T0 });
    // Attached again out of order (a late attached event for the detached card): it stays detached.
    expect((await deliver(eventBody('payment_method.attached', second.pm))).record.outcome).toBe('ignored');
    expect((await ledger.payments.methods(scope, customer.id)).map((m) => m.providerRef)).toEqual([first.pm.id]);
  });

  it('a refund that failed at Stripe after it succeeded: failed, its 10.00 given back to the payment; a late succeeded event for it changes nothing', async () => {
    const { scope, addCard, paidInvoice } = await tenant();
    await addCard();
    const { invoice, pi } = await paidInvoice();
    const { refund } = await ledger.refunds.creditNote(scope, invoice.id, { amount: 1000, reason: 'billing_error', refund: true });
    expect(refund).toMatchObject({ status: 'succeeded', providerRefundId: expect.stringMatching(/^re_/) });
    const re = fake.refunds.get(refund!.providerRefundId!)!;
    expect(re.metadata).toEqual({ ledger_tenant: scope.tenantId, ledger_app: scope.appId, ledger_idempotency_key: refund!.idempotencyKey });
    const [payment] = (await ledger.payments.list(scope, { invoiceId: invoice.id })).items;
    expect(payment).toMatchObject({ amountRefunded: 1000 });

    const failed = eventBody('charge.refund.updated', { ...re, status: 'failed', failure_reason: 'expired_or_canceled_card' });
    expect((await deliver(failed)).record).toMatchObject({ outcome: 'applied', scope });
    expect(await ledger.refunds.get(scope, refund!.id)).toMatchObject({ status: 'failed' });
    expect(await ledger.payments.get(scope, payment!.id)).toMatchObject({ amountRefunded: 0 });

    for (const status of ['succeeded', 'pending']) {
      const late = eventBody('refund.updated', { ...re, status });
      expect((await deliver(late)).record).toMatchObject({ outcome: 'ignored', scope });
    }
    expect(await ledger.refunds.get(scope, refund!.id)).toMatchObject({ status: 'failed' });
    expect(await ledger.payments.get(scope, payment!.id)).toMatchObject({ amountRefunded: 0 });
    // A refund made in Stripe's Dashboard (no Ledger metadata, unknown id): ignored with a log line.
    const foreign = eventBody('charge.refund.updated', { id: 're_dashboard_1', object: 'refund', status: 'succeeded', payment_intent: pi, metadata: {} });
    expect((await deliver(foreign)).record).toMatchObject({ outcome: 'ignored', scope: null });
    expect(logger.entries.some((e) => e.msg === 'webhook event ignored' && e.data?.eventId === idOf(foreign))).toBe(true);
  });

  it("a refund whose answer never came (Stripe refunded, the call timed out): pending without Stripe's id, settled by its webhook found by the key in its metadata; another, retried, replays its key and Stripe refunds once", async () => {
    const { scope, addCard, paidInvoice } = await tenant();
    await addCard();
    const { invoice, pi } = await paidInvoice();
    fake.nextRefund({ kind: 'stall' });
    const first = await ledger.refunds.creditNote(scope, invoice.id, { amount: 1000, reason: 'billing_error', refund: true });
    expect(first.refund).toMatchObject({ status: 'pending', providerRefundId: null });
    const refundsOf = () => [...fake.refunds.values()].filter((r) => r.payment_intent === pi);
    const [re] = refundsOf();
    expect(re).toMatchObject({ amount: 1000, metadata: { ledger_idempotency_key: `${first.creditNote.id}:refund` } });
    expect((await deliver(eventBody('charge.refund.updated', re!))).record).toMatchObject({ outcome: 'applied', scope });
    expect(await ledger.refunds.get(scope, first.refund!.id)).toMatchObject({ status: 'succeeded', providerRefundId: re!.id });

    fake.nextRefund({ kind: 'stall' });
    const second = await ledger.refunds.creditNote(scope, invoice.id, { amount: 500, reason: 'billing_error', refund: true });
    expect(second.refund).toMatchObject({ status: 'pending', providerRefundId: null });
    const retried = await ledger.refunds.retry(scope, second.refund!.id);
    expect(retried).toMatchObject({ status: 'succeeded', providerRefundId: refundsOf()[1]!.id });
    expect(refundsOf().map((r) => r.amount)).toEqual([1000, 500]);
    const key = `${second.creditNote.id}:refund`;
    expect(fake.requests.filter((r) => r.path === '/v1/refunds' && r.idempotencyKey === key).map((r) => r.replayed)).toEqual([false, true]);
    const [payment] = (await ledger.payments.list(scope, { invoiceId: invoice.id })).items;
    expect(payment!.amountRefunded).toBe(1500);
  });

  it("a dispute is recorded on the invoice's payment (its scope read from the PaymentIntent's metadata); the same dispute again changes nothing", async () => {
    const { scope, addCard, paidInvoice } = await tenant();
    await addCard();
    const { invoice, pi } = await paidInvoice();
    const dispute = eventBody('charge.dispute.created', { id: 'dp_1', object: 'dispute', payment_intent: pi, charge: 'ch_1', reason: 'fraudulent', status: 'needs_response', amount: 4900, metadata: {} });
    expect((await deliver(dispute)).record).toMatchObject({ outcome: 'applied', scope });
    const [payment] = (await ledger.payments.list(scope, { invoiceId: invoice.id })).items;
    expect(payment!.dispute).toEqual({ providerDisputeId: 'dp_1', reason: 'fraudulent', status: 'needs_response', createdAt: T0.toISOString() });
    expect(payment!.status).toBe('succeeded');
    const again = eventBody('charge.dispute.created', { id: 'dp_1', object: 'dispute', payment_intent: pi, reason: 'fraudulent', status: 'needs_response', metadata: {} });
    expect((await deliver(again)).record).toMatchObject({ outcome: 'ignored', scope });
    expect(await ledger.invoices.get(scope, invoice.id)).toMatchObject({ status: 'paid' });
  });

  it('a customer deleted at Stripe: recorded as deleted, its Stripe cards detached in Ledger', async () => {
    const { scope, customer, cus, addCard } = await tenant();
    await addCard();
    await addCard({ last4: '1111' });
    const deleted = eventBody('customer.deleted', fake.deleteCustomer(cus));
    expect((await deliver(deleted)).record).toMatchObject({ outcome: 'applied', scope });
    expect(await ledger.providerCustomers.get(scope, customer.id, 'stripe')).toMatchObject({ providerCustomerId: cus, deletedAt: T0 });
    expect(await ledger.payments.methods(scope, customer.id)).toEqual([]);
    expect(await ledger.store.payments.defaultMethod(scope, customer.id as Customer['id'])).toBeNull();

    // The customer sets up a card again: a new Stripe customer (not the deleted one Stripe would
    // replay for the creation key) is recorded in place of the deleted one, and its card arrives.
    await ledger.paymentMethods.createSetupSession(scope, { customerId: customer.id, successUrl: 'https://app.example/ok', cancelUrl: 'https://app.example/no' });
    const renewed = await ledger.providerCustomers.get(scope, customer.id, 'stripe');
    expect(renewed).toMatchObject({ deletedAt: null });
    expect(renewed!.providerCustomerId).not.toBe(cus);
    const pm = fake.attachCard(renewed!.providerCustomerId, { last4: '3333' });
    expect((await deliver(eventBody('payment_method.attached', pm))).record).toMatchObject({ outcome: 'applied', scope });
    expect((await ledger.payments.methods(scope, customer.id)).map((m) => [m.last4, m.isDefault])).toEqual([['3333', true]]);
  });

  it("another tenant's objects: metadata naming scope A with scope B's Stripe ids is ignored, and nothing changes in either", async () => {
    const a = await tenant();
    const b = await tenant();
    await a.addCard();
    const bCard = await b.addCard();
    const { invoice: bInvoice, pi: bPi } = await b.paidInvoice();
    const { refund } = await ledger.refunds.creditNote(b.scope, bInvoice.id, { amount: 500, reason: 'billing_error', refund: true });
    const aClaim = { ledger_tenant: a.scope.tenantId, ledger_app: a.scope.appId };
    const snapshot = async (t: { scope: Scope; customer: Customer }) => ({
      methods: await ledger.payments.methods(t.scope, t.customer.id),
      pc: await ledger.providerCustomers.get(t.scope, t.customer.id, 'stripe'),
      invoices: (await ledger.invoices.listByCustomer(t.scope, t.customer.id)).items,
    });
    const [beforeA, beforeB] = [await snapshot(a), await snapshot(b)];
    const bPayment = (await ledger.payments.list(b.scope, { invoiceId: bInvoice.id })).items[0]!;

    const forged = [
      // B's card, attached to B's Stripe customer, claiming A's scope (and A's customer).
      eventBody('payment_method.attached', { ...fake.attachCard(b.cus), metadata: { ...aClaim, ledger_customer: a.customer.id } }),
      eventBody('payment_method.detached', { ...bCard.pm, customer: null, metadata: aClaim }, { previous_attributes: { customer: b.cus } }),
      // B's refund, claiming A's scope.
      eventBody('charge.refund.updated', { id: refund!.providerRefundId, object: 'refund', status: 'failed', payment_intent: bPi, metadata: aClaim }),
      // B's PaymentIntent disputed, claiming A's scope and an invoice of A's.
      eventBody('charge.dispute.created', { id: 'dp_forged', object: 'dispute', payment_intent: bPi, reason: 'fraudulent', status: 'needs_response', metadata: { ...aClaim, ledger_invoice: bInvoice.id } }),
      // B's Stripe customer deleted, claiming A's scope.
      eventBody('customer.deleted', { id: b.cus, object: 'customer', deleted: true, metadata: { ...aClaim, ledger_customer: a.customer.id } }),
    ];
    for (const body of forged) {
      const { record } = await deliver(body);
      expect(record).toMatchObject({ outcome: 'ignored', scope: null });
      expect(logger.entries.some((e) => e.msg === 'webhook event ignored' && e.data?.eventId === idOf(body))).toBe(true);
    }
    expect(await snapshot(a)).toEqual(beforeA);
    expect(await snapshot(b)).toEqual(beforeB);
    expect(await ledger.refunds.get(b.scope, refund!.id)).toMatchObject({ status: 'succeeded' });
    expect(await ledger.payments.get(b.scope, bPayment.id)).toEqual(bPayment);
  });

  it("off-session 3-D Secure: Stripe's payment_intent.payment_failed (authentication_required) for a payment waiting for the customer leaves it requires_action, so their confirmation pays the invoice", async () => {
    const { scope, customer, addCard } = await tenant();
    await addCard();
    const plan = await ledger.plans.create(scope, { key: 'pro-3ds', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    const [inv] = (await ledger.invoices.listByCustomer(scope, customer.id)).items;
    fake.next({ kind: 'authentication_required' });
    const { payment } = await ledger.collectPayment(scope, inv!.id);
    expect(payment).toMatchObject({ status: 'requires_action' });
    const pi = fake.paymentIntents.get(payment!.providerPaymentId!)!;
    // Stripe sends payment_intent.payment_failed for the off-session authentication_required decline.
    const failedEvent = eventBody('payment_intent.payment_failed', { ...pi });
    await deliver(failedEvent);
    expect(await ledger.payments.get(scope, payment!.id)).toMatchObject({ status: 'requires_action' });
    // The customer confirms on-session: Stripe sends payment_intent.succeeded.
    fake.confirm(pi.id as string);
    expect((await deliver(eventBody('payment_intent.succeeded', { ...fake.paymentIntents.get(pi.id as string)! }))).record).toMatchObject({ outcome: 'applied', scope });
    expect(await ledger.payments.get(scope, payment!.id)).toMatchObject({ status: 'succeeded' });
    expect(await ledger.invoices.get(scope, inv!.id)).toMatchObject({ status: 'paid', amountDue: 0 });
  });

  it('a validly signed body that is malformed is refused (invalid: the route answers 400) and nothing is stored', async () => {
    for (const body of ['not json', JSON.stringify({ id: 'evt_malformed_stripe', object: 'event', type: 'payment_method.attached' })]) {
      await rejectsWith(ledger.webhooks.receive('stripe', body, sign(body)), 'invalid');
    }
    expect(await ledger.webhooks.event('stripe', 'evt_malformed_stripe')).toBeNull();
  });
});
