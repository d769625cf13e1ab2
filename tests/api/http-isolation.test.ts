import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '@/server/auth/api-keys';
import { getRuntime, type Runtime } from '@/server/runtime';
import { scope } from '@/server/ledger';
import { useMemoryRuntimeEnv } from '../support/runtime';

/**
 * Through the real route handler (/api/trpc), with real API keys: authentication, and
 * tenant B unable to read, list, update or cancel anything of tenant A.
 */
useMemoryRuntimeEnv();
const { GET, POST } = await import('@/app/api/trpc/[trpc]/route');

let rt: Runtime;
let keyA: string;
let keyB: string;
const A = scope('tenant-a', 'app');
const B = scope('tenant-b', 'app');

type Json = { result?: { data: { json: any } }; error?: { json: { message: string; data: { code: string; httpStatus: number } } } };

async function call(key: string | null, path: string, input: unknown, method: 'query' | 'mutation') {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const body = JSON.stringify({ json: input });
  const res =
    method === 'query'
      ? await GET(new Request(`http://test/api/trpc/${path}?input=${encodeURIComponent(body)}`, { headers }))
      : await POST(new Request(`http://test/api/trpc/${path}`, { method: 'POST', headers, body }));
  return { status: res.status, body: (await res.json()) as Json };
}

let planA: string;
let customerA: string;
let subA: string;

beforeAll(async () => {
  rt = await getRuntime();
  keyA = (await createApiKey(rt.database.db, A, 'a')).key;
  keyB = (await createApiKey(rt.database.db, B, 'b')).key;
  planA = (
    await call(keyA, 'plans.create', { key: 'basic', name: 'Basic', currency: 'EUR', interval: { unit: 'month' }, basePrice: 900 }, 'mutation')
  ).body.result!.data.json.id;
  customerA = (await call(keyA, 'customers.create', { email: 'a@example.com', name: 'A' }, 'mutation')).body.result!.data.json.id;
  subA = (await call(keyA, 'subscriptions.create', { customerId: customerA, planId: planA }, 'mutation')).body.result!.data.json.id;
});

afterAll(async () => {
  await rt.close();
});

describe('API keys', () => {
  it('a valid key reaches its own scope', async () => {
    const r = await call(keyA, 'plans.list', {}, 'query');
    expect(r.status).toBe(200);
    expect(r.body.result!.data.json.items.map((p: { key: string }) => p.key)).toEqual(['basic']);
  });

  it.each([
    ['no key', null],
    ['a malformed key', 'hello'],
    ['an unknown key', 'ldg_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
  ])('%s: 401 and nothing runs', async (_what, key) => {
    const r = await call(key, 'customers.create', { email: 'intruder@example.com', name: 'I' }, 'mutation');
    expect(r.status).toBe(401);
    const all = [
      ...(await rt.ledger.customers.list(A, { limit: 100 })).items,
      ...(await rt.ledger.customers.list(B, { limit: 100 })).items,
    ];
    expect(all.some((c) => c.email === 'intruder@example.com')).toBe(false);
  });

  it('a key with the right prefix but a wrong secret is refused', async () => {
    const forged = keyA.slice(0, 17) + 'x'.repeat(32);
    expect((await call(forged, 'plans.list', {}, 'query')).status).toBe(401);
  });

  it('the scope comes from the key, not from the body', async () => {
    const r = await call(keyB, 'customers.create', { email: 'b@example.com', name: 'B', tenantId: 'tenant-a' }, 'mutation');
    expect(r.status).toBe(200);
    expect((await rt.ledger.customers.list(A, { limit: 100 })).items.map((c) => c.email)).toEqual(['a@example.com']);
  });
});

describe('tenant isolation over HTTP', () => {
  it('B cannot read A’s plan, customer or subscription', async () => {
    for (const [path, id] of [
      ['plans.get', planA],
      ['customers.get', customerA],
      ['subscriptions.get', subA],
    ] as const) {
      const r = await call(keyB, path, { id }, 'query');
      expect(r.status).toBe(404);
    }
    expect((await call(keyB, 'subscriptions.listByCustomer', { customerId: customerA }, 'query')).status).toBe(404);
    expect((await call(keyB, 'entitlements.check', { customerId: customerA, featureKey: 'x' }, 'query')).status).toBe(404);
    expect((await call(keyB, 'usage.summary', { customerId: customerA }, 'query')).status).toBe(404);
  });

  it('B’s lists do not contain A’s rows', async () => {
    expect((await call(keyB, 'plans.list', {}, 'query')).body.result!.data.json.items).toEqual([]);
    const customers = (await call(keyB, 'customers.list', {}, 'query')).body.result!.data.json.items;
    expect(customers.map((c: { id: string }) => c.id)).not.toContain(customerA);
  });

  it('B cannot update A’s customer or plan, nor cancel A’s subscription', async () => {
    expect((await call(keyB, 'customers.update', { id: customerA, patch: { name: 'Hacked' } }, 'mutation')).status).toBe(404);
    expect((await call(keyB, 'plans.update', { id: planA, patch: { basePrice: 1 } }, 'mutation')).status).toBe(404);
    expect((await call(keyB, 'plans.archive', { id: planA }, 'mutation')).status).toBe(404);
    expect((await call(keyB, 'subscriptions.cancel', { id: subA, at: 'now' }, 'mutation')).status).toBe(404);
    // and A's data is untouched
    expect((await rt.ledger.customers.get(A, customerA)).name).toBe('A');
    expect((await rt.ledger.plans.get(A, planA)).basePrice).toBe(900);
    expect((await rt.ledger.plans.get(A, planA)).status).toBe('active');
    expect((await rt.ledger.subscriptions.get(A, subA)).status).toBe('active');
  });
});

describe('bad input over HTTP', () => {
  it('a malformed id is a 400 naming the field, a negative price a 400, and nothing changes', async () => {
    const r1 = await call(keyA, 'plans.get', { id: 'pln_nope' }, 'query');
    expect(r1.status).toBe(400);
    expect(r1.body.error!.json.message).toMatch(/id/);
    const r2 = await call(keyA, 'plans.create', { key: 'neg', name: 'N', currency: 'USD', interval: { unit: 'month' }, basePrice: -5 }, 'mutation');
    expect(r2.status).toBe(400);
    expect(r2.body.error!.json.message).toMatch(/basePrice/);
    expect((await rt.ledger.plans.list(A, {})).items.map((p) => p.key)).toEqual(['basic']);
  });
});
