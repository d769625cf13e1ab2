import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '@/db/client';
import { createLedger, createPostgresStore, ManualClock, scope, silentLogger, type Scope } from '@/server/ledger';
import { createStripeProvider } from '@/server/ledger/payment/stripe';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe';

/**
 * Never charged twice, with a real crash: a second process collects an invoice of 49.00
 * through the Stripe adapter (the real SDK against the fake Stripe server), and is killed
 * with kill -9 after Stripe made the charge and before Ledger wrote its answer (the fake
 * holds the answer back). The payment is left `pending`, with no Stripe id recorded. A
 * new engine on the same database settles it once, either by Stripe's webhook (found by
 * the idempotency key in the PaymentIntent's metadata) or by the reconcile pass (asking
 * again with the same key, which Stripe answers with the first charge). Either way: the
 * invoice paid, one PaymentIntent. On an embedded PGlite directory, and on PostgreSQL when
 * TEST_DATABASE_URL is set.
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-pay-crash-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const targets: [string, () => string][] = [['pglite', () => path.join(tmp, `db-${Math.random().toString(36).slice(2)}`)]];
if (process.env.TEST_DATABASE_URL) targets.push(['postgres', () => process.env.TEST_DATABASE_URL!]);

const child = path.resolve(import.meta.dirname, '../support/payment-child.ts');
const WEBHOOK_SECRET = 'whsec_crash';
/** Two Node processes compiling TypeScript and opening a database: slow on a busy machine; nothing waits on a timer. */
const PROCESS_TEST_TIMEOUT = 240_000;

let fake: FakeStripe;
beforeAll(async () => {
  fake = await startFakeStripe({ timeoutMs: 5_000 });
});
afterAll(() => fake.close());

async function engine(db: string, clock?: ManualClock) {
  const database = await openDatabase(db.startsWith('postgres') ? { url: db } : { dataDir: db });
  const provider = createStripeProvider({ secretKey: 'sk_test_crash', webhookSecret: WEBHOOK_SECRET, stripeOptions: fake.stripeOptions });
  const ledger = await createLedger({ store: createPostgresStore(database.db), logger: silentLogger, providers: [provider], ...(clock ? { clock } : {}) });
  return {
    ledger,
    provider,
    async close() {
      await ledger.shutdown();
      await database.close();
    },
  };
}

/** A test scope on Stripe, a customer with a card at Stripe whose invoices are sent, and its open invoice of 49.00. */
async function prepare(db: string): Promise<{ s: Scope; invoiceId: string }> {
  const e = await engine(db);
  try {
    const s = scope(`paycrash-${Math.random().toString(36).slice(2, 10)}`, 'app');
    await e.ledger.scopes.register(s, 'test');
    await e.ledger.payments.updateSettings(s, { provider: 'stripe' });
    const plan = await e.ledger.plans.create(s, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const customer = await e.ledger.customers.create(s, { email: `ada-${s.tenantId}@example.com`, name: 'Ada', collectionMethod: 'send_invoice' });
    fake.attachCard((await e.provider.ensureCustomer(s, customer)).providerCustomerId);
    await e.ledger.payments.syncMethods(s, customer.id);
    await e.ledger.subscriptions.create(s, { customerId: customer.id, planId: plan.id });
    const [inv] = (await e.ledger.invoices.listByCustomer(s, customer.id)).items;
    expect(inv).toMatchObject({ status: 'open', amountDue: 4900 });
    return { s, invoiceId: inv!.id };
  } finally {
    await e.close();
  }
}

const intentsOf = (invoiceId: string) => [...fake.paymentIntents.values()].filter((pi) => (pi.metadata as Record<string, string>).ledger_invoice === invoiceId);

/** Runs the child until Stripe made the charge, then kills it (kill -9) before it hears the answer. */
async function collectAndDie(db: string, s: Scope, invoiceId: string): Promise<void> {
  fake.next({ kind: 'stall', ms: 600_000 });
  const proc = spawn(process.execPath, ['--import', 'tsx', child, db, s.tenantId, s.appId, invoiceId, String(fake.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const lines = readline.createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  expect((await lines.next()).value).toBe('COLLECTING');
  while (intentsOf(invoiceId).length === 0) {
    if (proc.exitCode !== null) throw new Error('the child ended before Stripe charged');
    await new Promise((r) => setTimeout(r, 20));
  }
  proc.kill('SIGKILL');
  await exited;
}

describe.each(targets)('a crash between the charge and the write, on %s', (_name, makeDb) => {
  it("Stripe's webhook settles it: found by the idempotency key, the invoice paid, one PaymentIntent", async () => {
    const db = makeDb();
    const { s, invoiceId } = await prepare(db);
    await collectAndDie(db, s, invoiceId);

    const e = await engine(db);
    try {
      const [payment, ...more] = (await e.ledger.payments.list(s, { invoiceId })).items;
      expect(more).toEqual([]);
      expect(payment).toMatchObject({ status: 'pending', providerPaymentId: null, idempotencyKey: `${invoiceId}:attempt:1` });
      const [pi] = intentsOf(invoiceId);
      expect(pi).toMatchObject({ status: 'succeeded', amount: 4900 });

      const body = JSON.stringify({ id: `evt_crash_${invoiceId}`, object: 'event', type: 'payment_intent.succeeded', api_version: '2026-10-28.endive', created: Math.floor(Date.now() / 1000), livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, data: { object: pi } });
      await e.ledger.webhooks.receive('stripe', body, { 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET }) });
      await e.ledger.webhooks.whenIdle();
      expect(await e.ledger.invoices.get(s, invoiceId)).toMatchObject({ status: 'paid', amountDue: 0 });
      expect(await e.ledger.payments.get(s, payment!.id)).toMatchObject({ status: 'succeeded', providerPaymentId: pi!.id });
      // Collecting again, later, charges nothing more.
      await expect(e.ledger.collectPayment(s, invoiceId)).rejects.toThrow(/paid/);
      expect(intentsOf(invoiceId)).toHaveLength(1);
    } finally {
      await e.close();
    }
  }, PROCESS_TEST_TIMEOUT);

  it('the reconcile pass settles it: asked again with the same key, Stripe answers the first charge; the invoice paid, one PaymentIntent', async () => {
    const db = makeDb();
    const { s, invoiceId } = await prepare(db);
    await collectAndDie(db, s, invoiceId);

    // Reconcile leaves payments younger than a minute to their request in flight.
    const e = await engine(db, new ManualClock(new Date(Date.now() + 120_000)));
    try {
      await e.ledger.reconcile.scope(s);
      expect(await e.ledger.invoices.get(s, invoiceId)).toMatchObject({ status: 'paid', amountDue: 0 });
      const [payment, ...more] = (await e.ledger.payments.list(s, { invoiceId })).items;
      expect(more).toEqual([]);
      expect(payment).toMatchObject({ status: 'succeeded', providerPaymentId: intentsOf(invoiceId)[0]!.id });
      expect(intentsOf(invoiceId)).toHaveLength(1);
      const creates = fake.requests.filter((r) => r.path === '/v1/payment_intents' && r.method === 'POST' && r.idempotencyKey === `${invoiceId}:attempt:1`);
      expect(creates.map((r) => r.replayed)).toEqual([false, true]);
    } finally {
      await e.close();
    }
  }, PROCESS_TEST_TIMEOUT);
});
