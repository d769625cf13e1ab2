import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, type Customer, type Invoice, type ProviderEvent, type Scope } from '@/server/ledger';
import { createPaddleProvider, paddleEnvironment, type PaddleProviderConfig } from '@/server/ledger/payment/paddle';
import { recordingPlugin, rejectsWith } from '../support/engine';
import { paddleNotification, signPaddle, startFakePaddle, type FakePaddle } from '../support/fake-paddle';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * The Paddle provider: the real `@paddle/paddle-node-sdk` against a fake Paddle API of the
 * tests' own (tests/support/fake-paddle.ts), webhooks signed as Paddle signs them
 * (`Paddle-Signature: ts=…;h1=HMAC-SHA256(secret, "ts:body")`). Plan "Pro" at 49.00 a
 * month in advance: subscribing issues an open invoice of 49.00, which a scope set to the
 * `paddle` provider collects as a Paddle transaction of "4900" USD, paid at its checkout.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const API_KEY = 'pdl_sdbx_apikey_fake';
const SECRET = 'pdl_ntfset_01fake_secret';
/** The adapter's per-call timeout against the fake: long enough for a busy machine, short enough for the stall test. */
const TIMEOUT_MS = 2_000;

let fake: FakePaddle;
beforeAll(async () => {
  fake = await startFakePaddle({ stallMs: TIMEOUT_MS * 3 });
});
afterAll(() => fake.close());

const paddleProvider = (over: Partial<PaddleProviderConfig> = {}) =>
  createPaddleProvider({ apiKey: API_KEY, webhookSecret: SECRET, baseUrl: fake.url, timeoutMs: TIMEOUT_MS, ...over });
const txnsOf = (invoiceId: string) => [...fake.transactions.values()].filter((t) => (t.custom_data as Record<string, string> | null)?.ledger_invoice === invoiceId);
const signed = (body: string, ts?: number, secret = SECRET) => ({ 'paddle-signature': signPaddle(body, secret, ts) });
const eventIdOf = (body: string) => (JSON.parse(body) as { event_id: string }).event_id;

