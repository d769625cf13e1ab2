import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiKey } from '@/server/auth/api-keys';
import { addInterval, illegalState, scope, type Subscription } from '@/server/ledger';
import { getRuntime, type Runtime } from '@/server/runtime';
import { useMemoryRuntimeEnv } from '../support/runtime';

/** POST /api/billing/run through the real route handler, on the app's runtime (PGlite), with real API keys. */
useMemoryRuntimeEnv();
const { POST } = await import('@/app/api/billing/run/route');

const S = scope('billing-route', 'app');
const OTHER = scope('billing-route-other', 'app');
/** 40 days ago: a monthly period from then ended about 10 days ago, and the next has not. */
const T0 = new Date(Math.floor(Date.now() / 1000) * 1000 - 40 * 86_400_000);
const PERIOD_END = addInterval(T0, { unit: 'month', count: 1 }, 1);

let rt: Runtime;
let key: string;
let sub: Subscription;
let otherSub: Subscription;

const post = (auth: string | null = key, headers: Record<string, string> = {}) =>
  POST(new Request('http://test/api/billing/run', { method: 'POST', headers: { ...headers, ...(auth ? { authorization: `Bearer ${auth}` } : {}) } }));

/**
 * A scope with a monthly subscription whose current period is T0 – PERIOD_END (made now,
 * then backdated in the store): its period has ended, and its cycle has not run.
 */
async function subscribed(s: typeof S): Promise<Subscription> {
  const plan = await rt.ledger.plans.create(s, { key: 'p', name: 'P', currency: 'USD', interval: { unit: 'month' }, basePrice: 1000 });
  const customer = await rt.ledger.customers.create(s, { email: 'c@example.com', name: 'C' });
  const made = await rt.ledger.subscriptions.create(s, { customerId: customer.id, planId: plan.id });
  const backdated = { ...made, billingAnchor: T0, currentPeriodStart: T0, currentPeriodEnd: PERIOD_END, unbilledFrom: T0, version: made.version + 1 };
  expect(await rt.ledger.store.subscriptions.update(s, backdated, made.version)).toBe(true);
  return backdated;
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
    // Both scopes have a subscription whose period ended (and no cycle ran).
    const res = await post();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ periods: 1, invoicesCreated: 1, invoicesFinalized: 1 });
    const renewed = await rt.ledger.subscriptions.get(S, sub.id);
    expect(renewed.currentPeriodStart).toEqual(PERIOD_END);
    expect(renewed.currentPeriodEnd).toEqual(addInterval(T0, { unit: 'month', count: 1 }, 2));
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
