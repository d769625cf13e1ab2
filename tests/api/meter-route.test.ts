import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '@/server/auth/api-keys';
import { scope } from '@/server/ledger';
import { getRuntime, type Runtime } from '@/server/runtime';
import { useMemoryRuntimeEnv } from '../support/runtime';

/** POST /api/meter through the real route handler, on the app's runtime (PGlite). */
useMemoryRuntimeEnv();
const { POST } = await import('@/app/api/meter/route');

const S = scope('meter-route', 'app');
let rt: Runtime;
let key: string;
let customerId: string;

beforeAll(async () => {
  rt = await getRuntime();
  key = (await createApiKey(rt.database.db, S, 'test')).key;
  const plan = await rt.ledger.plans.create(S, {
    key: 'p',
    name: 'P',
    currency: 'USD',
    interval: { unit: 'month' },
    features: [{ key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum' }],
  });
  customerId = (await rt.ledger.customers.create(S, { email: 'c@example.com', name: 'C' })).id;
  await rt.ledger.subscriptions.create(S, { customerId, planId: plan.id });
});
afterAll(() => rt.close());

const post = (body: string, auth: string | null = key) =>
  POST(new Request('http://test/api/meter', { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) }, body }));

const ev = (k: string, extra: object = {}) => ({ idempotencyKey: k, customerId, featureKey: 'api_calls', quantity: 1, timestamp: new Date().toISOString(), ...extra });

const stored = () =>
  rt.ledger.store.usage.aggregate(S, {
    customerId: customerId as never,
    featureKey: 'api_calls',
    aggregation: 'sum',
    from: new Date(Date.now() - 40 * 86_400_000),
    to: new Date(Date.now() + 600_000),
  });

describe('POST /api/meter', () => {
  it('202 with per-event results once durable; a retry is all duplicates', async () => {
    const batch = JSON.stringify([ev('a'), ev('b', { quantity: '2.5' })]);
    const res = await post(batch);
    expect(res.status).toBe(202);
    const body = await res.json();
    expect(body).toMatchObject({ accepted: 2, duplicates: 0, rejected: 0, conflicts: 0 });
    expect(body.results[0]).toMatchObject({ idempotencyKey: 'a', status: 'accepted' });
    expect(body.results[0].id).toMatch(/^evt_/);
    expect(await stored()).toBe('3.5');
    const again = await (await post(batch)).json();
    expect(again).toMatchObject({ accepted: 0, duplicates: 2 });
    expect(await stored()).toBe('3.5');
  });

  it('accepts one event, an array, or {"events": [...]}', async () => {
    expect((await post(JSON.stringify(ev('one')))).status).toBe(202);
    expect((await post(JSON.stringify({ events: [ev('wrapped')] }))).status).toBe(202);
  });

  it('concurrent identical batches are stored once', async () => {
    const before = Number(await stored());
    const batch = JSON.stringify(Array.from({ length: 20 }, (_, i) => ev(`c${i}`)));
    const bodies = await Promise.all([post(batch), post(batch), post(batch)].map(async (r) => (await r).json()));
    expect(bodies.reduce((n, b) => n + b.accepted, 0)).toBe(20);
    expect(bodies.reduce((n, b) => n + b.duplicates, 0)).toBe(40);
    expect(Number(await stored())).toBe(before + 20);
  });

  it('a mixed batch is written in part, and the response says which', async () => {
    const before = await stored();
    const res = await post(JSON.stringify([ev('mixed-ok'), ev('mixed-bad', { customerId: 'cst_01h455vb4pex5vsknk084sn02q' })]));
    expect(res.status).toBe(202);
    const body = await res.json();
    expect(body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'rejected']);
    expect(body.results[1].reason).toMatch(/unknown customer/);
    expect(Number(await stored())).toBe(Number(before) + 1);
  });

  describe('bad input: a clear error each, and stored usage unchanged', () => {
    const cases: [string, () => Promise<Response>, number, RegExp][] = [
      ['no API key', () => post(JSON.stringify(ev('x')), null), 401, /API key/],
      ['a wrong API key', () => post(JSON.stringify(ev('x')), 'ldg_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 401, /API key/],
      ['a body that is not JSON', () => post('{"idempotencyKey": '), 400, /not valid JSON/],
      ['a missing field', () => post(JSON.stringify({ ...ev('x'), customerId: undefined })), 400, /events\[0\]\.customerId/],
      ['a negative quantity', () => post(JSON.stringify([ev('ok'), ev('x', { quantity: -3 })])), 400, /events\[1\]\.quantity/],
      ['a non-numeric quantity', () => post(JSON.stringify(ev('x', { quantity: 'ten' }))), 400, /events\[0\]\.quantity/],
      ['a malformed customer id', () => post(JSON.stringify(ev('x', { customerId: 'acme-42' }))), 400, /events\[0\]\.customerId/],
      ['a timestamp on February 30', () => post(JSON.stringify(ev('x', { timestamp: '2026-02-30T00:00:00Z' }))), 400, /events\[0\]\.timestamp/],
      ['51 properties', () => post(JSON.stringify(ev('x', { properties: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`p${i}`, i])) }))), 400, /events\[0\]\.properties/],
      ['a batch over 1,000', () => post(JSON.stringify(Array.from({ length: 1001 }, (_, i) => ev(`o${i}`)))), 413, /at most 1000/],
      ['an unknown customer', () => post(JSON.stringify(ev('x', { customerId: 'cst_01h455vb4pex5vsknk084sn02q' }))), 422, /unknown customer/],
      ['an unknown feature', () => post(JSON.stringify(ev('x', { featureKey: 'storage_gb' }))), 422, /storage_gb/],
      ['a timestamp out of the window', () => post(JSON.stringify(ev('x', { timestamp: '2020-01-01T00:00:00Z' }))), 422, /grace window/],
    ];
    it.each(cases)('%s', async (_name, send, status, message) => {
      const before = await stored();
      const res = await send();
      expect(res.status).toBe(status);
      expect(JSON.stringify(await res.json())).toMatch(message);
      expect(await stored()).toBe(before);
    });

    it('a 100 KB customer id is a 400 that quotes a short prefix, not the id', async () => {
      const res = await post(JSON.stringify(ev('x', { customerId: 'c'.repeat(100_000) })));
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).toMatch(/events\[0\]\.customerId/);
      expect(text.length).toBeLessThan(2_000);
    });
  });
});
