import { describe, expect, it, vi, beforeAll, afterAll } from 'vitest';
import { createLedger, ManualClock, silentLogger, type Ledger, type MeterConfig, type Scope, type Store } from '@/server/ledger';
import { capturingLogger, recordingPlugin } from '../support/engine';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * Metering, on every store: the buffer, durable metering with per-event outcomes,
 * exactly-once, retries, the bound, and usage belonging to its timestamp's period.
 */
const T0 = new Date('2025-03-10T12:00:00.000Z');
const HOUR = 3_600_000;

async function setup(store: Store, meter: Partial<MeterConfig> = {}, extra: Parameters<typeof createLedger>[0] = {}) {
  const clock = new ManualClock(T0);
  const ledger = await createLedger({ store, clock, logger: silentLogger, meter, ...extra });
  const scope = uniqueScope();
  const plan = await ledger.plans.create(scope, {
    key: 'usage',
    name: 'Usage',
    currency: 'USD',
    interval: { unit: 'month' },
    features: [
      { key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', limit: 1000 },
      { key: 'users', name: 'Users', kind: 'metered', aggregation: 'unique_count', uniqueProperty: 'user_id' },
    ],
  });
  const customer = await ledger.customers.create(scope, { email: 'm@example.com', name: 'M' });
  await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
  return { ledger, clock, scope, customerId: customer.id };
}

const ev = (customerId: string, key: string, quantity: number | string = 1, at = T0, extra: object = {}) => ({
  idempotencyKey: key,
  customerId,
  featureKey: 'api_calls',
  quantity,
  timestamp: at.toISOString(),
  ...extra,
});

const total = (ledger: Ledger, scope: Scope, customerId: string, from = new Date(T0.getTime() - 40 * 24 * HOUR), to = new Date(T0.getTime() + HOUR)) =>
  ledger.store.usage.aggregate(scope, { customerId: customerId as never, featureKey: 'api_calls', aggregation: 'sum', from, to });

/**
 * A memory store whose usage inserts go through `insert` (given the real one), to watch
 * or fail them. Methods are bound: the memory store's usage methods use `this`.
 */
async function withInsert(insert: (real: Store['usage'], s: Scope, e: Parameters<Store['usage']['insertEvents']>[1]) => ReturnType<Store['usage']['insertEvents']>): Promise<Store> {
  const real = (await import('@/server/ledger')).createMemoryStore();
  return {
    ...real,
    usage: {
      aggregate: (s, q) => real.usage.aggregate(s, q),
      aggregateMany: (s, qs) => real.usage.aggregateMany(s, qs),
      insertEvents: (s, e) => insert(real.usage, s, e),
    },
  };
}

describe.each(storeFactories())('metering on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  it('meter() returns at once and writes when the batch size is reached', async () => {
    const { ledger, scope, customerId } = await setup(store(), { batchSize: 3, flushIntervalMs: 60_000 });
    ledger.meter.meter(scope, ev(customerId, 'a', 2));
    ledger.meter.meter(scope, ev(customerId, 'b', 3));
    expect(ledger.meter.buffered).toBe(2);
    expect(await total(ledger, scope, customerId)).toBe('0');
    ledger.meter.meter(scope, ev(customerId, 'c', 5));
    await vi.waitFor(async () => expect(await total(ledger, scope, customerId)).toBe('10'));
    expect(ledger.meter.buffered).toBe(0);
    await ledger.shutdown();
  });

  it('meter() writes when the flush interval passes', async () => {
    const { ledger, scope, customerId } = await setup(store(), { batchSize: 1000, flushIntervalMs: 30 });
    ledger.meter.meter(scope, ev(customerId, 'a', 7));
    await vi.waitFor(async () => expect(await total(ledger, scope, customerId)).toBe('7'), { timeout: 5_000 });
    await ledger.shutdown();
  });

  it('shutdown writes what is buffered', async () => {
    const { ledger, scope, customerId } = await setup(store(), { batchSize: 1000, flushIntervalMs: 60_000 });
    for (let i = 0; i < 25; i++) ledger.meter.meter(scope, ev(customerId, `k${i}`));
    await ledger.shutdown();
    expect(await total(ledger, scope, customerId)).toBe('25');
    expect(() => ledger.meter.meter(scope, ev(customerId, 'late'))).toThrow(/shut down/);
  });

  it('meterDurable answers per event: accepted, duplicate, conflict, rejected', async () => {
    const { ledger, scope, customerId } = await setup(store());
    await ledger.meter.meterDurable(scope, [ev(customerId, 'dup', 4)]);
    const results = await ledger.meter.meterDurable(scope, [
      ev(customerId, 'new', 1),
      ev(customerId, 'dup', 4), // same key, same payload
      ev(customerId, 'dup', 5), // same key, another quantity
      ev('cst_01h455vb4pex5vsknk084sn02q', 'ghost'), // unknown customer
      { ...ev(customerId, 'nofeat'), featureKey: 'nope' },
      ev(customerId, 'old', 1, new Date(T0.getTime() - 36 * 24 * HOUR)),
      ev(customerId, 'future', 1, new Date(T0.getTime() + 6 * 60_000)),
      ev(customerId, 'neg', -1),
      ev(customerId, 'nan', 'lots'),
      { ...ev(customerId, 'nouser'), featureKey: 'users' },
    ]);
    expect(results.map((r) => r.outcome.status)).toEqual([
      'accepted', 'duplicate', 'conflict', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected',
    ]);
    const reasons = results.map((r) => ('reason' in r.outcome ? r.outcome.reason : ''));
    expect(reasons[3]).toMatch(/unknown customer/);
    expect(reasons[4]).toMatch(/featureKey.*"nope"/);
    expect(reasons[5]).toMatch(/grace window/);
    expect(reasons[6]).toMatch(/future/);
    expect(reasons[7]).toMatch(/quantity/);
    expect(reasons[8]).toMatch(/quantity/);
    expect(reasons[9]).toMatch(/properties\.user_id/);
    expect(await total(ledger, scope, customerId)).toBe('5');
    await ledger.shutdown();
  });

  it('the same batch sent twice at once is stored once', async () => {
    const { ledger, scope, customerId } = await setup(store());
    const batch = Array.from({ length: 50 }, (_, i) => ev(customerId, `x${i}`, '0.1'));
    const [a, b] = await Promise.all([ledger.meter.meterDurable(scope, batch), ledger.meter.meterDurable(scope, batch)]);
    const statuses = [...a, ...b].map((r) => r.outcome.status);
    expect(statuses.filter((s) => s === 'accepted')).toHaveLength(50);
    expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(50);
    expect(await total(ledger, scope, customerId)).toBe('5');
    // and again, later: all duplicates, the total unchanged
    const c = await ledger.meter.meterDurable(scope, batch);
    expect(c.every((r) => r.outcome.status === 'duplicate')).toBe(true);
    expect(await total(ledger, scope, customerId)).toBe('5');
    await ledger.shutdown();
  });

  it('usage belongs to the period of its timestamp, not of its arrival', async () => {
    const { ledger, clock, scope, customerId } = await setup(store());
    const lastMonth = new Date('2025-02-20T08:00:00.000Z');
    await ledger.meter.meterDurable(scope, [ev(customerId, 'feb', 3, lastMonth), ev(customerId, 'mar', 4, T0)]);
    clock.advance(HOUR);
    const feb = await total(ledger, scope, customerId, new Date('2025-02-01T00:00:00Z'), new Date('2025-03-01T00:00:00Z'));
    const mar = await total(ledger, scope, customerId, new Date('2025-03-01T00:00:00Z'), new Date('2025-04-01T00:00:00Z'));
    expect([feb, mar]).toEqual(['3', '4']);
    await ledger.shutdown();
  });

  it('is isolated per scope: the same keys in another tenant are other events', async () => {
    const a = await setup(store());
    const b = await setup(store());
    await a.ledger.meter.meterDurable(a.scope, [ev(a.customerId, 'shared', 2)]);
    const rb = await b.ledger.meter.meterDurable(b.scope, [ev(b.customerId, 'shared', 9)]);
    expect(rb[0]!.outcome.status).toBe('accepted');
    // A's customer does not exist in B's scope
    const cross = await b.ledger.meter.meterDurable(b.scope, [ev(a.customerId, 'cross', 1)]);
    expect(cross[0]!.outcome.status).toBe('rejected');
    expect(await total(a.ledger, a.scope, a.customerId)).toBe('2');
    expect(await total(b.ledger, b.scope, b.customerId)).toBe('9');
    await Promise.all([a.ledger.shutdown(), b.ledger.shutdown()]);
  });
});