describe.each(storeFactories())('collecting through Paddle on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  /** A test scope on the paddle provider, its customer at Paddle with a saved Visa 4242, and Ledger's record of it (syncMethods). */
  async function setup() {
    const provider = paddleProvider();
    const recorder = recordingPlugin();
    const ledger = await createLedger({ store: store(), clock: new ManualClock(T0), logger: silentLogger, providers: [provider], plugins: [recorder.plugin] });
    const scope = uniqueScope();
    await ledger.scopes.register(scope, 'test');
    await ledger.payments.updateSettings(scope, { provider: 'paddle' });
    const plan = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const customer = await ledger.customers.create(scope, { email: `ada-${scope.tenantId}@example.com`, name: 'Ada' });
    const { providerCustomerId } = await provider.ensureCustomer(scope, customer);
    const pm = fake.saveCard(providerCustomerId);
    const [method] = await ledger.payments.syncMethods(scope, customer.id);
    expect(method).toMatchObject({ provider: 'paddle', providerRef: `${providerCustomerId}/${pm.id as string}`, brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030, isDefault: true });
    await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    const [inv] = (await ledger.invoices.listByCustomer(scope, customer.id)).items;
    expect(inv).toMatchObject({ status: 'open', total: 4900, amountDue: 4900, currency: 'USD' });
    const deliver = async (body: string, headers: Record<string, string> = signed(body)) => {
      const r = await ledger.webhooks.receive('paddle', body, headers);
      await ledger.webhooks.whenIdle();
      return r;
    };
    return { ledger, provider, recorder, scope, customer, providerCustomerId, invoice: inv!, deliver };
  }

  /**
   * Setup, with `behaviours` queued at the fake first, and the invoice's first charge:
   * the one its finalization made (a customer with a default method is charged then),
   * else one collect's. Either way, one call reached Paddle's transaction create.
   */
  async function firstCharge(...behaviours: Parameters<FakePaddle['next']>) {
    fake.next(...behaviours);
    const s = await setup();
    const [made] = (await s.ledger.payments.list(s.scope, { invoiceId: s.invoice.id })).items;
    const payment = made ?? (await s.ledger.collectPayment(s.scope, s.invoice.id)).payment!;
    return { ...s, payment };
  }

  it('an invoice of 49.00 becomes one Paddle transaction of "4900" USD (non-catalog price, automatic collection, Ledger metadata) waiting at its checkout URL', async () => {
    const { ledger, scope, customer, providerCustomerId, invoice } = await setup();
    const { invoice: after, payment } = await ledger.collectPayment(scope, invoice.id); // (again, if its finalization charged it)
    const [t, ...more] = txnsOf(invoice.id);
    expect(more).toEqual([]);
    expect(after).toMatchObject({ status: 'open', amountDue: 4900 });
    expect(payment).toMatchObject({ status: 'requires_action', provider: 'paddle', amount: 4900, providerPaymentId: t!.id, actionUrl: `${fake.url}/checkout?_ptxn=${t!.id as string}`, idempotencyKey: `${invoice.id}:attempt:1` });
    expect(t).toMatchObject({
      status: 'ready',
      customer_id: providerCustomerId,
      currency_code: 'USD',
      collection_mode: 'automatic',
      custom_data: { ledger_tenant: scope.tenantId, ledger_app: scope.appId, ledger_customer: customer.id, ledger_invoice: invoice.id, ledger_idempotency_key: `${invoice.id}:attempt:1` },
    });
    const create = fake.requests.find((r) => r.method === 'POST' && r.path === '/transactions' && r.body?.custom_data && (r.body.custom_data as Record<string, string>).ledger_invoice === invoice.id);
    expect((create!.body!.items as unknown[])[0]).toEqual({
      quantity: 1,
      price: { description: `Invoice ${invoice.number}`, name: `Invoice ${invoice.number}`, unit_price: { amount: '4900', currency_code: 'USD' }, tax_mode: 'internal', product: { name: `Invoice ${invoice.number}`, tax_category: 'standard' } },
    });
  });

  it('a customer with no saved card (a first purchase) is still collected: its invoice is sent, and paying it makes a transaction for the Paddle customer, paid at its checkout', async () => {
    const provider = paddleProvider();
    const ledger = await createLedger({ store: store(), clock: new ManualClock(T0), logger: silentLogger, providers: [provider] });
    const scope = uniqueScope();
    await ledger.scopes.register(scope, 'test');
    await ledger.payments.updateSettings(scope, { provider: 'paddle' });
    const plan = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const customer = await ledger.customers.create(scope, { email: `new-${scope.tenantId}@example.com`, name: 'Grace' });
    await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    const [invoice] = (await ledger.invoices.listByCustomer(scope, customer.id)).items;
    // No card to charge: the invoice is sent, and no transaction was made at finalization.
    expect(invoice).toMatchObject({ status: 'open', collectionMethod: 'send_invoice', amountDue: 4900 });
    expect(txnsOf(invoice!.id)).toEqual([]);

    const { payment } = await ledger.collectPayment(scope, invoice!.id);
    const [t, ...more] = txnsOf(invoice!.id);
    expect(more).toEqual([]);
    const { providerCustomerId } = await provider.ensureCustomer(scope, customer);
    expect(t).toMatchObject({ status: 'ready', customer_id: providerCustomerId, custom_data: { ledger_invoice: invoice!.id, ledger_customer: customer.id } });
    expect(payment).toMatchObject({ status: 'requires_action', paymentMethodId: null, actionUrl: `${fake.url}/checkout?_ptxn=${t!.id as string}` });

    fake.pay(t!.id as string);
    expect((await ledger.collectPayment(scope, invoice!.id)).invoice).toMatchObject({ status: 'paid', amountDue: 0 });
    expect(txnsOf(invoice!.id)).toHaveLength(1);
  });

  it('paid at checkout: the signed transaction.completed webhook pays the invoice once; the duplicate delivery is stored once and changes nothing', async () => {
    const { ledger, recorder, scope, invoice, deliver, payment } = await firstCharge();
    const t = fake.pay(payment.providerPaymentId!);
    const body = paddleNotification('transaction.completed', t);
    const id = eventIdOf(body);
    expect(await deliver(body)).toEqual({ provider: 'paddle', events: [{ id, type: 'transaction.completed', duplicate: false }] });
    expect(await ledger.invoices.get(scope, invoice.id)).toMatchObject({ status: 'paid', amountDue: 0 });
    expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ status: 'succeeded', actionUrl: null });
    expect(await ledger.webhooks.event('paddle', id)).toMatchObject({ outcome: 'applied', scope, attempts: 1 });
    expect(recorder.of('onInvoicePaid')).toHaveLength(1);

    expect(await deliver(body)).toEqual({ provider: 'paddle', events: [{ id, type: 'transaction.completed', duplicate: true }] });
    // transaction.paid comes too, under its own id: stored, and it moves nothing.
    const paid = paddleNotification('transaction.paid', t);
    await deliver(paid);
    expect(await ledger.webhooks.event('paddle', eventIdOf(paid))).toMatchObject({ outcome: 'ignored' });
    expect(recorder.of('onInvoicePaid')).toHaveLength(1);
    expect(recorder.of('onPaymentProcessed')).toHaveLength(1);
    expect(txnsOf(invoice.id)).toHaveLength(1);
  });

  it('without the webhook, collecting again reads the transaction anew: paid at checkout, the invoice is paid, and no second transaction is made', async () => {
    const { ledger, scope, invoice, payment } = await firstCharge();
    expect(payment).toMatchObject({ status: 'requires_action' });
    expect((await ledger.collectPayment(scope, invoice.id)).payment).toMatchObject({ id: payment.id, status: 'requires_action' }); // still waiting
    fake.pay(payment.providerPaymentId!);
    const after = await ledger.collectPayment(scope, invoice.id);
    expect(after.invoice.status).toBe('paid');
    expect(after.payment).toMatchObject({ id: payment.id, status: 'succeeded' });
    expect(txnsOf(invoice.id)).toHaveLength(1);
  });

  it('a timeout after Paddle created the transaction: the retry finds it by the idempotency key in its custom_data, and Paddle holds one transaction', async () => {
    const creates = fake.transactionCreates();
    const { ledger, scope, invoice, payment } = await firstCharge({ kind: 'stall' });
    expect(payment).toMatchObject({ status: 'pending', providerPaymentId: null });
    expect(txnsOf(invoice.id)).toHaveLength(1); // created; the adapter gave up waiting
    const second = await ledger.collectPayment(scope, invoice.id);
    const [t] = txnsOf(invoice.id);
    expect(second.payment).toMatchObject({ id: payment.id, status: 'requires_action', providerPaymentId: t!.id });
    expect(fake.transactionCreates() - creates).toBe(1);
    expect((await ledger.payments.attempts(scope, payment.id)).map((a) => a.outcome)).toEqual(['error', 'requires_action']);
  });

  it('a 500 creates nothing and leaves the payment pending; the retry creates the one transaction', async () => {
    const creates = fake.transactionCreates();
    const { ledger, scope, invoice, payment } = await firstCharge({ kind: 'error500' });
    expect(payment).toMatchObject({ status: 'pending' });
    expect(txnsOf(invoice.id)).toHaveLength(0);
    const second = await ledger.collectPayment(scope, invoice.id);
    expect(second.payment).toMatchObject({ id: payment.id, status: 'requires_action' });
    expect(fake.transactionCreates() - creates).toBe(1);
  });

  it('a declined attempt at checkout (transaction.payment_failed, still ready) leaves the payment waiting, not failed, so the success that follows pays the invoice', async () => {
    const { ledger, recorder, scope, invoice, deliver, payment } = await firstCharge();
    const declined = paddleNotification('transaction.payment_failed', fake.decline(payment.providerPaymentId!, 'declined'));
    await deliver(declined);
    expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ status: 'requires_action', failureCode: null });
    expect(recorder.of('onInvoiceFailed')).toHaveLength(0);
    await deliver(paddleNotification('transaction.completed', fake.pay(payment.providerPaymentId!)));
    expect(await ledger.invoices.get(scope, invoice.id)).toMatchObject({ status: 'paid' });
  });

  it('a canceled transaction (transaction.canceled) fails the payment with code canceled; the invoice stays open', async () => {
    const { ledger, scope, invoice, deliver, payment } = await firstCharge();
    const t = Object.assign(fake.transactions.get(payment.providerPaymentId!)!, { status: 'canceled' });
    await deliver(paddleNotification('transaction.canceled', t));
    expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ status: 'failed', failureCode: 'canceled' });
    expect(await ledger.invoices.get(scope, invoice.id)).toMatchObject({ status: 'open', amountDue: 4900 });
  });

  it('a missing, wrong, altered or stale signature is invalid (400) and nothing is stored; the invoice stays open', async () => {
    const { ledger, scope, invoice, payment } = await firstCharge();
    const body = paddleNotification('transaction.completed', fake.pay(payment.providerPaymentId!));
    const now = Math.floor(Date.now() / 1000);
    const cases: Record<string, string>[] = [
      {},
      { 'paddle-signature': 'garbage' },
      signed(body, now, 'pdl_ntfset_another_secret'),
      signed(body, now - 60), // a minute old: past the SDK's 5 s tolerance
      { 'paddle-signature': signPaddle(body, SECRET).replace(/h1=[0-9a-f]{4}/, 'h1=0000') },
    ];
    for (const headers of cases) await rejectsWith(ledger.webhooks.receive('paddle', body, headers), 'invalid');
    await rejectsWith(ledger.webhooks.receive('paddle', body.replace('"completed"', '"canceled"'), signed(body)), 'invalid'); // altered body
    await ledger.webhooks.whenIdle();
    expect(await ledger.webhooks.event('paddle', eventIdOf(body))).toBeNull();
    expect(await ledger.invoices.get(scope, invoice.id)).toMatchObject({ status: 'open' });
  });

  it('a credit note with refund: a Paddle refund adjustment of "1000" on the transaction, pending Paddle\'s review; adjustment.updated (approved) settles it through the transaction\'s custom_data', async () => {
    const { ledger, scope, invoice, deliver, payment } = await firstCharge();
    await deliver(paddleNotification('transaction.completed', fake.pay(payment.providerPaymentId!)));
    const { refund } = await ledger.refunds.creditNote(scope, invoice.id, { amount: 1000, reason: 'product_unsatisfactory', refund: true });
    const [adj, ...more] = [...fake.adjustments.values()].filter((a) => a.transaction_id === payment.providerPaymentId);
    expect(more).toEqual([]);
    expect(adj).toMatchObject({ action: 'refund', type: 'partial', status: 'pending_approval', totals: { total: '1000' } });
    expect(refund).toMatchObject({ status: 'pending', provider: 'paddle', amount: 1000, providerRefundId: adj!.id });
    const approved = paddleNotification('adjustment.updated', Object.assign(adj!, { status: 'approved' }));
    await deliver(approved);
    expect(await ledger.webhooks.event('paddle', eventIdOf(approved))).toMatchObject({ outcome: 'applied', scope });
    expect(await ledger.refunds.get(scope, refund!.id)).toMatchObject({ status: 'succeeded' });
  });

  it('a card saved at Paddle (payment_method.saved) is recorded for its customer, found through the customer\'s custom_data; payment_method.deleted detaches it', async () => {
    const { ledger, scope, customer, providerCustomerId: ctm, deliver } = await setup();
    const mc = fake.saveCard(ctm, { type: 'mastercard', last4: '4444', expiryMonth: 1, expiryYear: 2031 });
    const ref = `${ctm}/${mc.id as string}`;
    const pmData = { id: mc.id, customer_id: ctm, address_id: 'add_1', type: 'card', origin: 'saved_during_purchase', saved_at: '', updated_at: '' };
    const saved = paddleNotification('payment_method.saved', pmData);
    await deliver(saved);
    expect(await ledger.webhooks.event('paddle', eventIdOf(saved))).toMatchObject({ outcome: 'applied', scope });
    const methods = await ledger.payments.methods(scope, customer.id);
    expect(methods.map((m) => [m.brand, m.last4, m.isDefault])).toEqual([
      ['visa', '4242', true],
      ['mastercard', '4444', false],
    ]);
    expect(methods[1]).toMatchObject({ provider: 'paddle', providerRef: ref, expMonth: 1, expYear: 2031, detachedAt: null });
    const deleted = paddleNotification('payment_method.deleted', { ...pmData, deletion_reason: 'api' });
    await deliver(deleted);
    expect(await ledger.webhooks.event('paddle', eventIdOf(deleted))).toMatchObject({ outcome: 'applied', scope });
    expect((await ledger.payments.methods(scope, customer.id)).map((m) => m.last4)).toEqual(['4242']); // attached ones only
  });

  it("a transaction naming another tenant's invoice is ignored: the scope comes from the stored payment, not from custom_data alone", async () => {
    const { ledger, scope, invoice, deliver, payment } = await firstCharge();
    const t = fake.pay(payment.providerPaymentId!);
    const forged = { ...t, custom_data: { ...(t.custom_data as Record<string, string>), ledger_tenant: uniqueScope().tenantId } };
    const body = paddleNotification('transaction.completed', forged);
    await deliver(body);
    expect(await ledger.webhooks.event('paddle', eventIdOf(body))).toMatchObject({ outcome: 'ignored' });
    expect(await ledger.invoices.get(scope, invoice.id)).toMatchObject({ status: 'open' });
  });
});

