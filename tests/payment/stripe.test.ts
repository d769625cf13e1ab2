import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, type Customer, type Invoice, type ProviderEvent, type Scope } from '@/server/ledger';
import { createStripeProvider, stripeKeyMode, toStripeAmount } from '@/server/ledger/payment/stripe';
import { rejectsWith } from '../support/engine';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * The Stripe provider: the real `stripe` SDK against a fake Stripe server of the tests'
 * own (tests/support/fake-stripe.ts). Plan "Pro" at 49.00 a month in advance: subscribing
 * issues an open invoice of 49.00, which a scope set to the `stripe` provider collects as
 * a PaymentIntent of 4900 USD, confirmed off-session with the key `<invoice id>:attempt:1`.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const WEBHOOK_SECRET = 'whsec_test_ledger_fake';
/** The SDK's timeout against the fake: long enough for a busy machine, short enough for the stall test. */
const TIMEOUT_MS = 3_000;

let fake: FakeStripe;
beforeAll(async () => {
  fake = await startFakeStripe({ timeoutMs: TIMEOUT_MS });
});
afterAll(() => fake.close());

const stripeProvider = (secretKey = 'sk_test_ledger') => createStripeProvider({ secretKey, webhookSecret: WEBHOOK_SECRET, stripeOptions: fake.stripeOptions });

/** The PaymentIntent creates the fake received for an idempotency key. */
const chargeRequests = (key: string) => fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents' && r.idempotencyKey === key);
const intentsOf = (invoiceId: string) => [...fake.paymentIntents.values()].filter((pi) => (pi.metadata as Record<string, string>).ledger_invoice === invoiceId);

