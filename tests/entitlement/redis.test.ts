import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '@/db/client';
import { createLedger, createPostgresStore, type Ledger, type Scope, type Store } from '@/server/ledger';
import { capturingLogger } from '../support/engine';
import { eventually, ownRedisServer, testRedisUrl } from '../support/redis';
import { uniqueScope } from '../support/stores';

/**
 * Entitlements across instances with Redis: two engines on one database and one Redis
 * see each other's usage (shared counters) and subscription changes (pub/sub), counters
 * stay exact under concurrent writers, and a Redis outage degrades to the store and
 * recovers. PostgreSQL at TEST_DATABASE_URL when set, else PGlite; Redis at
 * TEST_REDIS_URL (CI) or the local default.
 */
const redisUrl = await testRedisUrl();

/**
 * A command waits at most 500 ms in production before checks fall back to the store. On a
 * busy 2-core machine a healthy Redis can take longer than that to answer (a script's
 * first load), which would turn these tests about counters into tests of the fallback:
 * they give commands the time they need. Outages still show at once (a refused
 * connection, not a slow one).
 */
const COMMAND_TIMEOUT_MS = 10_000;

describe.skipIf(!redisUrl)('entitlements with Redis', () => {
  let database: DatabaseHandle;
  let store: Store;
  const engines: Ledger[] = [];

  beforeAll(async () => {
    database = await openDatabase(process.env.TEST_DATABASE_URL ? { url: process.env.TEST_DATABASE_URL } : { dataDir: 'memory://' });
    store = createPostgresStore(database.db);
  });
  afterAll(async () => {
    for (const e of engines) await e.shutdown();
    await database.close();
  });

  /** An instance: its own engine and caches, on the shared store and Redis. */
  async function instance(channel: string, url = redisUrl!, logger = capturingLogger()) {
    const ledger = await createLedger({
      store,
      logger,
      meter: { flushIntervalMs: 60_000 },
      entitlements: { redis: { url, channel, refreshMs: 100, commandTimeoutMs: COMMAND_TIMEOUT_MS } },
    });
    engines.push(ledger);
    await ledger.entitlements.whenReady();
    return { ledger, logger };
  }

  async function world(url = redisUrl!) {
    const channel = `ledger:test:${randomBytes(4).toString('hex')}`;
    const a = await instance(channel, url);
    const b = await instance(channel, url);
    const scope = uniqueScope();
    const plan = await a.ledger.plans.create(scope, {
      key: 'p',
      name: 'P',
      currency: 'USD',
      interval: { unit: 'month' },
      features: [
        { key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', limit: 1_000 },
        { key: 'users', name: 'Users', kind: 'metered', aggregation: 'unique_count', uniqueProperty: 'user', limit: 3 },
        { key: 'exports', name: 'Exports', kind: 'boolean' },
      ],
    });
    const customer = await a.ledger.customers.create(scope, { email: 'r@example.com', name: 'R' });
    const sub = await a.ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    return { a: a.ledger, b: b.ledger, aLog: a.logger, scope, customerId: customer.id, sub };
  }

  const ev = (customerId: string, key: string, quantity: number, extra: object = {}) => ({
    idempotencyKey: key,
    customerId,
    featureKey: 'api_calls',
    quantity,
    timestamp: new Date().toISOString(),
    ...extra,
  });
  const used = (l: Ledger, s: Scope, c: string, f = 'api_calls') => l.entitled(s, c, f).then((r) => r.used);

  it("two instances see each other's usage through the shared counters", async () => {
    const { a, b, scope, customerId } = await world();
    expect(await used(a, scope, customerId)).toBe(0);
    expect(await used(b, scope, customerId)).toBe(0);
    await a.meter.meterDurable(scope, [ev(customerId, 'a1', 5)]);
    expect(await used(a, scope, customerId)).toBe(5); // its own usage: at once
    expect(await eventually(() => used(b, scope, customerId), (v) => v === 5)).toBe(5);
    await b.meter.meterDurable(scope, [ev(customerId, 'b1', 3)]);
    expect(await eventually(() => used(a, scope, customerId), (v) => v === 8)).toBe(8);
    expect(await used(b, scope, customerId)).toBe(8);
  });

  it('unique counts, which counters cannot add, are recomputed after a commit elsewhere', async () => {
    const { a, b, scope, customerId } = await world();
    expect(await used(b, scope, customerId, 'users')).toBe(0);
    await a.meter.meterDurable(scope, ['u1', 'u2', 'u1'].map((u, i) => ev(customerId, `u${i}`, 1, { featureKey: 'users', properties: { user: u } })));
    expect(await eventually(() => used(b, scope, customerId, 'users'), (v) => v === 2)).toBe(2);
  });

  it('a cancellation on one instance is seen by the other (pub/sub invalidation)', async () => {
    const { a, b, scope, customerId, sub } = await world();
    expect((await b.entitled(scope, customerId, 'exports')).allowed).toBe(true);
    const t0 = Date.now();
    await a.subscriptions.cancel(scope, sub.id, { at: 'now' });
    const r = await eventually(() => b.entitled(scope, customerId, 'exports'), (x) => !x.allowed);
    expect(r.reason).toBe('no_subscription');
    console.info(`[redis] invalidation seen by the other instance after ${Date.now() - t0} ms`);
  });

  it('concurrent writers on both instances: the counter and both answers end exact', async () => {
    const { a, b, scope, customerId } = await world();
    await Promise.all([used(a, scope, customerId), used(b, scope, customerId)]);
    const writes: Promise<unknown>[] = [];
    let expected = 0;
    for (let i = 0; i < 20; i++) {
      const q = (i % 4) + 1;
      expected += 2 * q;
      writes.push(a.meter.meterDurable(scope, [ev(customerId, `ca${i}`, q)]));
      writes.push(b.meter.meterDurable(scope, [ev(customerId, `cb${i}`, q)]));
      // readers racing the writers: fills and refreshes meet writes in flight
      writes.push(a.entitlements.invalidate(scope, customerId).then(() => used(b, scope, customerId)));
    }
    await Promise.all(writes);
    expect(await eventually(() => used(a, scope, customerId), (v) => v === expected)).toBe(expected);
    expect(await eventually(() => used(b, scope, customerId), (v) => v === expected)).toBe(expected);
    // what the store says, the counter says
    const fromStore = await store.usage.aggregate(scope, {
      customerId: customerId as never,
      featureKey: 'api_calls',
      aggregation: 'sum',
      from: new Date(Date.now() - 40 * 86_400_000),
      to: new Date(Date.now() + 60_000),
    });
    expect(Number(fromStore)).toBe(expected);
  });

  it('Redis down: checks answer from the store with one warning; back up: counters and invalidations resume', async () => {
    const server = await ownRedisServer();
    try {
      const { a, b, aLog, scope, customerId, sub } = await world(server.url);
      expect(await used(a, scope, customerId)).toBe(0);
      await server.stop();
      // usage committed while Redis is down still reaches the other instance (from the store)
      await b.meter.meterDurable(scope, [ev(customerId, 'down1', 4)]);
      expect(await eventually(() => used(a, scope, customerId), (v) => v === 4)).toBe(4);
      expect((await a.entitled(scope, customerId, 'exports')).allowed).toBe(true);
      expect(aLog.entries.filter((e) => e.level === 'warn' && /Redis is unavailable/.test(e.msg))).toHaveLength(1);
      expect(a.entitlements.redisHealthy).toBe(false);

      await server.start();
      expect(await eventually(async () => a.entitlements.redisHealthy && (await a.entitlements.whenReady(100)), Boolean)).toBe(true);
      await eventually(async () => b.entitlements.redisHealthy && (await b.entitlements.whenReady(100)), Boolean);
      expect(aLog.entries.some((e) => e.level === 'info' && /Redis is available again/.test(e.msg))).toBe(true);
      await b.meter.meterDurable(scope, [ev(customerId, 'up1', 6)]);
      expect(await eventually(() => used(a, scope, customerId), (v) => v === 10)).toBe(10);
      await b.subscriptions.cancel(scope, sub.id, { at: 'now' });
      expect((await eventually(() => a.entitled(scope, customerId, 'exports'), (x) => !x.allowed)).reason).toBe('no_subscription');
    } finally {
      await server.stop();
    }
  });

  /** The counter client alone (no engine), and a raw client to expire keys with. */
  async function counters() {
    const { RedisEntitlements } = await import('@/server/ledger/entitlement/redis');
    const r = new RedisEntitlements({ url: redisUrl!, channel: `ledger:test:${randomBytes(4).toString('hex')}`, commandTimeoutMs: COMMAND_TIMEOUT_MS }, capturingLogger(), { onInvalidate() {}, onResync() {} });
    await r.whenReady();
    return { r, raw: new Redis(redisUrl!) };
  }

  it("a writer whose in-flight mark vanished (the key expired, Redis restarted) clears the counter rather than adding twice", async () => {
    const { r, raw } = await counters();
    const key = `ledger:usage:t-mark:app:cst_x:calls:sum:${Date.now()}`;
    try {
      const token = await r.beginWrites([key]);
      expect(token).toEqual(expect.any(String));
      await raw.del(key); // the mark is gone; the batch commits in the database meanwhile
      const read = (await r.readCounter(key))!;
      expect(await r.initCounter(key, read, '15')).toBe(true); // a reader seeds it from the store: the batch is in it
      await r.applyToCounter(key, { op: 'add', value: '5' }, token);
      expect((await r.readCounter(key))!.value).toBeNull(); // cleared: the next reader recomputes, never 20
      // with the mark in place, the same add counts once
      await raw.del(key);
      await r.applyToCounter(key, { op: 'add', value: '5' }, await r.beginWrites([key]));
      const again = (await r.readCounter(key))!;
      expect(await r.initCounter(key, again, '5')).toBe(true);
      expect((await r.readCounter(key))!.value).toBe('5');
    } finally {
      raw.disconnect();
      await r.close();
    }
  });

  it("a writer whose mark vanished never clears another writer's mark: no reader seeds the counter while that write is in flight", async () => {
    const { r, raw } = await counters();
    const key = `ledger:usage:t-mark:app:cst_y:calls:sum:${Date.now()}`;
    const seedable = async () => r.initCounter(key, (await r.readCounter(key))!, '1');
    try {
      for (const end of ['commit', 'abort', 'fail'] as const) {
        await raw.del(key);
        const first = (await r.beginWrites([key]))!;
        await raw.del(key); // the first writer's mark expires mid-write
        const second = (await r.beginWrites([key]))!;
        expect(second).not.toBe(first);
        if (end === 'commit') await r.applyToCounter(key, { op: 'add', value: '5' }, first);
        else if (end === 'abort') await r.abortWrites([key], first);
        else await r.applyToCounter(key, { op: 'reset' }, first);
        expect(await raw.hget(key, 'n'), end).toBe('1'); // the second writer's mark stands
        expect(await seedable(), end).toBe(false);
        await r.abortWrites([key], second);
        expect(await raw.hget(key, 'n'), end).toBe('0');
        expect(await seedable(), end).toBe(true);
        expect(await raw.pttl(key), end).toBeGreaterThan(0); // still expires
      }
    } finally {
      raw.disconnect();
      await r.close();
    }
  });

  it('a batch whose every write attempt failed clears the counters it marked: one attempt may have committed', async () => {
    const { a, scope, customerId } = await world();
    await a.meter.meterDurable(scope, [ev(customerId, 'f1', 3)]);
    expect(await used(a, scope, customerId)).toBe(3);
    const raw = new Redis(redisUrl!);
    try {
      const [key] = await raw.keys(`ledger:usage:${scope.tenantId}:${scope.appId}:${customerId}:api_calls:*`);
      expect(await raw.hget(key!, 'i')).toBe('3');
      const usage = store.usage;
      const insert = usage.insertEvents.bind(usage);
      usage.insertEvents = async (...args) => {
        await insert(...args); // commits, then the answer is lost: every attempt
        throw new Error('connection reset');
      };
      try {
        await expect(a.meter.meterDurable(scope, [ev(customerId, 'f2', 4)])).rejects.toThrow();
      } finally {
        usage.insertEvents = insert;
      }
      expect(await raw.hget(key!, 'i')).toBeNull(); // not left at 3 while the store holds 7
      expect(await raw.hget(key!, 'n')).toBe('0');
    } finally {
      raw.disconnect();
    }
  });

  it('a plan change that counts a feature another way (sum → max) does not reuse the counter', async () => {
    const { a, scope, customerId, sub } = await world();
    const peak = await a.plans.create(scope, {
      key: 'peak',
      name: 'Peak',
      currency: 'USD',
      interval: { unit: 'month' },
      basePrice: 1,
      features: [{ key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'max', limit: 1_000 }],
    });
    await a.meter.meterDurable(scope, [ev(customerId, 'p1', 5), ev(customerId, 'p2', 7)]);
    expect(await used(a, scope, customerId)).toBe(12);
    await a.subscriptions.changePlan(scope, sub.id, { planId: peak.id });
    expect(await used(a, scope, customerId)).toBe(7);
  });

  it('tenant isolation: counters are keyed by tenant and app', async () => {
    const { a, scope, customerId } = await world();
    await a.meter.meterDurable(scope, [ev(customerId, 'iso', 9)]);
    await used(a, scope, customerId);
    const r = new Redis(redisUrl!);
    try {
      const keys = await r.keys(`ledger:usage:*:${customerId}:*`);
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) expect(k.startsWith(`ledger:usage:${scope.tenantId}:${scope.appId}:`)).toBe(true);
    } finally {
      r.disconnect();
    }
  });
});
