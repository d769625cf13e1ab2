import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiKey } from '@/server/auth/api-keys';
import { postBillingRun } from '@/server/http/billing-run-handler';
import { postMeter } from '@/server/http/meter-handler';
import { closeRateLimiter } from '@/server/http/rate-limit';
import { apiRoute } from '@/server/http/route';
import { handleTrpc } from '@/server/http/trpc-handler';
import { scope } from '@/server/ledger';
import type { Runtime } from '@/server/runtime';
import { createTestRuntime } from '../support/runtime';

/**
 * The HTTP boundary on the real handlers (PGlite): request ids, bodies refused by size
 * and type, batch caps, errors without internals, 503 while the database is unavailable,
 * 404 and 405. Small limits so the tests stay small: a 4 KiB body cap, 3 calls a batch.
 */
const LIMITS = { LEDGER_MAX_BODY_BYTES: '4096', LEDGER_TRPC_MAX_BATCH: '3' };
const S = scope('boundary', 'app');

let rt: Runtime;
let key: string;
let customerId: string;

const meter = (r: () => Runtime = () => rt) => apiRoute('test meter', (req: Request) => postMeter(r(), req));
const billing = (r: () => Runtime = () => rt) => apiRoute('test billing', (req: Request) => postBillingRun(r(), req));
const trpc = (r: () => Runtime = () => rt) => apiRoute('test trpc', (req: Request) => handleTrpc(r(), req));

const json = { 'content-type': 'application/json' };
const auth = (k = key) => ({ authorization: `Bearer ${k}` });
const ev = (k: string) => ({ idempotencyKey: k, customerId, featureKey: 'api_calls', quantity: 1, timestamp: new Date().toISOString() });

const postMeterBody = (body: BodyInit, headers: Record<string, string> = { ...json, ...auth() }, r?: () => Runtime) =>
  meter(r)(new Request('http://test/api/meter', { method: 'POST', headers, body, duplex: 'half' } as RequestInit));

const trpcPost = (path: string, body: BodyInit, headers: Record<string, string> = { ...json, ...auth() }, r?: () => Runtime) =>
  trpc(r)(new Request(`http://test/api/trpc/${path}`, { method: 'POST', headers, body, duplex: 'half' } as RequestInit));
const trpcGet = (path: string, input: unknown, headers: Record<string, string> = auth(), r?: () => Runtime) =>
  trpc(r)(new Request(`http://test/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`, { headers }));

/** A body of `total` bytes that counts what was pulled from it, sent without a content-length. */
function countingBody(total: number) {
  const pulled = { bytes: 0 };
  const chunk = new TextEncoder().encode(' '.repeat(1024));
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (pulled.bytes >= total) return c.close();
      pulled.bytes += chunk.byteLength;
      c.enqueue(chunk);
    },
  });
  return { stream, pulled };
}

const storedCount = async () =>
  Number(
    await rt.ledger.store.usage.aggregate(S, {
      customerId: customerId as never,
      featureKey: 'api_calls',
      aggregation: 'count',
      from: new Date(Date.now() - 86_400_000),
      to: new Date(Date.now() + 600_000),
    }),
  );

