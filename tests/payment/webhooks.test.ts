import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chargeMetadata,
  createLedger,
  invalid,
  type PaymentProvider,
  ManualClock,
  newInboxRecord,
  type Invoice,
  type Ledger,
  type Logger,
  type ProviderEvent,
  type WebhookDelivery,
} from '@/server/ledger';
import { recordingPlugin, rejectsWith } from '../support/engine';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * Webhooks in, on every store, through the sandbox: its signed events go through
 * `ledger.webhooks.receive` (the route's path minus HTTP: tests/api/webhooks-route.test.ts
 * has the route), are stored once in the inbox, and processed from it. Plan "Pro" is
 * 49.00 a month in advance, so subscribing issues an open invoice of 49.00; a card that
 * requires action (4000 0025 0000 3155) leaves its payment `requires_action` until the
 * customer confirms, which the sandbox reports by webhook.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const REQUIRES_ACTION = '4000 0025 0000 3155';
const VISA = '4242 4242 4242 4242';

const eventIdOf = (d: WebhookDelivery) => (JSON.parse(d.body) as { id: string }).id;

describe.each(storeFactories())('webhooks in on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let ledger: Ledger;
  const clock = new ManualClock(T0);
  const recorder = recordingPlugin();
  const logged: { msg: string; data?: Record<string, unknown> }[] = [];
  const logger: Logger = { debug() {}, info: (msg, data) => void logged.push({ msg, data }), warn: (msg, data) => void logged.push({ msg, data }), error: (msg, data) => void logged.push({ msg, data }) };

  beforeAll(async () => {
    ledger = await createLedger({ store: store(), clock, logger, plugins: [recorder.plugin] });
  });
  afterAll(() => ledger.shutdown());

  /** A test scope whose customer holds `card` and has an open invoice of 49.00, collected once. */
  async function collected(card = REQUIRES_ACTION) {
    const scope = uniqueScope();
    await ledger.scopes.register(scope, 'test');
    const plan = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    // Sent, so finalization charges nothing: the one collection is the test's own.
    const customer = await ledger.customers.create(scope, { email: 'ada@example.com', name: 'Ada', collectionMethod: 'send_invoice' });
    await ledger.payments.sandbox.attachCard(scope, customer.id, { number: card, expMonth: 12, expYear: 2030 });
    await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    const [inv] = (await ledger.invoices.listByCustomer(scope, customer.id)).items;
    const { payment } = await ledger.collectPayment(scope, inv!.id);
    return { scope, invoice: inv!, payment: payment! };
  }

  const deliver = async (d: WebhookDelivery) => {
    const r = await ledger.webhooks.receive('sandbox', d.body, d.headers);
    await ledger.webhooks.whenIdle();
    return r;
  };
  const invoiceOf = (scope: Parameters<Ledger['invoices']['get']>[0], inv: Invoice) => ledger.invoices.get(scope, inv.id);

  it('a requires_action payment confirmed through the sandbox webhook: stored once, processed once, the invoice paid; a duplicate and a replay change nothing', async () => {
    const { scope, invoice, payment } = await collected();
    expect(payment).toMatchObject({ status: 'requires_action', attempt: 1 });
    expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'open', amountDue: 4900 });

    const d = await ledger.payments.sandbox.confirm(scope, payment.id);
    const id = eventIdOf(d);
    expect(await deliver(d)).toEqual({ provider: 'sandbox', events: [{ id, type: 'payment_intent.succeeded', duplicate: false }] });
    expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'paid', amountDue: 0, paidAt: T0 });
    expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ status: 'succeeded', actionUrl: null });
    expect(await ledger.webhooks.event('sandbox', id)).toMatchObject({ outcome: 'applied', scope, attempts: 1, lastError: null, processedAt: T0 });
    const fired = () => recorder.of('onWebhookReceived').filter(([, , p]) => (p as { eventId: string }).eventId === id);
    expect(fired()).toEqual([[scope, 'sandbox', expect.objectContaining({ eventId: id, type: 'payment.succeeded', outcome: 'applied' })]]);
    const paidHooks = () => recorder.of('onInvoicePaid').filter(([s]) => s === scope || JSON.stringify(s) === JSON.stringify(scope));
    expect(paidHooks()).toHaveLength(1);

    // The same delivery again (a provider retry), and the same event re-signed later (a replay).
    expect((await deliver(d)).events).toEqual([{ id, type: 'payment_intent.succeeded', duplicate: true }]);
    expect((await deliver({ body: d.body, headers: ledger.payments.sandbox.sign(d.body) })).events[0]!.duplicate).toBe(true);
    expect(fired()).toHaveLength(1);
    expect(paidHooks()).toHaveLength(1);
    expect(await ledger.webhooks.event('sandbox', id)).toMatchObject({ attempts: 1 });
  });

  it('out of order: a failure arriving after the success of the same payment leaves the invoice paid', async () => {
    const { scope, invoice, payment } = await collected();
    const failed = await ledger.payments.sandbox.eventFor(scope, payment.id, 'payment_intent.payment_failed');
    await deliver(await ledger.payments.sandbox.confirm(scope, payment.id));
    await deliver(failed);
    expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'paid' });
    expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ status: 'succeeded', failureCode: null });
    expect(await ledger.webhooks.event('sandbox', eventIdOf(failed))).toMatchObject({ outcome: 'ignored', scope });
    expect((await ledger.webhooks.event('sandbox', eventIdOf(failed)))!.note).toMatch(/succeeded: a failed event cannot move it/);

    // A payment paid at once (4242) and a late requires_action event: nothing moves either.
    const paid = await collected(VISA);
    expect(paid.payment.status).toBe('succeeded');
    await deliver(await ledger.payments.sandbox.eventFor(paid.scope, paid.payment.id, 'payment_intent.requires_action'));
    expect(await ledger.payments.get(paid.scope, paid.payment.id)).toMatchObject({ status: 'succeeded', actionUrl: null });
  });

  it('a success after a failure of the same payment (the provider took the money later): the payment succeeded, the invoice paid, never left for dunning to charge again', async () => {
    const { scope, invoice, payment } = await collected('4000 0000 0000 0002');
    expect(payment).toMatchObject({ status: 'failed', failureCode: 'card_declined' });
    await deliver(await ledger.payments.sandbox.eventFor(scope, payment.id, 'payment_intent.succeeded'));
    expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ status: 'succeeded' });
    expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'paid', amountDue: 0 });
  });

  it('a late success of attempt 1 after attempt 2 paid the invoice: the invoice stays paid once, and the double payment is logged as an error to refund', async () => {
    const { scope, invoice, payment } = await collected('4000 0000 0000 0002');
    const customerId = invoice.customerId;
    await ledger.payments.sandbox.attachCard(scope, customerId, { number: VISA, expMonth: 12, expYear: 2030 });
    const second = await ledger.collectPayment(scope, invoice.id);
    expect(second).toMatchObject({ invoice: { status: 'paid' }, payment: { attempt: 2, status: 'succeeded' } });
    const paidAt = (await invoiceOf(scope, invoice)).paidAt;
    logged.length = 0;
    await deliver(await ledger.payments.sandbox.eventFor(scope, payment.id, 'payment_intent.succeeded'));
    expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ status: 'succeeded' });
    expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'paid', paidAt });
    expect(logged.filter((l) => l.msg.startsWith('a payment succeeded for an invoice that is no longer open'))).toHaveLength(1);
  });

  it('a failure of a payment waiting for action: failed with its code, the invoice open, onInvoiceFailed fired', async () => {
    const { scope, invoice, payment } = await collected();
    await deliver(await ledger.payments.sandbox.eventFor(scope, payment.id, 'payment_intent.payment_failed'));
    expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ status: 'failed', failureCode: 'card_declined' });
    expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'open', amountDue: 4900 });
    expect(recorder.of('onInvoiceFailed').some(([s, inv]) => JSON.stringify(s) === JSON.stringify(scope) && (inv as Invoice).id === invoice.id)).toBe(true);
  });

  it('badly signed, unsigned, signed with another secret, or stale: invalid, nothing stored', async () => {
    const { scope, invoice, payment } = await collected();
    const d = await ledger.payments.sandbox.confirm(scope, payment.id);
    const id = eventIdOf(d);
    const header = 'ledger-sandbox-signature';
    const t = Math.floor(Date.now() / 1000);
    const cases: Record<string, string>[] = [
      {},
      { [header]: d.headers[header]!.replace(/v1=./, (m) => (m.endsWith('0') ? 'v1=1' : 'v1=0')) },
      { [header]: `t=${t},v1=${'ab'.repeat(32)}` },
      { [header]: 'garbage' },
      ledger.payments.sandbox.sign(d.body, t - 301),
      ledger.payments.sandbox.sign(d.body, t + 301),
    ];
    for (const headers of cases) await rejectsWith(ledger.webhooks.receive('sandbox', d.body, headers), 'invalid');
    // A body changed after signing.
    await rejectsWith(ledger.webhooks.receive('sandbox', d.body.replace('payment_intent.succeeded', 'payment_intent.payment_failed'), d.headers), 'invalid');
    await ledger.webhooks.whenIdle();
    expect(await ledger.webhooks.event('sandbox', id)).toBeNull();
    expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'open' });
  });

  it('signed but malformed: invalid with a clear message, nothing stored; an unknown event type is stored and ignored', async () => {
    const sign = (body: string) => ledger.payments.sandbox.sign(body);
    for (const body of ['not json', '[]', '{"type":"payment_intent.succeeded"}', JSON.stringify({ id: 'evt_malformed_1', type: 'payment_intent.succeeded' }), JSON.stringify({ id: 'evt_malformed_2', type: 'payment_intent.succeeded', data: { object: { metadata: 'x' } } })]) {
      const e = await rejectsWith(ledger.webhooks.receive('sandbox', body, sign(body)), 'invalid');
      expect(e.message).toMatch(/not JSON|not a sandbox event|needs data\.object/);
    }
    expect(await ledger.webhooks.event('sandbox', 'evt_malformed_1')).toBeNull();
    expect(await ledger.webhooks.event('sandbox', 'evt_malformed_2')).toBeNull();

    const id = `evt_unknown_${Date.now()}_${Math.random().toString(16).slice(2)}`;
    const body = JSON.stringify({ id, type: 'charge.captured', data: { object: { id: 'ch_1' } } });
    expect((await deliver({ body, headers: sign(body) })).events).toEqual([{ id, type: 'charge.captured', duplicate: false }]);
    expect(await ledger.webhooks.event('sandbox', id)).toMatchObject({ outcome: 'ignored', scope: null, payload: body });
  });

  it("metadata naming another tenant's invoice, or a scope that does not hold the payment: ignored with a log line, nothing changes", async () => {
    const a = await collected();
    const b = await collected();
    const d = await ledger.payments.sandbox.confirm(b.scope, b.payment.id);
    const ev = JSON.parse(d.body) as { id: string; data: { object: { metadata: Record<string, string> } } };
    const variants = [
      // B's payment, claiming to be A's invoice in A's scope.
      { ledger_tenant: a.scope.tenantId, ledger_app: a.scope.appId, ledger_invoice: a.invoice.id, ledger_customer: a.invoice.customerId },
      // B's scope, naming A's invoice.
      { ledger_tenant: b.scope.tenantId, ledger_app: b.scope.appId, ledger_invoice: a.invoice.id },
      // No Ledger metadata at all: an object Ledger does not know.
      {},
    ];
    for (const [i, metadata] of variants.entries()) {
      const forged = JSON.stringify({ ...ev, id: `${ev.id}_forged_${i}`, data: { object: { ...ev.data.object, metadata } } });
      await deliver({ body: forged, headers: ledger.payments.sandbox.sign(forged) });
      expect(await ledger.webhooks.event('sandbox', `${ev.id}_forged_${i}`)).toMatchObject({ outcome: 'ignored', scope: null });
      expect(logged.some((l) => l.msg === 'webhook event ignored' && l.data?.eventId === `${ev.id}_forged_${i}`)).toBe(true);
    }
    for (const { scope, invoice, payment } of [a, b]) {
      expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'open', amountDue: 4900 });
      expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ status: 'requires_action' });
    }
    // The genuine event still pays B's invoice only.
    await deliver(d);
    expect(await invoiceOf(b.scope, b.invoice)).toMatchObject({ status: 'paid' });
    expect(await invoiceOf(a.scope, a.invoice)).toMatchObject({ status: 'open' });
  });

  it('a crash after storing (stored, never processed): processPending settles it, once', async () => {
    const { scope, invoice, payment } = await collected();
    const d = await ledger.payments.sandbox.confirm(scope, payment.id);
    const raw = JSON.parse(d.body) as { id: string; type: string; data: { object: { id: string; metadata: Record<string, string> } } };
    const event: ProviderEvent = { id: raw.id, type: 'payment.succeeded', providerType: raw.type, mode: 'test', providerPaymentId: raw.data.object.id, metadata: raw.data.object.metadata };
    // What receive stores before it answers; the process "dies" before processing.
    expect(await ledger.store.payments.insertWebhookEvent(newInboxRecord('sandbox', event, raw.type, d.body, T0))).toBe(true);
    expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'open' });
    expect(await ledger.webhooks.event('sandbox', raw.id)).toMatchObject({ processedAt: null, attempts: 0 });

    await ledger.webhooks.processPending();
    expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'paid' });
    expect(await ledger.webhooks.event('sandbox', raw.id)).toMatchObject({ outcome: 'applied', attempts: 1 });
    await ledger.webhooks.processPending();
    expect(await ledger.webhooks.event('sandbox', raw.id)).toMatchObject({ attempts: 1 });
    // The provider's retry of it, later: a duplicate.
    expect((await deliver(d)).events[0]!.duplicate).toBe(true);
  });

  it('a crash after receive stored it (claimed by the dead process for its 60 s lease): no other pass takes it before the lease ends, the first one after settles it once', async () => {
    const { scope, invoice, payment } = await collected();
    const d = await ledger.payments.sandbox.confirm(scope, payment.id);
    const raw = JSON.parse(d.body) as { id: string; type: string; data: { object: { id: string; metadata: Record<string, string> } } };
    const event: ProviderEvent = { id: raw.id, type: 'payment.succeeded', providerType: raw.type, mode: 'test', providerPaymentId: raw.data.object.id, metadata: raw.data.object.metadata };
    // As receive stores it: attempt 1, held until now + 60 s by the process that stored it, which then dies.
    const now = ledger.clock.now();
    const lockedUntil = new Date(now.getTime() + 60_000);
    expect(await ledger.store.payments.insertWebhookEvent({ ...newInboxRecord('sandbox', event, raw.type, d.body, now), attempts: 1, lockedUntil })).toBe(true);

    expect(await ledger.webhooks.processPending()).toEqual({ applied: 0, ignored: 0, failed: 0 });
    expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'open' });
    clock.advance(60_001);
    expect(await ledger.webhooks.processPending()).toEqual({ applied: 1, ignored: 0, failed: 0 });
    expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'paid' });
    expect(await ledger.webhooks.event('sandbox', raw.id)).toMatchObject({ outcome: 'applied', attempts: 2 });
  });

  it('receive stores each new event claimed (attempt 1) and processes it itself, without a second claim', async () => {
    const { scope, invoice, payment } = await collected();
    const d = await ledger.payments.sandbox.confirm(scope, payment.id);
    await deliver(d);
    expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'paid' });
    expect(await ledger.webhooks.event('sandbox', eventIdOf(d))).toMatchObject({ outcome: 'applied', attempts: 1, lockedUntil: null });
  });

  it('a payment whose provider id was never recorded (a crash after the charge): found by its idempotency key and settled', async () => {
    const { scope, invoice, payment } = await collected();
    const d = await ledger.payments.sandbox.confirm(scope, payment.id);
    // As if Ledger had died before writing the provider's answer.
    await ledger.store.payments.transitionPayment(scope, payment.id, ['requires_action'], { status: 'requires_action', providerPaymentId: null, updatedAt: T0 });
    expect((await ledger.payments.get(scope, payment.id)).providerPaymentId).toBeNull();
    await deliver(d);
    expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ status: 'succeeded' });
    expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'paid' });
  });

  it('a provider that is not configured: not_found', async () => {
    await rejectsWith(ledger.webhooks.receive('stripe', '{}', {}), 'not_found');
  });

  it("a custom provider's webhooks take the same path; an event of the other mode (live for a test scope) is ignored", async () => {
    let n = 0;
    const custom: PaymentProvider = {
      name: 'custom',
      modes: ['test', 'live'],
      ensureCustomer: async (_s, c) => ({ providerCustomerId: `custom_${c.id}` }),
      startSetup: async () => ({ url: 'https://custom.example/setup' }),
      listMethods: async () => [{ providerRef: `custom_pm_${++n}`, brand: 'visa', last4: '1881', expMonth: 4, expYear: 2031 }],
      detachMethod: async () => {},
      charge: async (_s, { invoice }) => ({ status: 'requires_action', providerPaymentId: `custom_pi_${invoice.id}`, url: 'https://custom.example/3ds' }),
      refund: async () => ({ status: 'succeeded', providerRefundId: 'custom_re_1' }),
      // Its "signature": a shared word; its body: the normalized event itself.
      async verifyWebhook(raw, headers) {
        if (headers['x-custom-signature'] !== 'ok') throw invalid('bad custom signature');
        return [JSON.parse(raw) as ProviderEvent];
      },
    };
    const own = await createLedger({ store: store(), clock, logger, providers: [custom], defaultPaymentProvider: 'custom' });
    try {
      const scope = uniqueScope();
      await own.scopes.register(scope, 'test');
      const plan = await own.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
      const customer = await own.customers.create(scope, { email: 'ada@example.com', name: 'Ada' });
      await own.payments.syncMethods(scope, customer.id);
      await own.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      const [inv] = (await own.invoices.listByCustomer(scope, customer.id)).items;
      const { payment } = await own.collectPayment(scope, inv!.id);
      expect(payment).toMatchObject({ status: 'requires_action', provider: 'custom' });
      const event = (id: string, mode: 'live' | 'test') =>
        JSON.stringify({ id, type: 'payment.succeeded', providerType: 'pi.ok', mode, providerPaymentId: payment!.providerPaymentId, metadata: chargeMetadata(scope, inv!, payment!.idempotencyKey) });
      const base = `evt_custom_${Date.now()}_${Math.random().toString(16).slice(2)}`;
      await rejectsWith(own.webhooks.receive('custom', event(`${base}_x`, 'test'), {}), 'invalid');
      await own.webhooks.receive('custom', event(`${base}_live`, 'live'), { 'x-custom-signature': 'ok' });
      await own.webhooks.whenIdle();
      expect(await own.webhooks.event('custom', `${base}_live`)).toMatchObject({ outcome: 'ignored', scope });
      expect(await own.invoices.get(scope, inv!.id)).toMatchObject({ status: 'open' });
      await own.webhooks.receive('custom', event(`${base}_test`, 'test'), { 'x-custom-signature': 'ok' });
      await own.webhooks.whenIdle();
      expect(await own.webhooks.event('custom', `${base}_test`)).toMatchObject({ outcome: 'applied', scope });
      expect(await own.invoices.get(scope, inv!.id)).toMatchObject({ status: 'paid' });
    } finally {
      await own.shutdown();
    }
  });

  // It moves the clock (by its retry delay).
  it('processing that fails (the database hiccups): the event stays pending with the error, and a pass after its retry time settles it', async () => {
    const { scope, invoice, payment } = await collected();
    const payments = ledger.store.payments;
    const original = payments.listPaymentsByInvoice;
    payments.listPaymentsByInvoice = async () => {
      throw new Error('connection reset');
    };
    const d = await ledger.payments.sandbox.confirm(scope, payment.id);
    try {
      expect((await deliver(d)).events[0]!.duplicate).toBe(false);
    } finally {
      payments.listPaymentsByInvoice = original;
    }
    expect(await ledger.webhooks.event('sandbox', eventIdOf(d))).toMatchObject({ processedAt: null, attempts: 1, lastError: 'connection reset' });
    expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'open' });
    await ledger.webhooks.processPending(); // before its retry time: left alone
    expect(await ledger.webhooks.event('sandbox', eventIdOf(d))).toMatchObject({ processedAt: null, attempts: 1 });
    clock.advance(30_000);
    await ledger.webhooks.processPending();
    expect(await ledger.webhooks.event('sandbox', eventIdOf(d))).toMatchObject({ outcome: 'applied', attempts: 2, lastError: null });
    expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'paid' });
  });
  it('the invoice write fails after the payment was marked succeeded: the event is retried and its retry pays the invoice (not ignored as already succeeded)', async () => {
    const { scope, invoice, payment } = await collected();
    const invoices = ledger.store.invoices;
    const original = invoices.transition.bind(invoices);
    let failures = 1;
    invoices.transition = async (s, id, from, patch) => {
      if (patch.status === 'paid' && failures-- > 0) throw new Error('connection reset while marking the invoice paid');
      return original(s, id, from, patch);
    };
    try {
      const d = await ledger.payments.sandbox.confirm(scope, payment.id);
      await deliver(d);
      expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ status: 'succeeded' });
      expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'open' });
      clock.set(clock.now().getTime() + 60_000); // past the event's retry time
      await ledger.webhooks.processPending();
      expect(await invoiceOf(scope, invoice)).toMatchObject({ status: 'paid', amountDue: 0 });
      expect(await ledger.webhooks.event('sandbox', eventIdOf(d))).toMatchObject({ outcome: 'applied' });
    } finally {
      invoices.transition = original;
    }
  });
});