describe('metering under pressure (memory store)', () => {
  it('a full buffer refuses with limit_exceeded instead of growing or dropping', async () => {
    const { createMemoryStore } = await import('@/server/ledger');
    const { ledger, scope, customerId } = await setup(createMemoryStore(), { maxBuffered: 5, batchSize: 1000, flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) ledger.meter.meter(scope, ev(customerId, `k${i}`));
    expect(() => ledger.meter.meter(scope, ev(customerId, 'k5'))).toThrow(expect.objectContaining({ code: 'limit_exceeded' }));
    await expect(ledger.meter.meterDurable(scope, [ev(customerId, 'd')])).rejects.toMatchObject({ code: 'limit_exceeded' });
    await ledger.meter.flush();
    expect(await total(ledger, scope, customerId)).toBe('5');
    ledger.meter.meter(scope, ev(customerId, 'k5')); // room again
    await ledger.shutdown();
    expect(await total(ledger, scope, customerId)).toBe('6');
  });

  it('failed writes are retried; when retries run out nothing is dropped', async () => {
    const { createMemoryStore } = await import('@/server/ledger');
    const real = createMemoryStore();
    let failures = 0;
    const flaky: Store = {
      ...real,
      usage: {
        aggregate: (s, q) => real.usage.aggregate(s, q),
        aggregateMany: (s, qs) => real.usage.aggregateMany(s, qs),
        insertEvents: async (s, e) => {
          if (failures > 0) {
            failures--;
            throw new Error('connection reset');
          }
          return real.usage.insertEvents(s, e);
        },
      },
    };
    const logger = capturingLogger();
    const { ledger, scope, customerId } = await setup(flaky, { maxAttempts: 3, batchSize: 1000, flushIntervalMs: 60_000 }, { logger });

    failures = 2; // two failures, the third attempt succeeds
    const ok = await ledger.meter.meterDurable(scope, [ev(customerId, 'r1', 1)]);
    expect(ok[0]!.outcome.status).toBe('accepted');

    failures = 100; // the store is down
    await expect(ledger.meter.meterDurable(scope, [ev(customerId, 'r2', 1)])).rejects.toThrow(/connection reset/);
    ledger.meter.meter(scope, ev(customerId, 'r3', 1));
    await ledger.meter.flush();
    expect(ledger.meter.buffered).toBe(1); // kept, not dropped
    expect(logger.entries.some((e) => e.level === 'error' && /kept in the buffer/.test(e.msg))).toBe(true);

    failures = 0; // back
    await ledger.meter.flush();
    expect(ledger.meter.buffered).toBe(0);
    expect(await total(ledger, scope, customerId)).toBe('2'); // r1 and r3; r2 was refused to its caller
    await ledger.shutdown();
  });

  it("concurrent durable calls are written by several statements at once (when there is a full share for each), but a call's events always by one", async () => {
    const statements: string[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const watched = await withInsert(async (real, s, e) => {
      statements.push(e.map((x) => x.idempotencyKey));
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return real.insertEvents(s, e);
    });
    const { ledger, scope, customerId } = await setup(watched, { batchSize: 10, writeConcurrency: 3, minWriteBatch: 25 });
    const calls = Array.from({ length: 6 }, (_, c) => Array.from({ length: 25 }, (_, i) => ev(customerId, `c${c}-${i}`)));
    await Promise.all(calls.map((events) => ledger.meter.meterDurable(scope, events)));
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    // every call's 25 keys sit in exactly one statement
    for (let c = 0; c < 6; c++) {
      const holding = statements.filter((keys) => keys.some((k) => k.startsWith(`c${c}-`)));
      expect(holding).toHaveLength(1);
      expect(holding[0]!.filter((k) => k.startsWith(`c${c}-`))).toHaveLength(25);
    }
    expect(await total(ledger, scope, customerId)).toBe('150');
    await ledger.shutdown();
  });

  it('less than a full share for a second writer is written by one statement', async () => {
    const sizes: number[] = [];
    const watched = await withInsert((real, s, e) => (sizes.push(e.length), real.insertEvents(s, e)));
    const { ledger, scope, customerId } = await setup(watched, { writeConcurrency: 4, minWriteBatch: 1000 });
    await Promise.all(Array.from({ length: 8 }, (_, c) => ledger.meter.meterDurable(scope, Array.from({ length: 50 }, (_, i) => ev(customerId, `s${c}-${i}`)))));
    expect(sizes).toEqual([400]);
    await ledger.shutdown();
  });

  it('events shape-checked by parseMeterEvents are not parsed again; a forged mark is not trusted', async () => {
    const { createMemoryStore, parseMeterEvents } = await import('@/server/ledger');
    const { ledger, scope, customerId } = await setup(createMemoryStore());
    const bad = parseMeterEvents([ev(customerId, 'ok'), { ...ev(customerId, 'neg'), quantity: -1 }, { idempotencyKey: 'x' }]);
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.issues.map((i) => `${i.index}:${i.path}`)).toEqual(expect.arrayContaining(['1:quantity', '2:customerId', '2:featureKey']));
    }
    const good = parseMeterEvents([ev(customerId, 'p1', 2)]);
    if (!good.ok) throw new Error('expected valid events');
    expect(Object.isFrozen(good.events[0])).toBe(true);
    expect((await ledger.meter.meterDurable(scope, good.events))[0]!.outcome.status).toBe('accepted');
    // the mark on an object that is not frozen (anyone could have changed it) is ignored
    const forged = { ...good.events[0]!, idempotencyKey: 'forged', quantity: '-5' };
    const r = await ledger.meter.meterDurable(scope, [forged]);
    expect(r[0]!.outcome).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/quantity/) });
    expect(await total(ledger, scope, customerId)).toBe('2');
    await ledger.shutdown();
  });

  it('a write that committed but failed to answer is retried, and its events are reported accepted, not duplicates', async () => {
    let lose = 1;
    const lossy = await withInsert(async (real, s, e) => {
      const r = await real.insertEvents(s, e);
      if (lose-- > 0) throw new Error('connection lost after commit');
      return r;
    });
    const rec = recordingPlugin();
    const { ledger, scope, customerId } = await setup(lossy, { maxAttempts: 3 }, { plugins: [rec.plugin] });
    const results = await ledger.meter.meterDurable(scope, [ev(customerId, 'x1', 2), ev(customerId, 'x2', 3)]);
    expect(results.map((r) => r.outcome.status)).toEqual(['accepted', 'accepted']);
    expect(await total(ledger, scope, customerId)).toBe('5');
    await vi.waitFor(() => expect(rec.of('onUsageIngested')).toHaveLength(1));
    await ledger.shutdown();
  });

  it('an id the caller gave proves nothing after a failed attempt: the event another request stored is a duplicate here, accepted once', async () => {
    const { newId } = await import('@/server/ledger');
    let fail = 0;
    const flaky = await withInsert(async (real, s, e) => {
      if (fail-- > 0) throw new Error('connection refused'); // fails before writing anything
      return real.insertEvents(s, e);
    });
    const rec = recordingPlugin();
    const { ledger, scope, customerId } = await setup(flaky, { maxAttempts: 3 }, { plugins: [rec.plugin] });
    const id = newId('event');
    const event = { ...ev(customerId, 'same', 2), id };
    expect((await ledger.meter.meterDurable(scope, [event]))[0]!.outcome).toEqual({ status: 'accepted', id });
    fail = 1; // the same event sent again (a client retry) meets a failed first attempt
    expect((await ledger.meter.meterDurable(scope, [event]))[0]!.outcome).toEqual({ status: 'duplicate', id });
    expect(await total(ledger, scope, customerId)).toBe('2');
    await ledger.shutdown();
    expect(rec.of('onUsageIngested').flatMap(([, events]) => events as unknown[])).toHaveLength(1);
  });

  it('text PostgreSQL cannot store (a NUL, an unpaired surrogate) is rejected per event and blocks nothing', async () => {
    const { createMemoryStore } = await import('@/server/ledger');
    const { ledger, scope, customerId } = await setup(createMemoryStore());
    const results = await ledger.meter.meterDurable(scope, [
      ev(customerId, 'nul\u0000key'),
      ev(customerId, 'surrogate', 1, T0, { properties: { note: '\ud800' } }),
      ev(customerId, 'fine', 4),
    ]);
    expect(results.map((r) => r.outcome.status)).toEqual(['rejected', 'rejected', 'accepted']);
    expect(results[0]!.outcome).toMatchObject({ reason: expect.stringMatching(/idempotencyKey.*NUL/) });
    expect(() => ledger.meter.meter(scope, ev(customerId, 'x\u0000'))).toThrow(/NUL/);
    await ledger.shutdown();
  });

  it('fires onUsageIngested with the stored events and onUsageFlushed with their count', async () => {
    const { createMemoryStore } = await import('@/server/ledger');
    const rec = recordingPlugin();
    const { ledger, scope, customerId } = await setup(createMemoryStore(), {}, { plugins: [rec.plugin] });
    await ledger.meter.meterDurable(scope, [ev(customerId, 'h1'), ev(customerId, 'h2'), ev(customerId, 'h1')]);
    await vi.waitFor(() => expect(rec.of('onUsageFlushed').length).toBeGreaterThan(0));
    const ingested = rec.of('onUsageIngested')[0]!;
    expect(ingested[0]).toEqual(scope);
    expect((ingested[1] as unknown[]).length).toBe(2);
    expect(rec.of('onUsageFlushed')[0]![1]).toBe(2);
    await ledger.shutdown();
  });
});