describe.each(storeFactories())('collecting through Stripe on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  /** A test scope on the stripe provider, its customer at Stripe with a Visa 4242 attached, and Ledger's record of that card. */
  async function setup() {
    const provider = stripeProvider();
    const clock = new ManualClock(T0);
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger, providers: [provider] });
    const scope = uniqueScope();
    await ledger.scopes.register(scope, 'test');
    // Invoices are sent, not charged at finalization: each test collects when it says.
    await ledger.payments.updateSettings(scope, { provider: 'stripe', collectionMethod: 'send_invoice' });
    const plan = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const customer = await ledger.customers.create(scope, { email: `ada-${scope.tenantId}@example.com`, name: 'Ada' });
    const { providerCustomerId } = await provider.ensureCustomer(scope, customer);
    const pm = fake.attachCard(providerCustomerId);
    const [method] = await ledger.payments.syncMethods(scope, customer.id);
    expect(method).toMatchObject({ provider: 'stripe', providerRef: pm.id, brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030, isDefault: true });
    const openInvoice = async (): Promise<Invoice> => {
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      const [inv] = (await ledger.invoices.listByCustomer(scope, customer.id)).items;
      expect(inv).toMatchObject({ status: 'open', total: 4900, amountDue: 4900, currency: 'USD' });
      return inv!;
    };
    return { ledger, scope, customer, providerCustomerId, pm, openInvoice, clock };
  }

  it('pays an invoice of 49.00: one PaymentIntent of 4900 usd, off-session, with the tenant, app, customer and invoice in its metadata', async () => {
    const { ledger, scope, customer, providerCustomerId, pm, openInvoice } = await setup();
    const inv = await openInvoice();
    const { invoice, payment } = await ledger.collectPayment(scope, inv.id);
    expect(invoice).toMatchObject({ status: 'paid', amountDue: 0 });
    const [pi, ...more] = intentsOf(inv.id);
    expect(more).toEqual([]);
    expect(pi).toMatchObject({
      amount: 4900,
      currency: 'usd',
      customer: providerCustomerId,
      payment_method: pm.id,
      status: 'succeeded',
      metadata: { ledger_tenant: scope.tenantId, ledger_app: scope.appId, ledger_customer: customer.id, ledger_invoice: inv.id, ledger_idempotency_key: `${inv.id}:attempt:1` },
    });
    expect(payment).toMatchObject({ status: 'succeeded', provider: 'stripe', amount: 4900, providerPaymentId: pi!.id, idempotencyKey: `${inv.id}:attempt:1` });
    const [create] = chargeRequests(`${inv.id}:attempt:1`);
    expect(create!.params).toMatchObject({ confirm: 'true', off_session: 'true', amount: '4900', currency: 'usd' });
  });

  it('a decline (insufficient_funds) is a failed payment with the decline code and the message; the invoice stays open', async () => {
    const { ledger, scope, openInvoice } = await setup();
    const inv = await openInvoice();
    fake.next({ kind: 'decline', declineCode: 'insufficient_funds' });
    const { invoice, payment } = await ledger.collectPayment(scope, inv.id);
    expect(invoice).toMatchObject({ status: 'open', amountDue: 4900 });
    expect(payment).toMatchObject({ status: 'failed', failureCode: 'insufficient_funds', failureMessage: 'Your card has insufficient funds.', attempt: 1 });
    expect(payment!.providerPaymentId).toBe(intentsOf(inv.id)[0]!.id);
  });

  it('a 500 leaves the payment pending; the next collect sends the same key and Stripe charges once', async () => {
    const { ledger, scope, openInvoice } = await setup();
    const inv = await openInvoice();
    const key = `${inv.id}:attempt:1`;
    fake.next({ kind: 'error500' });
    const first = await ledger.collectPayment(scope, inv.id);
    expect(first.invoice.status).toBe('open');
    expect(first.payment).toMatchObject({ status: 'pending', idempotencyKey: key, providerPaymentId: null });
    const second = await ledger.collectPayment(scope, inv.id);
    expect(second.invoice.status).toBe('paid');
    expect(second.payment).toMatchObject({ id: first.payment!.id, status: 'succeeded' });
    expect(chargeRequests(key)).toHaveLength(2);
    expect(intentsOf(inv.id)).toHaveLength(1);
    expect((await ledger.payments.attempts(scope, first.payment!.id)).map((a) => a.outcome)).toEqual(['error', 'succeeded']);
  });

  it('past the 24 hours Stripe keeps a key, the key is never sent again: the charge made before the timeout is found by the key in its metadata (search) and settled; one PaymentIntent', async () => {
    const { ledger, scope, openInvoice, clock } = await setup();
    const inv = await openInvoice();
    const key = `${inv.id}:attempt:1`;
    fake.next({ kind: 'stall' });
    const first = await ledger.collectPayment(scope, inv.id);
    expect(first.payment).toMatchObject({ status: 'pending', providerPaymentId: null });
    clock.advance(23 * 3_600_000); // within an hour of Stripe forgetting the key
    const later = await ledger.collectPayment(scope, inv.id);
    expect(later.invoice).toMatchObject({ status: 'paid', amountDue: 0 });
    expect(later.payment).toMatchObject({ id: first.payment!.id, status: 'succeeded', providerPaymentId: intentsOf(inv.id)[0]!.id });
    expect(chargeRequests(key)).toHaveLength(1); // the key was sent once, before the timeout
    expect(fake.requests.filter((r) => r.path === '/v1/payment_intents/search' && String(r.params.query).includes(key))).toHaveLength(1);
    expect(intentsOf(inv.id)).toHaveLength(1);
  });

  it('past the key window, a charge that never reached Stripe (a 500) is found to be none: that payment is canceled and attempt 2 charges with its own key', async () => {
    const { ledger, scope, openInvoice, clock } = await setup();
    const inv = await openInvoice();
    fake.next({ kind: 'error500' });
    const first = await ledger.collectPayment(scope, inv.id);
    expect(first.payment).toMatchObject({ status: 'pending' });
    clock.advance(25 * 3_600_000);
    const later = await ledger.collectPayment(scope, inv.id);
    expect(later.invoice).toMatchObject({ status: 'paid' });
    expect(later.payment).toMatchObject({ attempt: 2, status: 'succeeded', idempotencyKey: `${inv.id}:attempt:2` });
    expect(await ledger.payments.get(scope, first.payment!.id)).toMatchObject({ status: 'canceled', failureMessage: 'no charge was made at stripe: the request never reached it' });
    expect(chargeRequests(`${inv.id}:attempt:1`)).toHaveLength(1);
    expect(intentsOf(inv.id)).toHaveLength(1);
  });

  it('a timeout after Stripe charged: the retry with the same key gets the first answer (replayed) and nothing is charged twice', async () => {
    const { ledger, scope, openInvoice } = await setup();
    const inv = await openInvoice();
    const key = `${inv.id}:attempt:1`;
    fake.next({ kind: 'stall' });
    const first = await ledger.collectPayment(scope, inv.id);
    expect(first.payment).toMatchObject({ status: 'pending' });
    expect(intentsOf(inv.id)).toHaveLength(1); // the fake charged, the SDK gave up waiting
    const second = await ledger.collectPayment(scope, inv.id);
    expect(second.invoice.status).toBe('paid');
    expect(second.payment).toMatchObject({ status: 'succeeded', providerPaymentId: intentsOf(inv.id)[0]!.id });
    expect(chargeRequests(key).map((r) => r.replayed)).toEqual([false, true]);
    expect(intentsOf(inv.id)).toHaveLength(1);
  });

  it('requires_action: the payment carries the URL to confirm at; once confirmed, collecting again reads the PaymentIntent anew and the invoice is paid', async () => {
    const { ledger, scope, openInvoice } = await setup();
    const inv = await openInvoice();
    fake.next({ kind: 'requires_action' });
    const { invoice, payment } = await ledger.collectPayment(scope, inv.id);
    const [pi] = intentsOf(inv.id);
    expect(invoice.status).toBe('open');
    expect(payment).toMatchObject({ status: 'requires_action', providerPaymentId: pi!.id, actionUrl: `${fake.url}/3ds/${pi!.id}` });
    fake.confirm(pi!.id as string);
    const after = await ledger.collectPayment(scope, inv.id);
    expect(after.invoice.status).toBe('paid');
    expect(after.payment).toMatchObject({ id: payment!.id, status: 'succeeded' });
    expect(intentsOf(inv.id)).toHaveLength(1);
  });

  it("off-session 3-D Secure (Stripe's authentication_required decline) is requires_action at the app's confirmation page, not a failure; confirmed, it is paid", async () => {
    const { ledger, scope, openInvoice } = await setup();
    const inv = await openInvoice();
    fake.next({ kind: 'authentication_required' });
    const { payment } = await ledger.collectPayment(scope, inv.id);
    const [pi] = intentsOf(inv.id);
    expect(payment).toMatchObject({ status: 'requires_action', providerPaymentId: pi!.id, actionUrl: `/payments/confirm/${pi!.id}`, failureCode: null });
    expect((await ledger.collectPayment(scope, inv.id)).payment).toMatchObject({ status: 'requires_action' }); // still waiting
    fake.confirm(pi!.id as string); // the customer confirmed on-session
    const after = await ledger.collectPayment(scope, inv.id);
    expect(after.invoice.status).toBe('paid');
    expect(after.payment).toMatchObject({ id: payment!.id, status: 'succeeded' });
    expect(intentsOf(inv.id)).toHaveLength(1);
  });
});

