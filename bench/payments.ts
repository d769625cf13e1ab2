import Stripe from 'stripe';
import { openDatabase } from '../db/client';
import { createLedger, createPostgresStore, scope, silentLogger, type Invoice, type Scope } from '../server/ledger';
import { createStripeProvider } from '../server/ledger/payment/stripe';
import { startFakeStripe } from '../tests/support/fake-stripe';
import { startApp } from './app';
import { load } from './load';
import { opsPerSecond, report } from './report';

/**
 * Payments, on PostgreSQL:
 * - `webhooks.stripe_events_per_s`: Stripe events, each signed as Stripe signs them,
 *   posted to `POST /api/webhooks/stripe` of the production build (verified, stored once
 *   in the inbox, answered 200), beside `GET /api/live` of the same app in the same run:
 *   the route's cost over a bare one.
 * - `payments.collect_per_s`: open invoices collected one after another through the
 *   Stripe adapter (the real SDK) against the tests' fake Stripe server on loopback: each
 *   is a payment and an attempt written, a PaymentMethod read and a PaymentIntent created
 *   at the fake, the invoice marked paid. Beside it, the SDK's bare round trip to the same
 *   fake (`payments.fake_stripe_roundtrips_per_s`): what the provider's latency alone allows.
 */
const PORT = 3291;
const WEBHOOK_SECRET = 'whsec_bench_ledger';

export async function benchPayments(url: string, smoke: boolean): Promise<void> {
  await benchCollect(url, smoke ? 40 : 400);
  await benchStripeWebhooks(url, smoke);
}

export async function benchCollect(url: string, invoices: number): Promise<void> {
  const fake = await startFakeStripe({ timeoutMs: 10_000 });
  const database = await openDatabase({ url });
  const provider = createStripeProvider({ secretKey: 'sk_test_bench', webhookSecret: WEBHOOK_SECRET, stripeOptions: fake.stripeOptions });
  const ledger = await createLedger({ store: createPostgresStore(database.db), logger: silentLogger, providers: [provider] });
  try {
    const s: Scope = scope(`bench-pay-${Date.now()}-${Math.floor(Math.random() * 1e6)}`, 'app');
    await ledger.scopes.register(s, 'test');
    // Invoices are sent (collected on demand), so collecting them is what is timed.
    await ledger.payments.updateSettings(s, { provider: 'stripe', collectionMethod: 'send_invoice' });
    const plan = await ledger.plans.create(s, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const open: Invoice[] = [];
    for (let i = 0; i < invoices; i++) {
      const c = await ledger.customers.create(s, { email: `pay${i}@example.com`, name: `Payer ${i}` });
      await ledger.subscriptions.create(s, { customerId: c.id, planId: plan.id, trialDays: 0 });
      const { providerCustomerId } = await provider.ensureCustomer(s, c);
      fake.attachCard(providerCustomerId);
      await ledger.payments.syncMethods(s, c.id);
      const [inv] = (await ledger.invoices.listByCustomer(s, c.id)).items;
      if (inv?.status !== 'open') throw new Error(`expected an open invoice, got ${inv?.status}`);
      open.push(inv);
    }
    let paid = 0;
    const perSecond = await opsPerSecond(open.length, async (i) => {
      const r = await ledger.collectPayment(s, open[i]!.id);
      if (r.invoice.status === 'paid') paid++;
    });
    if (paid !== open.length) throw new Error(`${open.length - paid} of ${open.length} invoices were not paid`);

    const sdk = new Stripe('sk_test_bench', fake.stripeOptions);
    const someMethod = [...fake.paymentMethods.keys()][0]!;
    const roundTrips = await opsPerSecond(open.length, () => sdk.paymentMethods.retrieve(someMethod));
    report({ name: 'payments.fake_stripe_roundtrips_per_s', value: roundTrips, unit: 'req/s', note: 'the stripe SDK retrieving a PaymentMethod from the fake server, sequentially' });
    report({
      name: 'payments.collect_per_s',
      value: perSecond,
      unit: 'invoices/s',
      baseline: 'payments.fake_stripe_roundtrips_per_s',
      note: `${open.length} invoices of 49.00 collected one after another through the Stripe adapter (2 SDK calls each), all paid`,
    });
  } finally {
    await ledger.shutdown();
    await database.close();
    await fake.close();
  }
}

export async function benchStripeWebhooks(url: string, smoke: boolean): Promise<void> {
  const app = await startApp(url, PORT, { STRIPE_SECRET_KEY: 'sk_test_bench', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
  try {
    const seconds = smoke ? 2 : 10;
    const concurrency = 16;
    const trivial = await load({ url: `${app.base}/api/live`, concurrency, seconds });
    report({ name: 'http.trivial_requests_per_s', value: trivial.perSecond, unit: 'req/s', note: `GET /api/live, ${concurrency} connections (the webhook run's baseline)` });

    const run = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    // Succeeded PaymentIntents of no Ledger invoice: verified, stored and answered like any
    // event; processed later from the inbox (and ignored there, as objects Ledger does not know).
    const events = await load({
      url: `${app.base}/api/webhooks/stripe`,
      method: 'POST',
      concurrency,
      seconds,
      body: (i) =>
        JSON.stringify({
          id: `evt_bench_${run}_${i}`,
          object: 'event',
          type: 'payment_intent.succeeded',
          api_version: '2026-10-28.endive',
          created: Math.floor(Date.now() / 1000),
          livemode: false,
          pending_webhooks: 1,
          request: { id: null, idempotency_key: null },
          data: { object: { id: `pi_bench_${run}_${i}`, object: 'payment_intent', amount: 4900, currency: 'usd', status: 'succeeded', metadata: {} } },
        }),
      headers: (_i, body) => ({ 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body!, secret: WEBHOOK_SECRET }) }),
    });
    if (events.failures > 0) throw new Error(`${events.failures} of ${events.requests} webhook deliveries were not answered 2xx`);
    report({
      name: 'webhooks.stripe_events_per_s',
      value: events.perSecond,
      unit: 'events/s',
      baseline: 'http.trivial_requests_per_s',
      note: `signed events, ${concurrency} connections, ${events.requests} stored, ratio ${(events.perSecond / trivial.perSecond).toFixed(2)} (target ≥ 0.5)`,
    });
  } finally {
    await app.stop();
  }
}
