import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scope, type Invoice, type Payment } from '@/server/ledger';
import { getRuntime, type Runtime } from '@/server/runtime';
import { useMemoryRuntimeEnv } from '../support/runtime';

/**
 * POST /api/webhooks/<provider> through the real route handler, on the app's runtime
 * (PGlite), with the sandbox's own signed events: no API key, no cookie.
 */
useMemoryRuntimeEnv();
const route = await import('@/app/api/webhooks/[provider]/route');

let rt: Runtime;
let n = 0;

beforeAll(async () => {
  rt = await getRuntime();
});
afterAll(() => rt.close());

const post = (provider: string, body: string, headers: Record<string, string>) =>
  route.POST(new Request(`http://test/api/webhooks/${provider}`, { method: 'POST', headers, body }), { params: Promise.resolve({ provider }) });

/** A test scope whose customer's invoice of 49.00 waits for 3-D Secure (card 3155). */
async function awaitingAction(): Promise<{ s: ReturnType<typeof scope>; invoice: Invoice; payment: Payment }> {
  const s = scope(`whk-${++n}`, 'app');
  const { ledger } = rt;
  await ledger.scopes.register(s, 'test');
  const plan = await ledger.plans.create(s, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
  const customer = await ledger.customers.create(s, { email: 'ada@example.com', name: 'Ada' });
  await ledger.payments.sandbox.attachCard(s, customer.id, { number: '4000002500003155', expMonth: 12, expYear: 2030 });
  await ledger.subscriptions.create(s, { customerId: customer.id, planId: plan.id });
  const [invoice] = (await ledger.invoices.listByCustomer(s, customer.id)).items;
  const { payment } = await ledger.collectPayment(s, invoice!.id);
  expect(payment?.status).toBe('requires_action');
  return { s, invoice: invoice!, payment: payment! };
}

const idOf = (body: string) => (JSON.parse(body) as { id: string }).id;

describe('POST /api/webhooks/sandbox', () => {
  it('a confirmed 3-D Secure payment: 200 at once, the invoice paid from the inbox; the same delivery again is 200 and a duplicate', async () => {
    const { s, invoice, payment } = await awaitingAction();
    const d = await rt.ledger.payments.sandbox.confirm(s, payment.id);
    const res = await post('sandbox', d.body, d.headers);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(await res.json()).toEqual({ received: true, events: [{ id: idOf(d.body), type: 'payment_intent.succeeded', duplicate: false }] });
    await rt.ledger.webhooks.whenIdle();
    expect(await rt.ledger.invoices.get(s, invoice.id)).toMatchObject({ status: 'paid', amountDue: 0 });

    const again = await post('sandbox', d.body, d.headers);
    expect(again.status).toBe(200);
    expect((await again.json()).events[0].duplicate).toBe(true);
    expect(await rt.ledger.webhooks.event('sandbox', idOf(d.body))).toMatchObject({ outcome: 'applied', attempts: 1 });
  });

  it('a missing or bad signature, or a stale timestamp: 400 and nothing stored', async () => {
    const { s, invoice, payment } = await awaitingAction();
    const d = await rt.ledger.payments.sandbox.confirm(s, payment.id);
    const stale = rt.ledger.payments.sandbox.sign(d.body, Math.floor(Date.now() / 1000) - 600);
    for (const headers of [{ 'content-type': 'application/json' }, { ...d.headers, 'ledger-sandbox-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` }, stale]) {
      const res = await post('sandbox', d.body, headers);
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body).toMatchObject({ code: 'invalid', requestId: expect.any(String) });
      expect(body.error).toMatch(/nothing stored: .*(signature|from now)/);
    }
    await rt.ledger.webhooks.whenIdle();
    expect(await rt.ledger.webhooks.event('sandbox', idOf(d.body))).toBeNull();
    expect(await rt.ledger.invoices.get(s, invoice.id)).toMatchObject({ status: 'open' });
  });

  it('signed but malformed: 400 with a clear error, nothing stored; an unknown type: 200, stored, ignored', async () => {
    const body = JSON.stringify({ id: 'evt_route_malformed', type: 'payment_intent.succeeded' });
    const res = await post('sandbox', body, rt.ledger.payments.sandbox.sign(body));
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/payment_intent\.succeeded event needs data\.object/);
    expect(await rt.ledger.webhooks.event('sandbox', 'evt_route_malformed')).toBeNull();

    const unknown = JSON.stringify({ id: 'evt_route_unknown', type: 'customer.subscription.trial_will_end', data: { object: { id: 'sub_1' } } });
    const ok = await post('sandbox', unknown, rt.ledger.payments.sandbox.sign(unknown));
    expect(ok.status).toBe(200);
    await rt.ledger.webhooks.whenIdle();
    expect(await rt.ledger.webhooks.event('sandbox', 'evt_route_unknown')).toMatchObject({ outcome: 'ignored', scope: null });
  });

  it('a body over the cap: 413, nothing read; other methods: 405 with Allow', async () => {
    const big = 'x'.repeat(rt.env.LEDGER_MAX_BODY_BYTES + 1);
    const res = await post('sandbox', big, { 'content-type': 'application/json' });
    expect(res.status).toBe(413);
    const get = await route.GET(new Request('http://test/api/webhooks/sandbox'));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
  });
});

describe('POST /api/webhooks/<a provider not configured>', () => {
  it('stripe, paddle, or any other name: 404 saying the provider is not configured (never a pretend 200), nothing stored', async () => {
    for (const provider of ['stripe', 'paddle', 'Nope!']) {
      const res = await post(provider, '{"id":"evt_1"}', { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'not_found', error: expect.stringMatching(/is configured in this deployment|not configured/) });
    }
  });
});