describe('the Stripe adapter', () => {
  const customerIn = (s: Scope): Customer =>
    ({ id: `cst_${s.tenantId}`, email: `grace-${s.tenantId}@example.com`, name: 'Grace', metadata: {} }) as unknown as Customer;

  it("a key's prefix decides the mode it serves; anything else is refused at creation", () => {
    expect(stripeKeyMode('sk_test_abc')).toBe('test');
    expect(stripeKeyMode('rk_live_abc')).toBe('live');
    expect(stripeProvider('sk_test_x').modes).toEqual(['test']);
    expect(stripeProvider('sk_live_x').modes).toEqual(['live']);
    for (const key of ['', 'pk_test_abc', 'sk_abc', 'whsec_abc']) expect(() => stripeProvider(key)).toThrow(expect.objectContaining({ code: 'invalid' }));
  });

  it('a test key never serves a live scope (and a live key no test scope): the engine refuses to charge through it', async () => {
    const ledger = await createLedger({ logger: silentLogger, providers: [stripeProvider('sk_test_x')] });
    const live = uniqueScope();
    await ledger.scopes.register(live, 'live');
    await ledger.payments.updateSettings(live, { provider: 'stripe' });
    await rejectsWith(ledger.payments.providerFor(live), 'illegal_state');
    const other = await createLedger({ logger: silentLogger, providers: [stripeProvider('sk_live_x')] });
    const test = uniqueScope();
    await other.scopes.register(test, 'test');
    await other.payments.updateSettings(test, { provider: 'stripe' });
    await rejectsWith(other.payments.providerFor(test), 'illegal_state');
  });

  it('amounts: minor units as Stripe takes them (USD 4900 and JPY 4900 unchanged; ISK 5 is 500; KWD in tens of fils)', () => {
    expect(toStripeAmount(4900, 'USD')).toBe(4900);
    expect(toStripeAmount(4900, 'JPY')).toBe(4900);
    expect(toStripeAmount(5, 'ISK')).toBe(500);
    expect(toStripeAmount(1230, 'KWD')).toBe(1230);
    expect(() => toStripeAmount(1235, 'KWD')).toThrow(expect.objectContaining({ code: 'invalid' }));
  });

  it('ensureCustomer creates the Stripe customer once (metadata: tenant, app, customer; key from the customer id) and finds it afterwards', async () => {
    const provider = stripeProvider();
    const scope = uniqueScope();
    const c = customerIn(scope);
    const { providerCustomerId } = await provider.ensureCustomer(scope, c);
    expect(await provider.ensureCustomer(scope, c)).toEqual({ providerCustomerId });
    expect(fake.customers.get(providerCustomerId)).toMatchObject({ email: c.email, name: 'Grace', metadata: { ledger_tenant: scope.tenantId, ledger_app: scope.appId, ledger_customer: c.id } });
    const creates = fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/customers' && r.idempotencyKey === `ledger:customer:${scope.tenantId}:${scope.appId}:${c.id}`);
    expect(creates).toHaveLength(1);
    // The same customer id in another scope is another customer at Stripe.
    expect((await provider.ensureCustomer(uniqueScope(), c)).providerCustomerId).not.toBe(providerCustomerId);
  });

  it('startSetup opens a Checkout Session in setup mode for the customer and returns its URL', async () => {
    const provider = stripeProvider();
    const scope = uniqueScope();
    const { url } = await provider.startSetup(scope, customerIn(scope), { successUrl: 'https://app.example/ok', cancelUrl: 'https://app.example/cancel' });
    const session = [...fake.checkoutSessions.values()].find((s) => s.url === url);
    expect(session).toMatchObject({ mode: 'setup', currency: 'usd', success_url: 'https://app.example/ok', cancel_url: 'https://app.example/cancel', metadata: { ledger_tenant: scope.tenantId } });
    expect((await provider.ensureCustomer(scope, customerIn(scope))).providerCustomerId).toBe(session!.customer);
  });

  it('lists the customer’s cards (brand, last 4, expiry) and detaches one; detaching it again is no error', async () => {
    const provider = stripeProvider();
    const scope = uniqueScope();
    const c = customerIn(scope);
    const { providerCustomerId } = await provider.ensureCustomer(scope, c);
    const visa = fake.attachCard(providerCustomerId);
    fake.attachCard(providerCustomerId, { brand: 'mastercard', last4: '4444', expMonth: 1, expYear: 2031 });
    expect(await provider.listMethods(scope, c)).toEqual([
      { providerRef: visa.id, brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030 },
      { providerRef: expect.stringMatching(/^pm_/), brand: 'mastercard', last4: '4444', expMonth: 1, expYear: 2031 },
    ]);
    const method = { providerRef: visa.id } as never;
    await provider.detachMethod(scope, method);
    expect((await provider.listMethods(scope, c)).map((m) => m.last4)).toEqual(['4444']);
    await expect(provider.detachMethod(scope, { providerRef: 'pm_gone' } as never)).resolves.toBeUndefined();
  });

  it("lookupMetadata reads a Customer's or a PaymentIntent's ledger_* metadata (for events whose object has none); a deleted or unknown object is null", async () => {
    const provider = stripeProvider();
    const scope = uniqueScope();
    const c = customerIn(scope);
    const { providerCustomerId } = await provider.ensureCustomer(scope, c);
    expect(await provider.lookupMetadata!('customer', providerCustomerId)).toEqual({ ledger_tenant: scope.tenantId, ledger_app: scope.appId, ledger_customer: c.id });
    const pm = fake.attachCard(providerCustomerId);
    const inv = { id: `inv_${scope.tenantId}`, customerId: c.id, currency: 'USD', number: 'INV-000001' } as unknown as Invoice;
    const charged = await provider.charge(scope, { invoice: inv, customer: null as never, amount: 4900, method: { providerRef: pm.id } as never, idempotencyKey: `${inv.id}:attempt:1` });
    expect(await provider.lookupMetadata!('payment', charged.providerPaymentId!)).toMatchObject({ ledger_tenant: scope.tenantId, ledger_invoice: inv.id, ledger_idempotency_key: `${inv.id}:attempt:1` });
    fake.deleteCustomer(providerCustomerId);
    expect(await provider.lookupMetadata!('customer', providerCustomerId)).toBeNull();
    expect(await provider.lookupMetadata!('customer', 'cus_unknown')).toBeNull();
    expect(await provider.lookupMetadata!('payment', 'pi_unknown')).toBeNull();
  });

  it('refunds all or part with an idempotency key (the same key refunds once); more than was paid fails', async () => {
    const provider = stripeProvider();
    const scope = uniqueScope();
    const { providerCustomerId } = await provider.ensureCustomer(scope, customerIn(scope));
    const pm = fake.attachCard(providerCustomerId);
    const inv = { id: `inv_${scope.tenantId}`, customerId: `cst_${scope.tenantId}`, currency: 'USD', number: 'INV-000001' } as unknown as Invoice;
    const charged = await provider.charge(scope, { invoice: inv, customer: null as never, amount: 4900, method: { providerRef: pm.id } as never, idempotencyKey: `${inv.id}:attempt:1` });
    expect(charged.status).toBe('succeeded');
    const pi = charged.providerPaymentId!;
    const part = await provider.refund(scope, { providerPaymentId: pi, amount: 1000, idempotencyKey: `${inv.id}:refund:1` });
    expect(part).toMatchObject({ status: 'succeeded', providerRefundId: expect.stringMatching(/^re_/) });
    expect(await provider.refund(scope, { providerPaymentId: pi, amount: 1000, idempotencyKey: `${inv.id}:refund:1` })).toEqual(part);
    expect(await provider.refund(scope, { providerPaymentId: pi, amount: 5000, idempotencyKey: `${inv.id}:refund:2` })).toMatchObject({ status: 'failed', providerRefundId: null });
    expect(await provider.refund(scope, { providerPaymentId: pi, idempotencyKey: `${inv.id}:refund:3` })).toMatchObject({ status: 'succeeded' });
    const made = [...fake.refunds.values()].filter((r) => r.payment_intent === pi);
    expect(made.map((r) => r.amount)).toEqual([1000, 3900]);
    expect(made[0]!.metadata).toEqual({ ledger_tenant: scope.tenantId, ledger_app: scope.appId, ledger_idempotency_key: `${inv.id}:refund:1` });
    expect(fake.requests.filter((r) => r.path === '/v1/refunds').map((r) => [r.idempotencyKey, r.replayed])).toEqual([
      [`${inv.id}:refund:1`, false],
      [`${inv.id}:refund:1`, true],
      [`${inv.id}:refund:2`, false],
      [`${inv.id}:refund:3`, false],
    ]);
  });
});