beforeAll(async () => {
  rt = await createTestRuntime(LIMITS);
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
afterAll(async () => {
  await closeRateLimiter(rt.env);
  await rt.close();
});
afterEach(() => vi.restoreAllMocks());

describe('request ids', () => {
  it('a new id on every answer, in the header and in error bodies', async () => {
    const ok = await postMeterBody(JSON.stringify(ev('rid-1')));
    expect(ok.status).toBe(202);
    expect(ok.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    const bad = await postMeterBody('{', { ...json, ...auth() });
    expect(bad.status).toBe(400);
    const id = bad.headers.get('x-request-id');
    expect(id).not.toBe(ok.headers.get('x-request-id'));
    expect(await bad.json()).toMatchObject({ code: 'invalid', requestId: id });
  });

  it('a sane incoming x-request-id is kept; anything else is replaced', async () => {
    const kept = await postMeterBody('{', { ...json, ...auth(), 'x-request-id': 'lb-7f3a:91.2' });
    expect(kept.headers.get('x-request-id')).toBe('lb-7f3a:91.2');
    for (const insane of ['a b', 'x'.repeat(129), '<script>']) {
      const res = await postMeterBody('{', { ...json, ...auth(), 'x-request-id': insane });
      expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    }
  });
});

describe('POST /api/meter: bodies', () => {
  it('415 for a body that is not JSON, whatever it holds; nothing is written', async () => {
    const before = await storedCount();
    const types: Record<string, string>[] = [{ 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, {}];
    for (const headers of types) {
      const res = await postMeterBody(JSON.stringify(ev('ct')), { ...headers, ...auth() });
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({ code: 'unsupported_media_type' });
    }
    // Parameters of the media type are fine.
    expect((await postMeterBody(JSON.stringify(ev('ct-ok')), { 'content-type': 'Application/JSON; charset=utf-8', ...auth() })).status).toBe(202);
    expect(await storedCount()).toBe(before + 1);
  });

  it('413 from content-length before a byte is read', async () => {
    const { stream, pulled } = countingBody(64 * 1024);
    const res = await postMeterBody(stream, { ...json, ...auth(), 'content-length': String(64 * 1024) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'payload_too_large', error: expect.stringMatching(/4096 bytes/) });
    expect(pulled.bytes).toBeLessThanOrEqual(2048); // at most what the stream buffers ahead
  });

  it('413 while streaming, once the cap is passed: the rest is never read', async () => {
    const { stream, pulled } = countingBody(10 * 1024 * 1024);
    const res = await postMeterBody(stream);
    expect(res.status).toBe(413);
    expect(pulled.bytes).toBeLessThan(16 * 1024);
  });

  it('a body just under the cap is read', async () => {
    const events = Array.from({ length: 20 }, (_, i) => ev(`cap-${i}`));
    const body = JSON.stringify(events);
    expect(body.length).toBeLessThan(4096);
    expect((await postMeterBody(body)).status).toBe(202);
  });

  it('401 is JSON with a code', async () => {
    const res = await postMeterBody(JSON.stringify(ev('x')), json);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await res.json()).toMatchObject({ code: 'unauthorized', requestId: expect.stringMatching(/^req_/) });
  });
});

describe('tRPC: limits and errors', () => {
  it('validation errors say ledgerCode invalid and name the field', async () => {
    const res = await trpcPost('customers.create', JSON.stringify({ json: { email: 'nope', name: 'N' } }));
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.json.data).toMatchObject({ code: 'BAD_REQUEST', ledgerCode: 'invalid', requestId: res.headers.get('x-request-id') });
    expect(body.error.json.data.issues[0].path).toBe('email');
    expect(body.error.json.data.stack).toBeUndefined();
  });

  it('a batch of more calls than the cap is refused before anything runs', async () => {
    const list = vi.spyOn(rt.ledger.customers, 'list');
    const input = encodeURIComponent(JSON.stringify({ 0: { json: {} }, 1: { json: {} }, 2: { json: {} }, 3: { json: {} } }));
    const four = await trpc()(new Request(`http://test/api/trpc/customers.list,customers.list,customers.list,customers.list?batch=1&input=${input}`, { headers: auth() }));
    expect(four.status).toBe(400);
    expect(JSON.stringify(await four.json())).toMatch(/Batch call exceeds maximum size/);
    expect(list).not.toHaveBeenCalled();
    const three = await trpc()(new Request(`http://test/api/trpc/customers.list,customers.list,customers.list?batch=1&input=${input}`, { headers: auth() }));
    expect(three.status).toBe(200);
    expect(list).toHaveBeenCalledTimes(3);
  });

  it('POST bodies: 415 when not JSON, 413 from content-length and while streaming', async () => {
    const create = vi.spyOn(rt.ledger.customers, 'create');
    const notJson = await trpcPost('customers.create', JSON.stringify({ json: { email: 'a@example.com', name: 'A' } }), { 'content-type': 'text/plain', ...auth() });
    expect(notJson.status).toBe(415);
    const declared = await trpcPost('customers.create', '{}', { ...json, ...auth(), 'content-length': '100000' });
    expect(declared.status).toBe(413);
    const { stream, pulled } = countingBody(10 * 1024 * 1024);
    const streamed = await trpcPost('customers.create', stream);
    expect(streamed.status).toBe(413);
    expect((await streamed.json()).error.json.data.code).toBe('PAYLOAD_TOO_LARGE');
    expect(pulled.bytes).toBeLessThan(16 * 1024);
    expect(create).not.toHaveBeenCalled();
  });

  it('an unexpected error: 500 with a generic message and the request id; the query and its values only in the log', async () => {
    const leak = Object.assign(new Error('Failed query: select * from customers where tenant_id = $1\nparams: boundary,hunter2'), { code: '42P01' });
    vi.spyOn(rt.ledger.customers, 'get').mockRejectedValueOnce(leak);
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await trpcGet('customers.get', { id: customerId }, { ...auth(), 'x-request-id': 'trace-500' });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toMatch(/select|hunter2|Failed query|at .*\.ts/);
    const body = JSON.parse(text);
    expect(body.error.json.message).toMatch(/internal error/);
    expect(body.error.json.data).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', ledgerCode: 'internal', requestId: 'trace-500' });
    expect(logged).toHaveBeenCalledWith(expect.stringContaining('trace-500'), leak);
  });

  it('the same for routes outside tRPC', async () => {
    vi.spyOn(rt.ledger.billing, 'run').mockRejectedValueOnce(new Error('Failed query: update invoices set … params: secret'));
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await billing()(new Request('http://test/api/billing/run', { method: 'POST', headers: auth() }));
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(JSON.stringify(body)).not.toMatch(/Failed query|secret/);
    expect(body).toEqual({ error: expect.stringMatching(/internal error/), code: 'internal', requestId: res.headers.get('x-request-id') });
    expect(logged).toHaveBeenCalledWith(expect.stringContaining(res.headers.get('x-request-id')!), expect.any(Error));
  });
});

describe('the database unavailable: 503, JSON, retry-after, for every route', () => {
  // drizzle's wrapping error, with the driver's connection error as its cause.
  const refused = () =>
    Object.assign(new Error('Failed query: insert into usage_events … params: secret'), {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    });

  it('an engine call failing with a connection error', async () => {
    vi.spyOn(rt.ledger.billing, 'run').mockRejectedValueOnce(refused());
    const b = await billing()(new Request('http://test/api/billing/run', { method: 'POST', headers: auth() }));
    expect(b.status).toBe(503);
    expect(b.headers.get('retry-after')).toBe('1');
    expect(await b.json()).toMatchObject({ code: 'unavailable' });

    vi.spyOn(rt.ledger.customers, 'get').mockRejectedValueOnce(refused());
    const t = await trpcGet('customers.get', { id: customerId });
    expect(t.status).toBe(503);
    expect(t.headers.get('retry-after')).toBe('1');
    const body = await t.text();
    expect(body).not.toMatch(/ECONNREFUSED|Failed query|secret/);
    expect(JSON.parse(body).error.json.data).toMatchObject({ code: 'SERVICE_UNAVAILABLE', ledgerCode: 'unavailable' });

    vi.spyOn(rt.ledger.meter, 'meterDurable').mockRejectedValueOnce(refused());
    const m = await postMeterBody(JSON.stringify(ev('down')));
    expect(m.status).toBe(503);
    expect(m.headers.get('retry-after')).toBe('1');
    expect(JSON.stringify(await m.json())).not.toMatch(/ECONNREFUSED|secret/);
  });

  it('the key lookup itself failing (a closed database, with an uncached key)', async () => {
    const closed = await createTestRuntime(LIMITS);
    const k = (await createApiKey(closed.database.db, S, 'gone')).key;
    await closed.database.close();
    const r = () => closed;
    const m = await postMeterBody(JSON.stringify(ev('x')), { ...json, ...auth(k) }, r);
    const b = await billing(r)(new Request('http://test/api/billing/run', { method: 'POST', headers: auth(k) }));
    const t = await trpcGet('plans.list', {}, auth(k), r);
    for (const res of [m, b, t]) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    }
    await closeRateLimiter(closed.env);
  });
});

describe('unknown routes and wrong methods', () => {
  it('an unknown /api path: a JSON 404 whatever the method', async () => {
    const { GET, POST, DELETE } = await import('@/app/api/[...path]/route');
    for (const handler of [GET, POST, DELETE]) {
      const res = await handler(new Request('http://test/api/nope/deeper', { method: handler === GET ? 'GET' : handler === POST ? 'POST' : 'DELETE' }));
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'not_found', error: expect.stringContaining('/api/nope/deeper') });
    }
  });

  it.each([
    ['/api/meter', () => import('@/app/api/meter/route'), ['GET', 'PUT', 'PATCH', 'DELETE'], 'POST, OPTIONS'],
    ['/api/billing/run', () => import('@/app/api/billing/run/route'), ['GET', 'PUT', 'DELETE'], 'POST, OPTIONS'],
    ['/api/health', () => import('@/app/api/health/route'), ['POST', 'PUT', 'DELETE'], 'GET, HEAD, OPTIONS'],
    ['/api/live', () => import('@/app/api/live/route'), ['POST', 'DELETE'], 'GET, HEAD, OPTIONS'],
    ['/api/trpc/plans.list', () => import('@/app/api/trpc/[trpc]/route'), ['PUT', 'PATCH', 'DELETE'], 'GET, POST, HEAD, OPTIONS'],
  ] as const)('%s: 405 with Allow, and OPTIONS says the same', async (path, load, methods, allow) => {
    const mod = (await load()) as unknown as Record<string, (req: Request) => Promise<Response>>;
    for (const method of methods) {
      const res = await mod[method]!(new Request(`http://test${path}`, { method }));
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(await res.json()).toMatchObject({ code: 'method_not_allowed' });
    }
    const options = await mod.OPTIONS!(new Request(`http://test${path}`, { method: 'OPTIONS' }));
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe(allow);
  });
});
