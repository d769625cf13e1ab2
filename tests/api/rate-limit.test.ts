import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '@/server/auth/api-keys';
import { postMeter } from '@/server/http/meter-handler';
import { closeRateLimiter, createApiRateLimiter, isRateLimited, type ApiRateLimiter } from '@/server/http/rate-limit';
import { apiRoute } from '@/server/http/route';
import { handleTrpc } from '@/server/http/trpc-handler';
import { scope } from '@/server/ledger';
import type { Runtime } from '@/server/runtime';
import { eventually, ownRedisServer, testRedisUrl } from '../support/redis';
import { createTestRuntime } from '../support/runtime';

/** The rate limit per API key: on the real handlers (in memory), and shared through Redis. */
const S = scope('rate-limit', 'app');

async function outcome(p: Promise<void>): Promise<'ok' | number> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (isRateLimited(e)) return e.retryAfterS;
    throw e;
  }
}

describe('on the handlers: 3 requests a minute per key', () => {
  let rt: Runtime;
  let keyA: string;
  let keyB: string;
  const meter = apiRoute('t', (req: Request) => postMeter(rt, req));
  const trpc = apiRoute('t', (req: Request) => handleTrpc(rt, req));
  const post = (key: string) =>
    meter(new Request('http://test/api/meter', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: '[]' }));
  const batch = (key: string, calls: number) => {
    const input = encodeURIComponent(JSON.stringify(Object.fromEntries(Array.from({ length: calls }, (_, i) => [i, { json: {} }]))));
    const paths = Array.from({ length: calls }, () => 'plans.list').join(',');
    return trpc(new Request(`http://test/api/trpc/${paths}?batch=1&input=${input}`, { headers: { authorization: `Bearer ${key}` } }));
  };

  beforeAll(async () => {
    rt = await createTestRuntime({ LEDGER_RATE_LIMIT_PER_KEY: '3', LEDGER_RATE_LIMIT_WINDOW_S: '60' });
    keyA = (await createApiKey(rt.database.db, S, 'a')).key;
    keyB = (await createApiKey(rt.database.db, S, 'b')).key;
  });
  afterAll(async () => {
    await closeRateLimiter(rt.env);
    await rt.close();
  });

  it('the fourth request of a key is a 429 with retry-after; another key is counted apart', async () => {
    for (let i = 0; i < 3; i++) expect((await post(keyA)).status).toBe(400); // an empty batch: past the limit, refused as input
    const refused = await post(keyA);
    expect(refused.status).toBe(429);
    const wait = Number(refused.headers.get('retry-after'));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(60);
    expect(await refused.json()).toMatchObject({ code: 'rate_limited', requestId: refused.headers.get('x-request-id') });
    expect((await post(keyB)).status).toBe(400);
  });

  it('a tRPC batch counts one per call', async () => {
    const key = (await createApiKey(rt.database.db, S, 'c')).key;
    expect((await batch(key, 2)).status).toBe(200);
    const over = await batch(key, 2);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = await over.json();
    expect(body[0].error.json.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', ledgerCode: 'rate_limited' });
  });

  it('no key, no count: refused 401 however often', async () => {
    for (let i = 0; i < 5; i++) expect((await post('ldg_live_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status).toBe(401);
  });
});

const redisUrl = await testRedisUrl();

describe.skipIf(!redisUrl)('through Redis', () => {
  it('two instances share the count', async () => {
    // A slow answer (a busy machine) would be counted in memory instead: this test is
    // about the shared count, so commands get the time they need.
    const slow = { redisCommandTimeoutMs: 10_000 };
    const a = createApiRateLimiter({ points: 5, windowS: 60, redisUrl: redisUrl!, ...slow });
    const b = createApiRateLimiter({ points: 5, windowS: 60, redisUrl: redisUrl!, ...slow });
    try {
      const id = `key_${randomUUID()}`;
      // Until connected, the insurance limiter counts (no offline queue): wait for Redis.
      await waitReady(a, b);
      for (let i = 0; i < 3; i++) expect(await outcome(a.consume(id))).toBe('ok');
      for (let i = 0; i < 2; i++) expect(await outcome(b.consume(id))).toBe('ok');
      expect(await outcome(a.consume(id))).toBeGreaterThanOrEqual(1);
      expect(await outcome(b.consume(id))).toBeGreaterThanOrEqual(1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('Redis down: counted in memory, requests neither fail nor wait; Redis back: counted there again', async () => {
    const server = await ownRedisServer();
    const limiter = createApiRateLimiter({ points: 5, windowS: 60, redisUrl: server.url });
    const probe = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    try {
      await waitReady(limiter);
      const id = `key_${randomUUID()}`;
      expect(await outcome(limiter.consume(id))).toBe('ok');
      await server.stop();

      // Down: each answer comes at once, and the limit still holds (in memory).
      const t0 = performance.now();
      const results = [];
      for (let i = 0; i < 6; i++) results.push(await outcome(limiter.consume(id)));
      expect(performance.now() - t0).toBeLessThan(5_000);
      expect(results.slice(0, 5)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
      expect(results[5]).toBeGreaterThanOrEqual(1);

      // Back: a new key's count lands in Redis.
      await server.start();
      await probe.connect();
      const again = `key_${randomUUID()}`;
      const stored = await eventually(
        async () => {
          await outcome(limiter.consume(again));
          return probe.get(`ledger:ratelimit:key:${again}`);
        },
        (v) => v !== null,
      );
      expect(Number(stored)).toBeGreaterThanOrEqual(1);
    } finally {
      probe.disconnect();
      await limiter.close();
      await server.stop();
    }
  });
});

/** Until every limiter's Redis connection is ready (consumes before that go to the insurance limiter). */
async function waitReady(...limiters: ApiRateLimiter[]): Promise<void> {
  for (const l of limiters) {
    const ready = await eventually(async () => l.redisStatus?.() === 'ready', (x) => x);
    expect(ready).toBe(true);
  }
}