describe('Stripe webhooks', () => {
  const provider = () => stripeProvider();
  const meta = { ledger_tenant: 't-1', ledger_app: 'a-1', ledger_invoice: 'inv_1' };
  let n = 0;
  const event = (type: string, object: Record<string, unknown>, livemode = false) =>
    JSON.stringify({ id: `evt_${++n}`, object: 'event', api_version: '2026-10-28.endive', created: Math.floor(Date.now() / 1000), livemode, type, data: { object } });
  const signed = (payload: string, timestamp?: number, secret = WEBHOOK_SECRET) => ({
    'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) }),
  });
  const verify = async (payload: string, headers: Record<string, string> = signed(payload)) => {
    const events = await provider().verifyWebhook(payload, headers);
    expect(events).toHaveLength(1);
    return events[0]!;
  };
  const card = { brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2030 };

  it('each event type Ledger acts on, normalized once, with its id, type, mode and metadata', async () => {
    const cases: [string, Record<string, unknown>, Partial<ProviderEvent>][] = [
      ['payment_intent.succeeded', { id: 'pi_1', object: 'payment_intent', status: 'succeeded', metadata: meta }, { type: 'payment.succeeded', providerPaymentId: 'pi_1' }],
      [
        'payment_intent.payment_failed',
        { id: 'pi_2', object: 'payment_intent', status: 'requires_payment_method', metadata: meta, last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' } },
        { type: 'payment.failed', providerPaymentId: 'pi_2', code: 'insufficient_funds', reason: 'Your card has insufficient funds.' },
      ],
      [
        'payment_intent.requires_action',
        { id: 'pi_3', object: 'payment_intent', status: 'requires_action', metadata: meta, next_action: { type: 'redirect_to_url', redirect_to_url: { url: 'https://hooks.stripe.com/3ds/pi_3' } } },
        { type: 'payment.requires_action', providerPaymentId: 'pi_3', url: 'https://hooks.stripe.com/3ds/pi_3' },
      ],
      ['charge.refund.updated', { id: 're_1', object: 'refund', status: 'succeeded', payment_intent: 'pi_1', metadata: {} }, { type: 'refund.updated', providerRefundId: 're_1', providerPaymentId: 'pi_1', status: 'succeeded' }],
      ['refund.updated', { id: 're_2', object: 'refund', status: 'pending', payment_intent: 'pi_1', metadata: {} }, { type: 'refund.updated', providerRefundId: 're_2', providerPaymentId: 'pi_1', status: 'pending' }],
      ['refund.failed', { id: 're_3', object: 'refund', status: 'failed', payment_intent: 'pi_1', metadata: {} }, { type: 'refund.updated', providerRefundId: 're_3', providerPaymentId: 'pi_1', status: 'failed' }],
      [
        'charge.dispute.created',
        { id: 'dp_1', object: 'dispute', payment_intent: 'pi_1', reason: 'fraudulent', status: 'needs_response', metadata: {} },
        { type: 'dispute.created', providerDisputeId: 'dp_1', providerPaymentId: 'pi_1', reason: 'fraudulent', status: 'needs_response' },
      ],
      ['payment_method.automatically_updated', { id: 'pm_1', object: 'payment_method', type: 'card', customer: 'cus_1', card, metadata: {} }, { type: 'method.updated', providerCustomerId: 'cus_1' }],
      ['payment_method.attached', { id: 'pm_2', object: 'payment_method', type: 'sepa_debit', customer: 'cus_1', metadata: {} }, { type: 'ignored' }],
      ['payment_method.attached', { id: 'pm_1', object: 'payment_method', type: 'card', customer: 'cus_1', card, metadata: {} }, { type: 'method.attached', providerCustomerId: 'cus_1' }],
      ['payment_method.updated', { id: 'pm_1', object: 'payment_method', type: 'card', customer: 'cus_1', card: { ...card, exp_year: 2032 }, metadata: {} }, { type: 'method.updated', providerCustomerId: 'cus_1' }],
      ['payment_method.detached', { id: 'pm_1', object: 'payment_method', type: 'card', customer: null, card, metadata: {} }, { type: 'method.detached', providerCustomerId: null }],
      ['customer.deleted', { id: 'cus_1', object: 'customer', deleted: true, metadata: { ledger_customer: 'cst_1' } }, { type: 'customer.deleted', providerCustomerId: 'cus_1', metadata: { ledger_customer: 'cst_1' } }],
      ['invoice.created', { id: 'in_1', object: 'invoice', metadata: {} }, { type: 'ignored' }],
    ];
    // A detached method names its former customer in previous_attributes.
    const detached = JSON.parse(event('payment_method.detached', { id: 'pm_1', object: 'payment_method', type: 'card', customer: null, card, metadata: {} })) as { data: Record<string, unknown> };
    detached.data.previous_attributes = { customer: 'cus_9' };
    expect(await verify(JSON.stringify(detached))).toMatchObject({ type: 'method.detached', providerCustomerId: 'cus_9', method: { providerRef: 'pm_1' } });
    for (const [type, object, expected] of cases) {
      const payload = event(type, object);
      const e = await verify(payload);
      expect(e).toMatchObject({ id: JSON.parse(payload).id, providerType: type, mode: 'test', ...expected });
      if (type.startsWith('payment_intent.')) expect(e.metadata).toEqual(meta);
      if (type === 'payment_method.updated') expect(e).toMatchObject({ method: { providerRef: 'pm_1', brand: 'visa', last4: '4242', expMonth: 12, expYear: 2032 } });
    }
  });

  it('a bad signature, a wrong secret, a stale timestamp (older than 300 s), no signature or an altered body: invalid', async () => {
    const payload = event('payment_intent.succeeded', { id: 'pi_1', object: 'payment_intent', metadata: meta });
    const now = Math.floor(Date.now() / 1000);
    const refused: [string, Record<string, string>][] = [
      [payload, { 'stripe-signature': 't=1,v1=deadbeef' }],
      [payload, signed(payload, undefined, 'whsec_someone_else')],
      [payload, signed(payload, now - 301)],
      [payload, {}],
      [payload.replace('pi_1', 'pi_2'), signed(payload)],
    ];
    for (const [body, headers] of refused) {
      const err = await rejectsWith(provider().verifyWebhook(body, headers), 'invalid');
      expect(err.message).toMatch(/Stripe-Signature|signature/);
    }
    expect(await verify(payload, signed(payload, now - 250))).toMatchObject({ type: 'payment.succeeded' }); // within the tolerance
    expect(await verify(payload, { 'Stripe-Signature': signed(payload)['stripe-signature'] })).toMatchObject({ type: 'payment.succeeded' }); // any header case
  });

  it('a validly signed body that is not an event, or a live event at a test-key endpoint: invalid', async () => {
    for (const body of ['not json', '{"id":"evt_x"}', event('payment_intent.succeeded', { id: 'pi_1', metadata: meta }, true)]) {
      await rejectsWith(provider().verifyWebhook(body, signed(body)), 'invalid');
    }
  });

  it('verifying needs no API call: the SDK client is created only when Stripe is called', async () => {
    const before = fake.requests.length;
    const payload = event('payment_intent.succeeded', { id: 'pi_1', metadata: meta });
    await verify(payload);
    expect(fake.requests.length).toBe(before);
  });
});
