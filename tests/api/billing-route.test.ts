import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiKey } from '@/server/auth/api-keys';
import { illegalState, scope, type Subscription } from '@/server/ledger';
import { getRuntime, type Runtime } from '@/server/runtime';
import { useMemoryRuntimeEnv } from '../support/runtime';

/** POST /api/billing/run through the real route handler, on the app's runtime (PGlite), with real API keys. */
useMemoryRuntimeEnv();
const { POST } = await import('@/app/api/billing/run/route');

const S = scope('billing-route', 'app');
const OTHER = scope('billing-route-other', 'app');
const T0 = new Date('2025-01-15T10:00:00.000Z');
const PERIOD_END = new Date('2025-02-15T10:00:00.000Z');
const HOUR = 3_600_000;

let rt: Runtime;
let key: string;
let sub: Subscription;
let otherSub: Subscription;

const post = (auth: string | null = key, headers: Record<string, string> = {}) =>
  POST(new Request('http://test/api/billing/run', { method: 'POST', headers: { ...headers, ...(auth ? { authorization: `Bearer ${auth}` } : {}) } }));

/** A scope on a test clock at T0 with a monthly subscription (first period T0 – PERIOD_END). */
async function subscribed(s: typeof S): Promise<Subscription> {
  await rt.ledger.testClocks.create(s, { at: T0 });
  const plan = await rt.ledger.plans.create(s, { key: 'p', name: 'P', currency: 'USD', interval: { unit: 'month' }, basePrice: 1000 });
  const customer = await rt.ledger.customers.create(s, { email: 'c@example.com', name: 'C' });
  return rt.ledger.subscriptions.create(s, { customerId: customer.id, planId: plan.id });
}

beforeAll(async () => {
  rt = await getRuntime();
  key = (await createApiKey(rt.database.db, S, 'cron')).key;
  sub = await subscribed(S);
  otherSub = await subscribed(OTHER);
});
afterAll(() => rt.close());
afterEach(() => vi.restoreAllMocks());

describe('POST /api/billing/run', () => {
  it.each([
    ['no key', null, {}],
    ['a malformed key', 'hello', {}],
    ['an unknown key', 'ldg_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', {}],
    ['a session cookie instead of a key', null, { cookie: 'authjs.session-token=abc' }],
  ])('%s: 401 and nothing runs', async (_what, auth, headers) => {
    const run = vi.spyOn(rt.ledger.billing, 'run');
    const res = await post(auth, headers);
    expect(res.status).toBe(401);
    expect((await res.json()).error).toMatch(/API key/);
    expect(run).not.toHaveBeenCalled();
  });

  it('runs the cycle of the key’s scope only: a due subscription is renewed, 200 with the report', async () => {
    // Time passes (without running the cycle) in both scopes.
    const to = new Date(PERIOD_END.getTime() + 2 * HOUR);
    await rt.ledger.testClocks.move(S, to);
    await rt.ledger.testClocks.move(OTHER, to);

    const res = await post();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ periods: 1, invoicesCreated: 1, invoicesFinalized: 1 });
    const renewed = await rt.ledger.subscriptions.get(S, sub.id);
    expect(renewed.currentPeriodStart).toEqual(PERIOD_END);
    expect(renewed.currentPeriodEnd).toEqual(new Date('2025-03-15T10:00:00.000Z'));
    const invoices = (await rt.ledger.invoices.listByCustomer(S, sub.customerId)).items;
    expect(invoices.map((i) => [i.billingReason, i.status])).toEqual([
      ['subscription_create', 'open'],
      ['subscription_cycle', 'open'],
    ]);
    // The other scope's subscription is still due: the key decides the scope.
    expect((await rt.ledger.subscriptions.get(OTHER, otherSub.id)).currentPeriodStart).toEqual(T0);

    // Again: nothing left to do, nothing billed twice.
    const again = await post();
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ periods: 0, invoicesCreated: 0, invoicesFinalized: 0 });
    expect((await rt.ledger.invoices.listByCustomer(S, sub.customerId)).items).toHaveLength(2);
  });

  it('an engine error answers with its status and code; anything else is a 500', async () => {
    vi.spyOn(rt.ledger.billing, 'run').mockRejectedValueOnce(illegalState('the test clock moved meanwhile; retry'));
    const res = await post();
    expect(res.status).toBe(412);
    expect(await res.json()).toMatchObject({ error: 'the test clock moved meanwhile; retry', code: 'illegal_state' });

    vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.spyOn(rt.ledger.billing, 'run').mockRejectedValueOnce(new Error('connection reset'));
    const crashed = await post();
    expect(crashed.status).toBe(500);
    expect(JSON.stringify(await crashed.json())).not.toMatch(/connection reset/);
  });
});