describe('the Paddle adapter', () => {
  const customerIn = (s: Scope, email = `grace-${s.tenantId}@example.com`): Customer => ({ id: `cst_${s.tenantId}`, email, name: 'Grace', metadata: {} }) as unknown as Customer;
  const invoiceIn = (s: Scope): Invoice => ({ id: `inv_${s.tenantId}`, customerId: `cst_${s.tenantId}`, currency: 'USD', number: 'INV-000001' }) as unknown as Invoice;

  it("the environment and the key's prefix decide the mode; a key of the other environment is refused", () => {
    expect(paddleEnvironment('pdl_sdbx_apikey_x')).toBe('sandbox');
    expect(paddleEnvironment('pdl_live_apikey_x')).toBe('production');
    expect(paddleEnvironment('a'.repeat(50), 'production')).toBe('production'); // a legacy key: the environment says
    expect(paddleEnvironment('a'.repeat(50))).toBe('sandbox');
    expect(paddleProvider().modes).toEqual(['test']);
    expect(paddleProvider({ apiKey: 'pdl_live_apikey_x' }).modes).toEqual(['live']);
    for (const [key, env] of [['pdl_live_apikey_x', 'sandbox'], ['pdl_sdbx_apikey_x', 'production'], ['pdl_test_x', undefined], ['short', undefined], ['', undefined]] as const) {
      expect(() => paddleProvider({ apiKey: key, environment: env })).toThrow(expect.objectContaining({ code: 'invalid' }));
    }
    expect(() => paddleProvider({ webhookSecret: '' })).toThrow(expect.objectContaining({ code: 'invalid' }));
  });

  it('a sandbox key never serves a live scope: the engine refuses to charge through it', async () => {
    const ledger = await createLedger({ logger: silentLogger, providers: [paddleProvider()] });
    const live = uniqueScope();
    await ledger.scopes.register(live, 'live');
    await ledger.payments.updateSettings(live, { provider: 'paddle' });
    await rejectsWith(ledger.payments.providerFor(live), 'illegal_state');
  });

  it('ensureCustomer creates the Paddle customer once (custom_data: tenant, app, customer), finds it after, claims an unclaimed one, and refuses one of another scope', async () => {
    const provider = paddleProvider();
    const scope = uniqueScope();
    const c = customerIn(scope);
    const { providerCustomerId } = await provider.ensureCustomer(scope, c);
    expect(await provider.ensureCustomer(scope, c)).toEqual({ providerCustomerId });
    expect(fake.customers.get(providerCustomerId)).toMatchObject({ email: c.email, name: 'Grace', custom_data: { ledger_tenant: scope.tenantId, ledger_app: scope.appId, ledger_customer: c.id } });
    expect(fake.requests.filter((r) => r.method === 'POST' && r.path === '/customers' && r.body?.email === c.email)).toHaveLength(1);
    // Paddle keeps one customer per email: another scope's customer of that email is a conflict, not a shared customer.
    await rejectsWith(provider.ensureCustomer(uniqueScope(), c), 'conflict');
    // A customer a checkout created at Paddle (no Ledger data) is claimed.
    const other = uniqueScope();
    const email = `walk-in-${other.tenantId}@example.com`;
    fake.customers.set('ctm_walkin' + other.tenantId.replace(/[^a-z0-9]/g, ''), { id: 'ctm_walkin' + other.tenantId.replace(/[^a-z0-9]/g, ''), email, name: null, status: 'active', custom_data: null, marketing_consent: false, locale: 'en', created_at: '', updated_at: '', import_meta: null });
    const claimed = await provider.ensureCustomer(other, customerIn(other, email));
    expect(fake.customers.get(claimed.providerCustomerId)!.custom_data).toEqual({ ledger_tenant: other.tenantId, ledger_app: other.appId, ledger_customer: `cst_${other.tenantId}` });
  });

  it("lookupMetadata reads a transaction's or a customer's custom_data (for adjustments and payment methods, which carry none); null for an unknown one", async () => {
    const provider = paddleProvider();
    const scope = uniqueScope();
    const { providerCustomerId: ctm } = await provider.ensureCustomer(scope, customerIn(scope));
    const inv = invoiceIn(scope);
    const charged = await provider.charge(scope, { invoice: inv, customer: null as never, amount: 4900, method: { providerRef: `${ctm}/paymtd_x` } as never, idempotencyKey: `${inv.id}:attempt:1` });
    expect(await provider.lookupMetadata!('payment', charged.providerPaymentId!)).toEqual({ ledger_tenant: scope.tenantId, ledger_app: scope.appId, ledger_customer: inv.customerId, ledger_invoice: inv.id, ledger_idempotency_key: `${inv.id}:attempt:1` });
    expect(await provider.lookupMetadata!('customer', ctm)).toEqual({ ledger_tenant: scope.tenantId, ledger_app: scope.appId, ledger_customer: `cst_${scope.tenantId}` });
    expect(await provider.lookupMetadata!('payment', 'txn_unknown')).toBeNull();
    expect(await provider.lookupMetadata!('customer', 'ctm_unknown')).toBeNull();
  });

  it('startSetup says honestly that Paddle saves a method only at a checkout (illegal_state)', async () => {
    const scope = uniqueScope();
    await rejectsWith(paddleProvider().startSetup(scope, customerIn(scope), { successUrl: 'https://app.example/ok', cancelUrl: 'https://app.example/no' }), 'illegal_state');
  });

  it('lists the saved cards (brand, last 4, expiry; PayPal left out) and deletes one; deleting it again is no error', async () => {
    const provider = paddleProvider();
    const scope = uniqueScope();
    const c = customerIn(scope);
    const { providerCustomerId: ctm } = await provider.ensureCustomer(scope, c);
    const visa = fake.saveCard(ctm);
    const mc = fake.saveCard(ctm, { type: 'mastercard', last4: '4444', expiryMonth: 1, expiryYear: 2031 });
    const paypal = fake.saveCard(ctm);
    Object.assign(paypal, { type: 'paypal', card: null, paypal: { email: 'ada@example.com', reference: 'B-1' } });
    expect(await provider.listMethods(scope, c)).toEqual([
      { providerRef: `${ctm}/${visa.id as string}`, brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030 },
      { providerRef: `${ctm}/${mc.id as string}`, brand: 'mastercard', last4: '4444', expMonth: 1, expYear: 2031 },
    ]);
    await provider.detachMethod(scope, { providerRef: `${ctm}/${visa.id as string}` } as never);
    expect((await provider.listMethods(scope, c)).map((m) => m.last4)).toEqual(['4444']);
    await expect(provider.detachMethod(scope, { providerRef: `${ctm}/${visa.id as string}` } as never)).resolves.toBeUndefined();
    await rejectsWith(provider.detachMethod(scope, { providerRef: 'pm_stripe' } as never), 'invalid');
  });

  it('a charge in a currency Paddle does not take, or on a method that is not Paddle’s, fails without asking Paddle', async () => {
    const provider = paddleProvider();
    const scope = uniqueScope();
    const before = fake.requests.length;
    const method = { providerRef: 'ctm_1/paymtd_1' } as never;
    expect(await provider.charge(scope, { invoice: { ...invoiceIn(scope), currency: 'ISK' } as Invoice, customer: null as never, amount: 500, method, idempotencyKey: 'k:1' })).toMatchObject({ status: 'failed', code: 'currency_not_supported', providerPaymentId: null });
    expect(await provider.charge(scope, { invoice: invoiceIn(scope), customer: null as never, amount: 500, method: { providerRef: 'pm_1' } as never, idempotencyKey: 'k:2' })).toMatchObject({ status: 'failed', code: 'payment_method_invalid' });
    expect(fake.requests.length).toBe(before);
  });

  it('a key Paddle refuses (403) is no answer about the charge: it throws (the payment stays pending), it does not fail it', async () => {
    const scope = uniqueScope();
    const provider = paddleProvider({ apiKey: 'pdl_sdbx_apikey_revoked' });
    await expect(provider.charge(scope, { invoice: invoiceIn(scope), customer: null as never, amount: 4900, method: { providerRef: 'ctm_1/paymtd_1' } as never, idempotencyKey: 'k:403' })).rejects.toThrow(/Paddle did not answer the charge/);
  });

  it('refunds are adjustments: part (the line item, "1000"), again with the same key (the same adjustment, none created), more than is left (failed), then the rest in full', async () => {
    const provider = paddleProvider();
    const scope = uniqueScope();
    const { providerCustomerId: ctm } = await provider.ensureCustomer(scope, customerIn(scope));
    const inv = invoiceIn(scope);
    const charged = await provider.charge(scope, { invoice: inv, customer: null as never, amount: 4900, method: { providerRef: `${ctm}/paymtd_x` } as never, idempotencyKey: `${inv.id}:attempt:1` });
    expect(charged.status).toBe('requires_action');
    const txn = charged.providerPaymentId!;
    // Not paid yet: Paddle refuses, for good.
    expect(await provider.refund(scope, { providerPaymentId: txn, amount: 1000, idempotencyKey: `${inv.id}:refund:0` })).toMatchObject({ status: 'failed', providerRefundId: null });
    fake.pay(txn);
    const part = await provider.refund(scope, { providerPaymentId: txn, amount: 1000, idempotencyKey: `${inv.id}:refund:1` });
    expect(part).toMatchObject({ status: 'pending', providerRefundId: expect.stringMatching(/^adj_/) });
    expect(await provider.refund(scope, { providerPaymentId: txn, amount: 1000, idempotencyKey: `${inv.id}:refund:1` })).toEqual(part);
    expect(await provider.refund(scope, { providerPaymentId: txn, amount: 5000, idempotencyKey: `${inv.id}:refund:2` })).toMatchObject({ status: 'failed', providerRefundId: null });
    fake.adjustments.get(part.providerRefundId!)!.status = 'approved';
    expect(await provider.refund(scope, { providerPaymentId: txn, amount: 1000, idempotencyKey: `${inv.id}:refund:1` })).toEqual({ status: 'succeeded', providerRefundId: part.providerRefundId });
    expect(await provider.refund(scope, { providerPaymentId: txn, idempotencyKey: `${inv.id}:refund:3` })).toMatchObject({ status: 'pending' });
    const made = [...fake.adjustments.values()].filter((a) => a.transaction_id === txn);
    expect(made.map((a) => [a.type, (a.totals as { total: string }).total])).toEqual([
      ['partial', '1000'],
      ['full', '3900'],
    ]);
    expect(made[0]!.reason).toBe(`Refund through Ledger [ledger ${inv.id}:refund:1]`);
  });
});

