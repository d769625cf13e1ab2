import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, type Invoice, type Scope } from '@/server/ledger';
import type { Store } from '@/server/ledger/store/store';
import { capturingLogger, recordingPlugin } from '../support/engine';
import { flakyProvider } from '../support/flaky-provider';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * Reconcile, on every store: a provider of the test's own charges (once per idempotency
 * key, as Stripe does) and then does not answer (a timeout); the process "dies" (a fresh
 * engine on the same store: nothing in memory survives), and the reconcile pass asks the
 * provider again with the payment's own key. Plan "Pro": 49.00 a month in advance; the
 * scope sends invoices (`send_invoice`), so each is collected when the test says.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const HOUR = 3_600_000;

describe.each(storeFactories())('reconcile on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  /** A scope on the flaky provider with an open invoice of 49.00 whose charge timed out after the provider charged. */
  async function chargedThenTimedOut(providerName = 'flaky') {
    const flaky = flakyProvider(providerName);
    const clock = new ManualClock(T0);
    const first = await createLedger({ store: store(), clock, logger: silentLogger, providers: [flaky.provider] });
    const scope = uniqueScope();
    await first.scopes.register(scope, 'test');
    await first.payments.updateSettings(scope, { provider: providerName, collectionMethod: 'send_invoice' });
    const plan = await first.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const customer = await first.customers.create(scope, { email: 'ada@example.com', name: 'Ada' });
    await first.payments.syncMethods(scope, customer.id);
    await first.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    const [inv] = (await first.invoices.listByCustomer(scope, customer.id)).items;
    flaky.chargeTimesOut();
    const { invoice, payment } = await first.collectPayment(scope, inv!.id);
    expect(invoice.status).toBe('open');
    expect(payment).toMatchObject({ status: 'pending', attempt: 1, idempotencyKey: `${inv!.id}:attempt:1` });
    expect(flaky.charged.size).toBe(1); // the provider charged; Ledger never heard
    await first.shutdown(); // the process dies
    return { flaky, clock, scope, invoice: inv!, payment: payment! };
  }

  /** A fresh engine on the same store and provider: what a restarted process has. */
  async function restarted(s: Store, flaky: ReturnType<typeof flakyProvider>, clock: ManualClock) {
    const recorder = recordingPlugin();
    const logger = capturingLogger();
    const ledger = await createLedger({ store: s, clock, logger, providers: [flaky.provider], plugins: [recorder.plugin] });
    return { ledger, recorder, logger };
  }

  it('the process died after the provider charged: a minute later, reconcile asks again with the same key; the invoice is paid and charged exactly once', async () => {
    const { flaky, clock, scope, invoice, payment } = await chargedThenTimedOut();
    const { ledger, recorder } = await restarted(store(), flaky, clock);

    clock.set(T0.getTime() + 30_000); // too young: the call might still be in flight
    expect((await ledger.reconcile.scope(scope)).reconciled).toEqual([]);
    expect(flaky.charges).toHaveLength(1);

    clock.set(T0.getTime() + 61_000);
    const r = await ledger.reconcile.scope(scope);
    expect(r.reconciled).toEqual([expect.objectContaining({ id: payment.id, status: 'succeeded', providerPaymentId: 'flaky_ch_1' })]);
    expect(await ledger.invoices.get(scope, invoice.id)).toMatchObject({ status: 'paid', amountDue: 0 });
    expect(flaky.charges).toEqual([payment.idempotencyKey, payment.idempotencyKey]);
    expect(flaky.charged.size).toBe(1);
    expect((await ledger.payments.list(scope, { invoiceId: invoice.id })).items.map((p) => [p.id, p.status])).toEqual([[payment.id, 'succeeded']]);
    expect((await ledger.payments.attempts(scope, payment.id)).map((a) => a.outcome)).toEqual(['error', 'succeeded']);
    expect(recorder.of('onProviderSync')).toEqual([[scope, 'flaky', { reconciled: r.reconciled, refunds: [] }]]);
    expect(recorder.of('onInvoicePaid')).toHaveLength(1);

    // Nothing is pending any more: the next pass asks nobody.
    expect((await ledger.reconcile.scope(scope)).reconciled).toEqual([]);
    expect(flaky.charges).toHaveLength(2);
    await ledger.shutdown();
  });

  it('the deployment-level pass (what the billing schedule runs) finds the scope by itself and settles it', async () => {
    // A provider name of its own: on a shared database the pass also finds other tests' pending
    // payments, which it must not charge through this test's provider (their provider is not here).
    const { flaky, clock, scope, invoice } = await chargedThenTimedOut(`flaky-${Math.random().toString(16).slice(2, 10)}`);
    const { ledger } = await restarted(store(), flaky, clock);
    clock.set(T0.getTime() + 5 * 60_000);
    const report = await ledger.reconcile.run();
    expect(report.scopes).toBeGreaterThanOrEqual(1);
    expect(report.settled).toBeGreaterThanOrEqual(1);
    expect(await ledger.invoices.get(scope, invoice.id)).toMatchObject({ status: 'paid' });
    expect([...flaky.charged.keys()]).toEqual([`${invoice.id}:attempt:1`]);
    await ledger.shutdown();
  });

  it('a provider still not answering: the payment stays pending (each try recorded) until a pass gets the answer', async () => {
    const { flaky, clock, scope, invoice, payment } = await chargedThenTimedOut();
    const { ledger } = await restarted(store(), flaky, clock);
    flaky.chargeTimesOut();
    clock.set(T0.getTime() + 2 * 60_000);
    expect((await ledger.reconcile.scope(scope)).reconciled).toEqual([expect.objectContaining({ id: payment.id, status: 'pending' })]);
    expect(await ledger.invoices.get(scope, invoice.id)).toMatchObject({ status: 'open' });
    clock.set(T0.getTime() + 4 * 60_000);
    expect((await ledger.reconcile.scope(scope)).reconciled).toEqual([expect.objectContaining({ id: payment.id, status: 'succeeded' })]);
    expect((await ledger.payments.attempts(scope, payment.id)).map((a) => a.outcome)).toEqual(['error', 'error', 'succeeded']);
    expect(flaky.charged.size).toBe(1);
    await ledger.shutdown();
  });

  it('pending longer than the provider keeps idempotency keys (24 h): not asked again, logged, left for the webhook', async () => {
    const { flaky, clock, scope, invoice, payment } = await chargedThenTimedOut();
    const { ledger, logger, recorder } = await restarted(store(), flaky, clock);
    clock.set(T0.getTime() + 25 * HOUR);
    const r = await ledger.reconcile.scope(scope);
    expect(r.reconciled).toEqual([]);
    expect(r.tooOld.map((p) => p.id)).toEqual([payment.id]);
    expect(flaky.charges).toHaveLength(1);
    expect(await ledger.invoices.get(scope, invoice.id)).toMatchObject({ status: 'open' });
    expect(logger.entries.some((e) => e.level === 'warn' && e.data?.paymentId === payment.id && /longer than the provider keeps/.test(e.msg))).toBe(true);
    expect(recorder.of('onProviderSync')).toEqual([]);
    await ledger.shutdown();
  });

  it('a refund the provider did not answer is sent again by reconcile with its key, and refunded once', async () => {
    const { flaky, clock, scope, invoice } = await chargedThenTimedOut();
    const { ledger } = await restarted(store(), flaky, clock);
    clock.set(T0.getTime() + 2 * 60_000);
    await ledger.reconcile.scope(scope); // the invoice is paid
    flaky.refundTimesOut();
    const { refund, creditNote } = await ledger.refunds.creditNote(scope, invoice.id, { amount: 1500, reason: 'billing_error', refund: true });
    expect(refund).toMatchObject({ status: 'pending', providerRefundId: null });
    clock.set(T0.getTime() + 4 * 60_000);
    const r = await ledger.reconcile.scope(scope);
    expect(r.refunds).toEqual([expect.objectContaining({ id: refund!.id, status: 'succeeded', providerRefundId: 'flaky_re_1' })]);
    expect(flaky.refunds).toEqual([`${creditNote.id}:refund`, `${creditNote.id}:refund`]);
    expect(flaky.refunded.size).toBe(1);
    await ledger.shutdown();
  });
});

