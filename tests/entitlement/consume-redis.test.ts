import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '@/db/client';
import { createLedger, createPostgresStore, ManualClock, silentLogger, type Ledger, type Store } from '@/server/ledger';
import { eventually, ownRedisServer, testRedisUrl } from '../support/redis';
import { uniqueScope } from '../support/stores';
import { inParallel } from '../support/workers';

/**
 * entitlements.consume with Redis: two instances on one database and one Redis consume
 * through one Lua script against the shared usage counter. The counter starts from the
 * store's usage, survives nothing it should not (a flush, a new period), and every
 * allowed consumption reaches the store exactly once. PostgreSQL at TEST_DATABASE_URL
 * when set, else PGlite; Redis at TEST_REDIS_URL or the local default.
 */
const redisUrl = await testRedisUrl();
const T0 = new Date('2025-03-10T12:00:00.000Z');
/** As in redis.test.ts: a healthy but busy Redis must not be taken for an outage. */
const COMMAND_TIMEOUT_MS = 10_000;

describe.skipIf(!redisUrl)('entitlements.consume with Redis', () => {
  let database: DatabaseHandle;
  let store: Store;
  let admin: Redis;
  const engines: Ledger[] = [];

  beforeAll(async () => {
    database = await openDatabase(process.env.TEST_DATABASE_URL ? { url: process.env.TEST_DATABASE_URL } : { dataDir: 'memory://' });
    store = createPostgresStore(database.db);
    admin = new Redis(redisUrl!);
  });
  afterAll(async () => {
    for (const e of engines) await e.shutdown();
    await database.close();
    admin.disconnect();
  });

  async function instance(clock: ManualClock, channel: string, url = redisUrl!, opts: { on?: Store; drainDelayMs?: number; drainIntervalMs?: number } = {}) {
    const ledger = await createLedger({
      store: opts.on ?? store,
      clock,
      logger: silentLogger,
      meter: { flushIntervalMs: 60_000 },
      entitlements: {
        redis: { url, channel, refreshMs: 100, commandTimeoutMs: COMMAND_TIMEOUT_MS },
        consume: { drainIntervalMs: opts.drainIntervalMs ?? 200, drainDelayMs: opts.drainDelayMs },
      },
    });
    engines.push(ledger);
    await ledger.entitlements.whenReady();
    return ledger;
  }

  async function world(url = redisUrl!, aOpts: Parameters<typeof instance>[3] = {}) {
    const clock = new ManualClock(T0);
    const channel = `ledger:test:${randomBytes(4).toString('hex')}`;
    const a = await instance(clock, channel, url, aOpts);
    const b = await instance(clock, channel, url, { on: aOpts.on });
    const scope = uniqueScope();
    const plan = await a.plans.create(scope, {
      key: 'p',
      name: 'P',
      currency: 'USD',
      interval: { unit: 'month' },
      features: [{ key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', limit: 1_000, price: { model: 'per_unit', unitPrice: '0.05' } }],
    });
    const customer = await a.customers.create(scope, { email: 'r@example.com', name: 'R' });
    const sub = await a.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    const consume = (on: Ledger, idempotencyKey: string, quantity: number = 1) =>
      on.entitlements.consume(scope, { customerId: customer.id, featureKey: 'api_calls', quantity, idempotencyKey });
    const stored = (from = sub.currentPeriodStart, to = sub.currentPeriodEnd) =>
      store.usage.aggregate(scope, { customerId: customer.id, featureKey: 'api_calls', aggregation: 'sum', from, to });
    /** Everything of this scope in Redis, as a FLUSHALL would leave it (other tests' keys stay). */
    const flush = async () => {
      const keys = await admin.keys(`ledger:*${scope.tenantId}*`);
      if (keys.length) await admin.del(...keys);
    };
    return { a, b, clock, scope, customerId: customer.id, sub, consume, stored, flush };
  }

  it('50 parallel consumers on two instances against a limit of 1,000: exactly 1,000 allowed, and 1,000 stored once drained', async () => {
    const { a, b, scope, customerId, consume, stored } = await world();
    const all = await inParallel(50, 25, (w, i) => consume(w % 2 === 0 ? a : b, `w${w}-${i}`));
    const allowed = all.filter((x) => x.allowed);
    expect(allowed).toHaveLength(1_000);
    expect(allowed.map((x) => x.used).sort((x, y) => x! - y!)).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
    expect(await eventually(stored, (v) => v === '1000')).toBe('1000');
    // The counter agrees with the store; both instances' checks see it.
    expect((await eventually(() => b.entitled(scope, customerId, 'api_calls'), (r) => r.used === 1_000)).used).toBe(1_000);
    expect(await consume(a, 'one-more')).toMatchObject({ allowed: false, used: 1_000, remaining: 0 });
    expect(await stored()).toBe('1000');
  });

  it('a feature limited by credits, on two instances: 10.00 of credits at 0.05 a call allow exactly 200, and both instances\' checks count them (the shared counter hears of the store\'s writes)', async () => {
    const { a, b, scope, customerId } = await world();
    const plan = await a.plans.create(scope, {
      key: 'prepaid',
      name: 'Prepaid',
      currency: 'USD',
      interval: { unit: 'month' },
      features: [{ key: 'credits_api', name: 'API calls', kind: 'metered', aggregation: 'sum', limitByCredits: true, price: { model: 'per_unit', unitPrice: '0.05' } }],
    });
    const other = await a.customers.create(scope, { email: 'p@example.com', name: 'P' });
    const { wallet } = await a.wallets.create(scope, { customerId: other.id, currency: 'USD' });
    await a.wallets.grant(scope, { walletId: wallet.id, amount: 1_000 });
    await a.subscriptions.create(scope, { customerId: other.id, planId: plan.id });
    // Both instances' entries exist before the consumptions: they must hear of them.
    expect((await b.entitled(scope, other.id, 'credits_api')).used).toBe(0);
    expect((await a.entitled(scope, other.id, 'credits_api')).used).toBe(0);
    const answers = await inParallel(20, 12, (w, i) =>
      (w % 2 === 0 ? a : b).entitlements.consume(scope, { customerId: other.id, featureKey: 'credits_api', quantity: 1, idempotencyKey: `p${w}-${i}` }),
    );
    expect(answers.filter((x) => x.allowed)).toHaveLength(200);
    expect(answers.filter((x) => x.reason === 'insufficient_credits')).toHaveLength(40);
    const storedCalls = await store.usage.aggregate(scope, { customerId: other.id, featureKey: 'credits_api', aggregation: 'sum', from: T0, to: new Date('2025-04-10T12:00:00.000Z') });
    expect(storedCalls).toBe('200');
    for (const on of [a, b]) expect((await eventually(() => on.entitled(scope, other.id, 'credits_api'), (r) => r.used === 200)).used).toBe(200);
    void customerId;
  });

  it("a feature limited by credits counts what another feature just consumed through Redis, still in the stream: 3.00 of exports leave 2.00 of 5.00", async () => {
    const { a, scope } = await world();
    const plan = await a.plans.create(scope, {
      key: 'prepaid2',
      name: 'Prepaid',
      currency: 'USD',
      interval: { unit: 'month' },
      features: [
        { key: 'credits_api', name: 'API calls', kind: 'metered', aggregation: 'sum', limitByCredits: true, price: { model: 'per_unit', unitPrice: '0.05' } },
        { key: 'exports', name: 'Exports', kind: 'metered', aggregation: 'sum', price: { model: 'per_unit', unitPrice: '1.00' } },
      ],
    });
    const c = await a.customers.create(scope, { email: 'x@example.com', name: 'X' });
    const { wallet } = await a.wallets.create(scope, { customerId: c.id, currency: 'USD' });
    await a.wallets.grant(scope, { walletId: wallet.id, amount: 500 });
    await a.subscriptions.create(scope, { customerId: c.id, planId: plan.id });
    const consume = (featureKey: string, quantity: number, idempotencyKey: string) => a.entitlements.consume(scope, { customerId: c.id, featureKey, quantity, idempotencyKey });
    expect(await consume('exports', 3, 'x1')).toMatchObject({ allowed: true }); // through Redis: in the stream for a few ms
    expect(await consume('credits_api', 100, 'c1')).toMatchObject({ allowed: false, credits: { charged: 800, shortfall: 300 } });
    expect(await consume('credits_api', 40, 'c2')).toMatchObject({ allowed: true, credits: { charged: 500, shortfall: 0 } });
  });

  it('the invoice of the period bills exactly what was consumed through Redis: 1,000 × 0.05 = 50.00', async () => {
    const { a, b, clock, scope, customerId, consume, stored } = await world();
    await Promise.all(Array.from({ length: 1_100 }, (_, i) => consume(i % 2 ? a : b, `inv-${i}`)));
    await a.entitlements.consumptionsWritten();
    await b.entitlements.consumptionsWritten();
    expect(await eventually(stored, (v) => v === '1000')).toBe('1000');
    clock.set('2025-04-10T12:00:00.000Z');
    await a.billing.run(scope);
    const { items } = await a.invoices.listByCustomer(scope, customerId, { limit: 10 });
    const cycle = items.find((i) => i.billingReason === 'subscription_cycle')!;
    expect(cycle.lines.find((l) => l.id === 'usage:api_calls')).toMatchObject({ quantity: '1000', amount: 5_000 });
  });

  it('the counter starts from the usage already stored: 400 metered, 700 denied, 600 allowed', async () => {
    const { a, b, customerId, scope, consume, stored } = await world();
    await a.meter.meterDurable(scope, [{ idempotencyKey: 'm', customerId, featureKey: 'api_calls', quantity: 400, timestamp: T0.toISOString() }]);
    expect(await consume(b, 'c700', 700)).toMatchObject({ allowed: false, used: 400, remaining: 600 });
    expect(await consume(b, 'c600', 600)).toMatchObject({ allowed: true, used: 1_000, remaining: 0 });
    expect(await eventually(stored, (v) => v === '1000')).toBe('1000');
  });

  it('a key replayed on another instance answers the first answer; after Redis lost everything, from the store, and the counter is warmed up again', async () => {
    const { a, b, consume, stored, flush } = await world();
    const first = await consume(a, 'order-1', 990);
    expect(first).toMatchObject({ allowed: true, used: 990, remaining: 10, replayed: false });
    expect(await consume(b, 'order-1', 990)).toEqual({ ...first, replayed: true });
    expect(await eventually(stored, (v) => v === '990')).toBe('990');
    await a.entitlements.consumptionsWritten();
    await b.entitlements.consumptionsWritten();
    await flush();
    expect(await consume(b, 'order-1', 990)).toEqual({ ...first, replayed: true });
    expect(await consume(a, 'order-2', 11)).toMatchObject({ allowed: false, used: 990 });
    expect(await consume(a, 'order-3', 10)).toMatchObject({ allowed: true, used: 1_000 });
    expect(await eventually(stored, (v) => v === '1000')).toBe('1000');
  });

  it('a new period starts a new counter: the limit applies again, the old period keeps its 1,000', async () => {
    const { a, clock, sub, consume, stored } = await world();
    expect(await consume(a, 'march', 1_000)).toMatchObject({ allowed: true, used: 1_000 });
    clock.set('2025-04-10T12:00:00.000Z');
    expect(await consume(a, 'april', 300)).toMatchObject({ allowed: true, used: 300, remaining: 700 });
    expect(await eventually(stored, (v) => v === '1000')).toBe('1000');
    expect(await eventually(() => stored(sub.currentPeriodEnd, new Date('2025-05-10T12:00:00.000Z')), (v) => v === '300')).toBe('300');
  });

  it('allowed consumptions are not lost when the store refuses writes: they wait in Redis, counted, and are written once it takes them', async () => {
    let failing = false;
    const flaky: Store = {
      ...store,
      usage: {
        ...store.usage,
        insertEvents: (s, e) => (failing ? Promise.reject(new Error('connection reset')) : store.usage.insertEvents(s, e)),
      },
    };
    // Any instance drains any pending stream: the earlier tests' instances would write these.
    for (const e of engines.splice(0)) await e.shutdown();
    const { a, consume, stored } = await world(redisUrl!, { on: flaky }); // both instances on it
    await consume(a, 'warm', 1); // the counter set while the store reads
    await eventually(stored, (v) => v === '1');
    failing = true;
    expect(await consume(a, 'held-1', 600)).toMatchObject({ allowed: true, used: 601 });
    expect(await consume(a, 'held-2', 400)).toMatchObject({ allowed: false, used: 601, remaining: 399 });
    await new Promise((r) => setTimeout(r, 500)); // drains tried and failed
    expect(await stored()).toBe('1');
    failing = false;
    expect(await eventually(stored, (v) => v === '601')).toBe('601');
    expect(await consume(a, 'held-1', 600)).toMatchObject({ allowed: true, used: 601, replayed: true });
  });

  it('an instance that dies with consumptions not yet written: another instance drains them', async () => {
    // `a` never drains on its own (as if it died right after answering); `b` sweeps.
    const { a, consume, stored } = await world(redisUrl!, { drainDelayMs: 3_600_000, drainIntervalMs: 3_600_000 });
    expect(await consume(a, 'orphan', 250)).toMatchObject({ allowed: true, used: 250 });
    expect(await eventually(stored, (v) => v === '250')).toBe('250');
  });

  it('Redis down: consumption falls back to the store lock, and the counter is recomputed when Redis is back', async () => {
    const server = await ownRedisServer();
    try {
      const { a, consume, stored } = await world(server.url);
      expect(await consume(a, 'before', 100)).toMatchObject({ allowed: true, used: 100 });
      await eventually(stored, (v) => v === '100');
      await server.stop();
      expect(await consume(a, 'during', 850)).toMatchObject({ allowed: true, used: 950 });
      expect(await stored()).toBe('950');
      await server.start();
      // The restarted Redis is empty (no persistence): its counter is warmed up from the store.
      const after = await eventually(() => consume(a, `after-${Math.random()}`, 60), (r) => r.reason === 'limit_reached');
      expect(after).toMatchObject({ allowed: false, used: 950, remaining: 50 });
      expect(await consume(a, 'last', 50)).toMatchObject({ allowed: true, used: 1_000 });
      expect(await eventually(stored, (v) => v === '1000')).toBe('1000');
    } finally {
      await server.stop();
    }
  });
});