describe('Paddle webhooks', () => {
  const meta = { ledger_tenant: 't-1', ledger_app: 'a-1', ledger_invoice: 'inv_1', ledger_idempotency_key: 'inv_1:attempt:1' };
  const txn = (over: Record<string, unknown> = {}) => ({
    id: 'txn_1',
    status: 'completed',
    customer_id: 'ctm_1',
    custom_data: meta,
    currency_code: 'USD',
    origin: 'api',
    collection_mode: 'automatic',
    items: [],
    details: null,
    payments: [],
    checkout: { url: 'https://pay.example/checkout?_ptxn=txn_1' },
    created_at: '2025-01-15T10:00:00Z',
    updated_at: '2025-01-15T10:00:00Z',
    ...over,
  });
  const adjustment = (over: Record<string, unknown> = {}) => ({
    id: 'adj_1',
    action: 'refund',
    type: 'partial',
    transaction_id: 'txn_1',
    customer_id: 'ctm_1',
    reason: 'r',
    currency_code: 'USD',
    status: 'approved',
    items: [],
    totals: { subtotal: '1000', tax: '0', total: '1000', fee: '0', earnings: '0', currency_code: 'USD' },
    created_at: '2025-01-15T10:00:00Z',
    updated_at: '2025-01-15T10:00:00Z',
    ...over,
  });
  const verify = async (body: string, provider = paddleProvider()) => {
    const events = await provider.verifyWebhook(body, signed(body));
    expect(events).toHaveLength(1);
    return events[0]!;
  };

  it('each event type Ledger acts on, normalized once, with its id, type, the endpoint’s mode and the custom_data as metadata', async () => {
    const cases: [string, Record<string, unknown>, Partial<ProviderEvent>][] = [
      ['transaction.completed', txn(), { type: 'payment.succeeded', providerPaymentId: 'txn_1', metadata: meta }],
      ['transaction.paid', txn({ status: 'paid' }), { type: 'payment.succeeded', providerPaymentId: 'txn_1' }],
      ['transaction.payment_failed', txn({ status: 'ready' }), { type: 'payment.requires_action', providerPaymentId: 'txn_1', url: 'https://pay.example/checkout?_ptxn=txn_1' }],
      [
        'transaction.payment_failed',
        txn({ status: 'past_due', payments: [{ payment_attempt_id: 'pa_1', stored_payment_method_id: 's', payment_method_id: null, amount: '4900', status: 'error', error_code: 'expired_card', method_details: null, created_at: '', captured_at: null }] }),
        { type: 'payment.failed', providerPaymentId: 'txn_1', code: 'expired_card' },
      ],
      ['transaction.past_due', txn({ status: 'past_due' }), { type: 'payment.failed', code: 'payment_failed' }],
      ['transaction.canceled', txn({ status: 'canceled' }), { type: 'payment.failed', code: 'canceled' }],
      ['adjustment.created', adjustment({ status: 'pending_approval' }), { type: 'refund.updated', providerRefundId: 'adj_1', providerPaymentId: 'txn_1', status: 'pending', metadata: {} }],
      ['adjustment.updated', adjustment(), { type: 'refund.updated', status: 'succeeded' }],
      ['adjustment.updated', adjustment({ status: 'rejected' }), { type: 'refund.updated', status: 'failed' }],
      ['adjustment.created', adjustment({ action: 'chargeback', reason: 'fraudulent' }), { type: 'dispute.created', providerDisputeId: 'adj_1', providerPaymentId: 'txn_1', reason: 'fraudulent' }],
      ['adjustment.created', adjustment({ action: 'credit' }), { type: 'ignored' }],
      [
        'payment_method.deleted',
        { id: 'paymtd_1', customer_id: 'ctm_1', address_id: 'add_1', type: 'card', origin: 'saved_during_purchase', saved_at: '', updated_at: '', deletion_reason: 'api' },
        { type: 'method.detached', providerCustomerId: 'ctm_1', method: { providerRef: 'ctm_1/paymtd_1', brand: 'card', last4: '', expMonth: 0, expYear: 0 } },
      ],
      ['customer.updated', { id: 'ctm_1', email: 'a@example.com', status: 'archived', custom_data: { ledger_tenant: 't-1' }, marketing_consent: false, locale: 'en', created_at: '', updated_at: '' }, { type: 'customer.deleted', providerCustomerId: 'ctm_1', metadata: { ledger_tenant: 't-1' } }],
      ['customer.updated', { id: 'ctm_1', email: 'a@example.com', status: 'active', custom_data: null, marketing_consent: false, locale: 'en', created_at: '', updated_at: '' }, { type: 'ignored' }],
      ['transaction.created', txn({ status: 'draft' }), { type: 'ignored' }],
      ['some.future_event', { id: 'x_1' }, { type: 'ignored' }],
    ];
    for (const [type, data, expected] of cases) {
      const body = paddleNotification(type, data);
      expect(await verify(body), type).toMatchObject({ id: eventIdOf(body), providerType: type, mode: 'test', ...expected });
    }
    expect(await verify(paddleNotification('transaction.completed', txn()), paddleProvider({ apiKey: 'pdl_live_apikey_x' }))).toMatchObject({ mode: 'live' });
  });

  it('payment_method.saved carries no card: its brand (american_express as amex), last 4 and expiry are read from Paddle; a method deleted since is ignored', async () => {
    const provider = paddleProvider();
    const scope = uniqueScope();
    const { providerCustomerId: ctm } = await provider.ensureCustomer(scope, { id: `cst_${scope.tenantId}`, email: `m-${scope.tenantId}@example.com`, name: 'M' } as unknown as Customer);
    const pm = fake.saveCard(ctm, { type: 'american_express', last4: '0005', expiryMonth: 3, expiryYear: 2029 });
    const saved = (id: string) => paddleNotification('payment_method.saved', { id, customer_id: ctm, address_id: 'add_1', type: 'card', origin: 'saved_during_purchase', saved_at: '', updated_at: '' });
    expect(await verify(saved(pm.id as string), provider)).toMatchObject({
      type: 'method.attached',
      providerCustomerId: ctm,
      method: { providerRef: `${ctm}/${pm.id as string}`, brand: 'amex', last4: '0005', expMonth: 3, expYear: 2029 },
    });
    expect(await verify(saved('paymtd_gone'), provider)).toMatchObject({ type: 'ignored' });
  });

  it('a body that is not JSON or not a notification, though well signed, is invalid', async () => {
    const provider = paddleProvider();
    for (const body of [
      'not json',
      JSON.stringify({ event_type: 'transaction.completed' }),
      JSON.stringify({ event_id: 'evt_1', event_type: 'transaction.completed', data: null }),
      paddleNotification('transaction.completed', { id: 'txn_1' }), // no items, no payments: not a transaction
    ]) {
      await rejectsWith(provider.verifyWebhook(body, signed(body)), 'invalid');
    }
    // A type Ledger does not act on is stored and ignored even when this SDK cannot read its object.
    const odd = paddleNotification('subscription.created', { id: 'sub_1' });
    expect(await provider.verifyWebhook(odd, signed(odd))).toEqual([{ id: eventIdOf(odd), providerType: 'subscription.created', mode: 'test', metadata: {}, type: 'ignored' }]);
  });
});