describe('reconcile options', () => {
  it('minimum and maximum ages are settings: with minAgeMs 0 a payment is asked at once; with maxAgeMs 1 h one of 2 h is left alone', async () => {
    for (const [opts, expectAsked] of [
      [{ minAgeMs: 0 }, true],
      [{ minAgeMs: 0, maxAgeMs: HOUR }, false],
    ] as const) {
      const flaky = flakyProvider();
      const clock = new ManualClock(T0);
      const ledger = await createLedger({ clock, logger: silentLogger, providers: [flaky.provider], reconcile: opts });
      const scope: Scope = uniqueScope();
      await ledger.scopes.register(scope, 'test');
      await ledger.payments.updateSettings(scope, { provider: 'flaky', collectionMethod: 'send_invoice' });
      const plan = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
      const customer = await ledger.customers.create(scope, { email: 'ada@example.com', name: 'Ada' });
      await ledger.payments.syncMethods(scope, customer.id);
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      const [inv] = (await ledger.invoices.listByCustomer(scope, customer.id)).items as Invoice[];
      flaky.chargeTimesOut();
      await ledger.collectPayment(scope, inv!.id);
      if (!expectAsked) clock.set(T0.getTime() + 2 * HOUR);
      const r = await ledger.reconcile.scope(scope);
      expect(r.reconciled.length).toBe(expectAsked ? 1 : 0);
      expect((await ledger.invoices.get(scope, inv!.id)).status).toBe(expectAsked ? 'paid' : 'open');
      await ledger.shutdown();
    }
  });
});
