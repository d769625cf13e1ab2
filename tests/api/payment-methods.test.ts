import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, HOSTED_LINK_INVALID, LedgerError, ManualClock, silentLogger, type Ledger, type PaymentProvider, type Scope } from '@/server/ledger';
import { createCaller } from '@/server/trpc/root';
import { storeFactories, uniqueScope, useStore } from '../support/stores';
import { trpcErrorOf } from '../support/trpc';

/**
 * Payment methods, set-up sessions, hosted links and payment settings through the tRPC
 * procedures (createCaller: the real routers and engine), and the hosted pages' engine
 * operations behind those links, on every store. Plan "Pro" is 49.00 a month in advance:
 * subscribing issues an open invoice of 49.00. Cards are attached after the invoice is
 * issued, so it stays open until paid here.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const VISA = '4242424242424242';
const MASTERCARD = '5555555555554444';
const DECLINED = '4000000000000002';
const THREE_DS = '4000002500003155';

const codeOf = async (p: Promise<unknown>): Promise<{ code: string; message: string }> => {
  const e = await trpcErrorOf(p);
  return { code: e.code, message: e.message };
};

describe.each(storeFactories())('payment methods, setup sessions, hosted links and settings on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let ledger: Ledger;
  let clock: ManualClock;
  const api = (s: Scope) => createCaller({ ledger, auth: { kind: 'api_key', scope: s, keyId: 'key_test' } });

  beforeAll(async () => {
    clock = new ManualClock(T0);
    ledger = await createLedger({ store: store(), clock, logger: silentLogger, hosted: { secret: 'a-test-secret-of-32-characters!!', baseUrl: 'https://billing.example.com/' } });
  });

  /** A test scope with a customer and that customer's open invoice of 49.00 (no card yet). */
  async function openInvoice() {
    const s = uniqueScope();
    await ledger.scopes.register(s, 'test');
    const plan = await api(s).plans.create({ key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const customer = await api(s).customers.create({ email: 'ada@example.com', name: 'Ada Lovelace' });
    await api(s).subscriptions.create({ customerId: customer.id, planId: plan.id });
    const [invoice] = (await api(s).invoices.listByCustomer({ customerId: customer.id })).items;
    expect(invoice).toMatchObject({ status: 'open', amountDue: 4900 });
    const card = (number: string, makeDefault = true) => ledger.payments.sandbox.attachCard(s, customer.id, { number, expMonth: 12, expYear: 2030, makeDefault });
    return { s, customer, invoice: invoice!, card };
  }
  const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

  it('lists a customer\'s cards oldest first; setDefault leaves exactly one default; detaching the default leaves none', async () => {
    const { s, customer, card } = await openInvoice();
    const visa = await card(VISA);
    const mc = await card(MASTERCARD, false);
    const listed = await api(s).paymentMethods.list({ customerId: customer.id });
    expect(listed.map((m) => [m.id, m.brand, m.last4, m.isDefault])).toEqual([
      [visa.id, 'visa', '4242', true],
      [mc.id, 'mastercard', '4444', false],
    ]);

    expect(await api(s).paymentMethods.setDefault({ id: mc.id })).toMatchObject({ id: mc.id, isDefault: true });
    expect((await api(s).paymentMethods.list({ customerId: customer.id })).map((m) => [m.last4, m.isDefault])).toEqual([
      ['4242', false],
      ['4444', true],
    ]);
    // Setting it again changes nothing.
    await api(s).paymentMethods.setDefault({ id: mc.id });
    expect((await api(s).paymentMethods.list({ customerId: customer.id })).filter((m) => m.isDefault).map((m) => m.id)).toEqual([mc.id]);

    const detached = await api(s).paymentMethods.detach({ id: mc.id });
    expect(detached).toMatchObject({ id: mc.id, isDefault: false, detachedAt: T0 });
    const after = await api(s).paymentMethods.list({ customerId: customer.id });
    expect(after.map((m) => [m.id, m.isDefault])).toEqual([[visa.id, false]]);
    expect(await ledger.store.payments.defaultMethod(s, customer.id)).toBeNull();
    // A detached method is gone for every procedure.
    expect((await codeOf(api(s).paymentMethods.detach({ id: mc.id }))).code).toBe('NOT_FOUND');
    expect((await codeOf(api(s).paymentMethods.setDefault({ id: mc.id }))).code).toBe('NOT_FOUND');
  });

  it('bad ids are BAD_REQUEST, unknown and other scopes\' methods and customers NOT_FOUND, and nothing changes', async () => {
    const { s, customer, card } = await openInvoice();
    const visa = await card(VISA);
    const mc = await card(MASTERCARD, false);
    const before = await api(s).paymentMethods.list({ customerId: customer.id });
    const other = uniqueScope();
    await ledger.scopes.register(other, 'test');

    expect((await codeOf(api(s).paymentMethods.setDefault({ id: customer.id }))).code).toBe('BAD_REQUEST');
    expect((await codeOf(api(s).paymentMethods.detach({ id: 'pm_not-a-typeid' }))).code).toBe('BAD_REQUEST');
    expect((await codeOf(api(s).paymentMethods.list({ customerId: visa.id }))).code).toBe('BAD_REQUEST');
    const unknown = await codeOf(api(s).paymentMethods.setDefault({ id: 'pm_01h455vb4pex5vsknk084sn02q' }));
    expect(unknown).toEqual({ code: 'NOT_FOUND', message: expect.stringContaining('pm_01h455vb4pex5vsknk084sn02q') });
    expect((await codeOf(api(other).paymentMethods.setDefault({ id: mc.id }))).code).toBe('NOT_FOUND');
    expect((await codeOf(api(other).paymentMethods.detach({ id: visa.id }))).code).toBe('NOT_FOUND');
    expect((await codeOf(api(other).paymentMethods.list({ customerId: customer.id }))).code).toBe('NOT_FOUND');
    expect((await codeOf(api(other).customers.createSetupSession({ customerId: customer.id, successUrl: 'https://a.example/ok', cancelUrl: 'https://a.example/no' }))).code).toBe('NOT_FOUND');

    expect(await api(s).paymentMethods.list({ customerId: customer.id })).toEqual(before);
  });

  it('createSetupSession: the sandbox\'s add-a-card page, signed for that customer and scope for 1 hour; it saves a card and sends them on', async () => {
    const { s, customer } = await openInvoice();
    const { url } = await api(s).customers.createSetupSession({ customerId: customer.id, successUrl: 'https://app.example/done?x=1', cancelUrl: 'https://app.example/back' });
    expect(url).toMatch(/^https:\/\/billing\.example\.com\/sandbox\/setup\/[\w-]+\.[\w-]+$/);
    const page = await ledger.hosted.setup(tokenOf(url));
    expect(page).toMatchObject({ scope: s, successUrl: 'https://app.example/done?x=1', cancelUrl: 'https://app.example/back' });
    expect(page.customer.id).toBe(customer.id);

    // A malformed card: invalid, nothing saved.
    await expect(ledger.hosted.addCard(tokenOf(url), { number: '4242 4242 4242 4241', expMonth: 12, expYear: 2030 })).rejects.toMatchObject({ code: 'invalid' });
    expect(await api(s).paymentMethods.list({ customerId: customer.id })).toEqual([]);
    const { method, successUrl } = await ledger.hosted.addCard(tokenOf(url), { number: '4242 4242 4242 4242', expMonth: 12, expYear: 2030 });
    expect([method.brand, method.last4, method.isDefault, successUrl]).toEqual(['visa', '4242', true, 'https://app.example/done?x=1']);

    // One hour later the link is dead.
    clock.set(clock.nowMs() + 3600_000);
    await expect(ledger.hosted.setup(tokenOf(url))).rejects.toMatchObject({ code: 'not_found', message: HOSTED_LINK_INVALID });

    const bad = await codeOf(api(s).customers.createSetupSession({ customerId: customer.id, successUrl: 'javascript:alert(1)', cancelUrl: 'https://app.example/back' }));
    expect(bad).toEqual({ code: 'BAD_REQUEST', message: expect.stringContaining('successUrl') });
  });

  it('invoices.hostedUrl: a signed pay link of an open invoice, only for its scope; a tampered, foreign-kind or expired token is not_found; a void invoice has none', async () => {
    const { s, invoice, customer } = await openInvoice();
    const { url } = await api(s).invoices.hostedUrl({ id: invoice.id });
    expect(url).toMatch(/^https:\/\/billing\.example\.com\/pay\/[\w-]+\.[\w-]+$/);
    const token = tokenOf(url);
    const page = await ledger.hosted.invoice(token);
    expect([page.invoice.id, page.invoice.amountDue, page.customer.name, page.provider, page.methods, page.lastPayment]).toEqual([invoice.id, 4900, 'Ada Lovelace', 'sandbox', [], null]);

    const other = uniqueScope();
    expect((await codeOf(api(other).invoices.hostedUrl({ id: invoice.id }))).code).toBe('NOT_FOUND');
    expect((await codeOf(api(s).invoices.hostedUrl({ id: customer.id }))).code).toBe('BAD_REQUEST');

    // One character of the payload changed: the MAC no longer matches.
    const i = 5;
    const tampered = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    await expect(ledger.hosted.invoice(tampered)).rejects.toMatchObject({ code: 'not_found', message: HOSTED_LINK_INVALID });
    // A set-up token is no pay token, and a token of another secret is nobody's.
    const setup = await api(s).customers.createSetupSession({ customerId: customer.id, successUrl: 'https://a.example/ok', cancelUrl: 'https://a.example/no' });
    await expect(ledger.hosted.invoice(tokenOf(setup.url))).rejects.toMatchObject({ code: 'not_found' });
    const stranger = await createLedger({ clock, logger: silentLogger, hosted: { secret: 'another-secret-of-32-characters!!' } });
    await expect(stranger.hosted.invoice(token)).rejects.toMatchObject({ code: 'not_found' });

    await api(s).invoices.void({ id: invoice.id, reason: 'issued by mistake' });
    expect((await codeOf(api(s).invoices.hostedUrl({ id: invoice.id }))).code).toBe('PRECONDITION_FAILED');

    const open = await openInvoice();
    const later = tokenOf((await api(open.s).invoices.hostedUrl({ id: open.invoice.id })).url);
    clock.set(clock.nowMs() + 30 * 86_400_000);
    await expect(ledger.hosted.invoice(later)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('the pay page: a card typed there is not kept when paying fails with an error (the database hiccups), and the previous default stays', async () => {
    const { s, invoice, customer } = await openInvoice();
    const saved = await ledger.payments.sandbox.attachCard(s, customer.id, { number: DECLINED, expMonth: 12, expYear: 2030 });
    const token = tokenOf((await api(s).invoices.hostedUrl({ id: invoice.id })).url);
    const payments = ledger.store.payments;
    const original = payments.insertPayment;
    payments.insertPayment = async () => {
      throw new Error('connection reset');
    };
    try {
      await expect(ledger.hosted.pay(token, { card: { number: VISA, expMonth: 12, expYear: 2030 } })).rejects.toThrow('connection reset');
    } finally {
      payments.insertPayment = original;
    }
    expect((await api(s).paymentMethods.list({ customerId: customer.id })).map((m) => [m.id, m.isDefault])).toEqual([[saved.id, true]]);
  });

  it('the pay page: a declined card typed there is not kept and says "Your card was declined."; 4242 pays 49.00', async () => {
    const { s, invoice, customer } = await openInvoice();
    const token = tokenOf((await api(s).invoices.hostedUrl({ id: invoice.id })).url);
    expect(await ledger.hosted.pay(token, { card: { number: DECLINED, expMonth: 12, expYear: 2030 } })).toEqual({ status: 'failed', code: 'card_declined', message: 'Your card was declined.' });
    expect(await api(s).paymentMethods.list({ customerId: customer.id })).toEqual([]);
    await expect(ledger.hosted.pay(token, { card: { number: '1234', expMonth: 12, expYear: 2030 } })).rejects.toMatchObject({ code: 'invalid' });

    const paid = await ledger.hosted.pay(token, { card: { number: VISA, expMonth: 12, expYear: 2030 } });
    expect(paid).toMatchObject({ status: 'paid', invoice: { id: invoice.id, status: 'paid', amountDue: 0 } });
    expect((await api(s).payments.list({ invoiceId: invoice.id })).items.map((p) => [p.attempt, p.status, p.failureCode])).toEqual([
      [1, 'failed', 'card_declined'],
      [2, 'succeeded', null],
    ]);
    expect((await api(s).paymentMethods.list({ customerId: customer.id })).map((m) => [m.last4, m.isDefault])).toEqual([['4242', true]]);
    // The paid invoice's page is its receipt; paying again charges nothing.
    expect((await ledger.hosted.invoice(token)).invoice.status).toBe('paid');
    expect((await ledger.hosted.pay(token)).status).toBe('paid');
    expect((await api(s).payments.list({ invoiceId: invoice.id })).items).toHaveLength(2);
  });

  it('3-D Secure: the pay page sends the customer to the signed confirm page; Complete delivers the signed webhook and the invoice is paid; Fail leaves it open', async () => {
    const { s, invoice, card } = await openInvoice();
    await card(THREE_DS);
    const token = tokenOf((await api(s).invoices.hostedUrl({ id: invoice.id })).url);
    const r = await ledger.hosted.pay(token);
    if (r.status !== 'requires_action') throw new Error(`expected requires_action, got ${r.status}`);
    expect(r.confirmUrl).toMatch(/^https:\/\/billing\.example\.com\/sandbox\/confirm\/[\w-]+\.[\w-]+$/);
    const confirm = tokenOf(r.confirmUrl);
    const seen = await ledger.hosted.confirmation(confirm);
    expect([seen.payment.status, seen.payment.amount, seen.invoice.id]).toEqual(['requires_action', 4900, invoice.id]);
    // The confirm token opens no pay page, and names no other scope's payment.
    await expect(ledger.hosted.invoice(confirm)).rejects.toMatchObject({ code: 'not_found' });

    const done = await ledger.hosted.authenticate(confirm, 'complete');
    expect(done.payment.status).toBe('succeeded');
    expect(await ledger.hosted.invoice(tokenOf(done.payUrl))).toMatchObject({ invoice: { id: invoice.id, status: 'paid' }, lastPayment: { status: 'succeeded' } });
    expect((await api(s).invoices.get({ id: invoice.id })).status).toBe('paid');

    const second = await openInvoice();
    await second.card(THREE_DS);
    const t2 = tokenOf((await api(second.s).invoices.hostedUrl({ id: second.invoice.id })).url);
    const r2 = await ledger.hosted.pay(t2);
    if (r2.status !== 'requires_action') throw new Error(`expected requires_action, got ${r2.status}`);
    const failed = await ledger.hosted.authenticate(tokenOf(r2.confirmUrl), 'fail');
    expect([failed.payment.status, failed.payment.failureCode]).toEqual(['failed', 'payment_intent_authentication_failure']);
    expect((await api(second.s).invoices.get({ id: second.invoice.id })).status).toBe('open');
  });

  it('3-D Secure on an invoice voided meanwhile: completing it on the confirm page charges nothing, and the payment stays waiting', async () => {
    const { s, invoice, card } = await openInvoice();
    await card(THREE_DS);
    const token = tokenOf((await api(s).invoices.hostedUrl({ id: invoice.id })).url);
    const r = await ledger.hosted.pay(token);
    if (r.status !== 'requires_action') throw new Error(`expected requires_action, got ${r.status}`);
    await api(s).invoices.void({ id: invoice.id, reason: 'issued in error' });
    const done = await ledger.hosted.authenticate(tokenOf(r.confirmUrl), 'complete');
    expect(done.payment.status).toBe('requires_action');
    expect((await api(s).payments.list({ invoiceId: invoice.id })).items.map((p) => p.status)).toEqual(['requires_action']);
    expect((await api(s).invoices.get({ id: invoice.id })).status).toBe('void');
  });

  it('a custom provider: its set-up URL is returned; a detach it refuses records nothing', async () => {
    const detached: string[] = [];
    let refuse = true;
    const acme: PaymentProvider = {
      name: 'acme',
      modes: ['test'],
      ensureCustomer: async (_s, c) => ({ providerCustomerId: `acme_${c.id}` }),
      startSetup: async (_s, c, urls) => ({ url: `https://acme.example/setup/${c.id}?next=${encodeURIComponent(urls.successUrl)}` }),
      listMethods: async () => [{ providerRef: 'acme_pm_1', brand: 'visa', last4: '1881', expMonth: 1, expYear: 2031 }],
      detachMethod: async (_s, m) => {
        if (refuse) throw new LedgerError('conflict', 'acme: the method is in use');
        detached.push(m.providerRef);
      },
      charge: async () => ({ status: 'succeeded', providerPaymentId: 'acme_ch_1' }),
      refund: async () => ({ status: 'succeeded', providerRefundId: 'acme_re_1' }),
      verifyWebhook: async () => [],
    };
    const custom = await createLedger({ store: store(), clock, logger: silentLogger, providers: [acme] });
    const s = uniqueScope();
    await custom.scopes.register(s, 'test');
    const call = createCaller({ ledger: custom, auth: { kind: 'api_key', scope: s, keyId: 'key_test' } });
    await call.payments.updateSettings({ provider: 'acme' });
    const customer = await call.customers.create({ email: 'lin@example.com', name: 'Lin' });
    expect(await call.customers.createSetupSession({ customerId: customer.id, successUrl: 'https://app.example/ok', cancelUrl: 'https://app.example/no' })).toEqual({
      url: `https://acme.example/setup/${customer.id}?next=https%3A%2F%2Fapp.example%2Fok`,
    });
    const [method] = await custom.payments.syncMethods(s, customer.id);
    expect(method).toMatchObject({ provider: 'acme', last4: '1881', isDefault: true });

    expect((await codeOf(call.paymentMethods.detach({ id: method!.id }))).code).toBe('CONFLICT');
    expect(await call.paymentMethods.list({ customerId: customer.id })).toEqual([method]);
    refuse = false;
    await call.paymentMethods.detach({ id: method!.id });
    expect(detached).toEqual(['acme_pm_1']);
    expect(await call.paymentMethods.list({ customerId: customer.id })).toEqual([]);
  });

  it('a provider that does not answer (a network error) is a typed error, not a 500 with a generic message, and nothing is recorded', async () => {
    let down = false;
    const flaky: PaymentProvider = {
      name: 'flaky',
      modes: ['test'],
      ensureCustomer: async (_s, c) => ({ providerCustomerId: `flaky_${c.id}` }),
      startSetup: async () => {
        if (down) throw new Error('connect ECONNREFUSED 10.1.2.3:443');
        return { url: 'https://flaky.example/setup' };
      },
      listMethods: async () => {
        if (down) throw new Error('connect ECONNREFUSED 10.1.2.3:443');
        return [{ providerRef: 'flaky_pm_1', brand: 'visa', last4: '1881', expMonth: 1, expYear: 2031 }];
      },
      detachMethod: async () => {
        if (down) throw new Error('connect ECONNREFUSED 10.1.2.3:443');
      },
      charge: async () => ({ status: 'succeeded', providerPaymentId: 'flaky_ch_1' }),
      refund: async () => ({ status: 'succeeded', providerRefundId: 'flaky_re_1' }),
      verifyWebhook: async () => [],
    };
    const custom = await createLedger({ store: store(), clock, logger: silentLogger, providers: [flaky] });
    const s = uniqueScope();
    await custom.scopes.register(s, 'test');
    const call = createCaller({ ledger: custom, auth: { kind: 'api_key', scope: s, keyId: 'key_test' } });
    await call.payments.updateSettings({ provider: 'flaky' });
    const customer = await call.customers.create({ email: 'kim@example.com', name: 'Kim' });
    const [method] = await custom.payments.syncMethods(s, customer.id);
    down = true;
    const detach = await codeOf(call.paymentMethods.detach({ id: method!.id }));
    expect(detach.code).toBe('CONFLICT');
    expect(detach.message).toMatch(/flaky/);
    expect(detach.message).not.toMatch(/10\.1\.2\.3/);
    expect(await call.paymentMethods.list({ customerId: customer.id })).toEqual([method]);
    const setup = await codeOf(call.customers.createSetupSession({ customerId: customer.id, successUrl: 'https://app.example/ok', cancelUrl: 'https://app.example/no' }));
    expect(setup.code).toBe('CONFLICT');
    await custom.shutdown();
  });

  it("a card typed on the pay page of a scope that does not collect through the sandbox is refused, and the customer's default card stays", async () => {
    const acme: PaymentProvider = {
      name: 'acme',
      modes: ['test'],
      ensureCustomer: async (_s, c) => ({ providerCustomerId: `acme_${c.id}` }),
      startSetup: async () => ({ url: 'https://acme.example/setup' }),
      listMethods: async () => [{ providerRef: 'acme_pm_1', brand: 'visa', last4: '1881', expMonth: 1, expYear: 2031 }],
      detachMethod: async () => {},
      charge: async () => ({ status: 'succeeded', providerPaymentId: 'acme_ch_1' }),
      refund: async () => ({ status: 'succeeded', providerRefundId: 'acme_re_1' }),
      verifyWebhook: async () => [],
    };
    const custom = await createLedger({ store: store(), clock, logger: silentLogger, providers: [acme] });
    const s = uniqueScope();
    await custom.scopes.register(s, 'test');
    await custom.payments.updateSettings(s, { provider: 'acme', collectionMethod: 'send_invoice' });
    const plan = await custom.plans.create(s, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const customer = await custom.customers.create(s, { email: 'ada@example.com', name: 'Ada' });
    const [method] = await custom.payments.syncMethods(s, customer.id);
    await custom.subscriptions.create(s, { customerId: customer.id, planId: plan.id });
    const [inv] = (await custom.invoices.listByCustomer(s, customer.id)).items;
    const token = tokenOf(await custom.hosted.invoiceUrl(s, inv!.id));
    await expect(custom.hosted.pay(token, { card: { number: VISA, expMonth: 12, expYear: 2030 } })).rejects.toMatchObject({ code: 'illegal_state' });
    expect(await custom.payments.methods(s, customer.id)).toEqual([method]);
    expect(await custom.invoices.get(s, inv!.id)).toMatchObject({ status: 'open' });
    expect((await custom.hosted.pay(token)).status).toBe('paid'); // the saved card still pays it
    await custom.shutdown();
  });

  it('payments.settings: the defaults, then a partial update; a bad schedule or an unconfigured provider is BAD_REQUEST and changes nothing', async () => {
    const { s } = await openInvoice();
    const defaults = await api(s).payments.settings();
    expect(defaults).toMatchObject({ provider: null, collectionMethod: 'charge_automatically', daysUntilDue: 30, retrySchedule: [3, 5, 7], finalPolicy: 'unpaid' });
    const updated = await api(s).payments.updateSettings({ retrySchedule: [2, 4], finalPolicy: 'canceled', collectionMethod: 'send_invoice', daysUntilDue: 14 });
    expect(updated).toMatchObject({ provider: null, collectionMethod: 'send_invoice', daysUntilDue: 14, retrySchedule: [2, 4], finalPolicy: 'canceled' });

    const decreasing = await codeOf(api(s).payments.updateSettings({ retrySchedule: [5, 3] }));
    expect(decreasing).toEqual({ code: 'BAD_REQUEST', message: expect.stringContaining('retry days must increase') });
    expect((await codeOf(api(s).payments.updateSettings({ provider: 'paddle' }))).code).toBe('BAD_REQUEST');
    expect((await codeOf(api(s).payments.updateSettings({ daysUntilDue: -1 }))).code).toBe('BAD_REQUEST');
    expect((await codeOf(api(s).payments.updateSettings({ finalPolicy: 'forgive' } as never))).code).toBe('BAD_REQUEST');
    expect(await api(s).payments.settings()).toEqual(updated);
    // Another scope still has the defaults.
    expect(await api(uniqueScope()).payments.settings()).toMatchObject({ retrySchedule: [3, 5, 7], finalPolicy: 'unpaid' });
  });
});
