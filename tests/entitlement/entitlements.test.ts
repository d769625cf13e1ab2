import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLedger, ManualClock, silentLogger, type Ledger, type Plugin, type Scope, type Store } from '@/server/ledger';
import { recordingPlugin, rejectsWith } from '../support/engine';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * Entitlement checks on every store: the answer for each kind of feature, usage of the
 * current period (including events metered a moment ago in this process), the cache and
 * its invalidation across cancellations, plan switches and period rollovers, the
 * threshold hooks, and isolation between tenants.
 */
const T0 = new Date('2025-03-10T12:00:00.000Z');
const DAY = 86_400_000;

const starter = {
  key: 'starter',
  name: 'Starter',
  currency: 'USD',
  interval: { unit: 'month' as const },
  features: [
    { key: 'api_calls', name: 'API calls', kind: 'metered' as const, aggregation: 'sum' as const, limit: 100 },
    { key: 'storage_gb', name: 'Storage', kind: 'metered' as const, aggregation: 'max' as const, limit: null },
    { key: 'seats', name: 'Seats', kind: 'licensed' as const, limit: 10 },
    { key: 'sso', name: 'SSO', kind: 'boolean' as const, enabled: false },
    { key: 'exports', name: 'Exports', kind: 'boolean' as const },
  ],
};
const pro = {
  ...starter,
  key: 'pro',
  name: 'Pro',
  features: [
    { key: 'api_calls', name: 'API calls', kind: 'metered' as const, aggregation: 'sum' as const, limit: 10_000 },
    { key: 'sso', name: 'SSO', kind: 'boolean' as const, enabled: true },
  ],
};

/** Counts store reads of live subscriptions: a cache hit makes none. */
function countingStore(store: Store): Store & { liveReads: () => number } {
  let reads = 0;
  const subscriptions = { ...store.subscriptions, getLive: (s: Scope, id: never) => (reads++, store.subscriptions.getLive(s, id)) };
  return { ...store, subscriptions, liveReads: () => reads } as Store & { liveReads: () => number };
}

describe.each(storeFactories())('entitlements on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function setup(opts: { plugins?: Plugin[]; start?: Date; trialDays?: number; seats?: number; ttlMs?: number } = {}) {
    const counted = countingStore(store());
    const clock = new ManualClock(opts.start ?? T0);
    const ledger = await createLedger({
      store: counted,
      clock,
      logger: silentLogger,
      plugins: opts.plugins,
      meter: { flushIntervalMs: 60_000, batchSize: 1_000 },
      entitlements: { cache: { ttlMs: opts.ttlMs ?? 60_000 } },
    });
    const scope = uniqueScope();
    const plan = await ledger.plans.create(scope, starter);
    const proPlan = await ledger.plans.create(scope, pro);
    const customer = await ledger.customers.create(scope, { email: 'e@example.com', name: 'E' });
    const sub = await ledger.subscriptions.create(scope, {
      customerId: customer.id,
      planId: plan.id,
      quantity: opts.seats ?? 3,
      trialDays: opts.trialDays ?? 0,
    });
    const use = (key: string, quantity: number | string, at = clock.now(), feature = 'api_calls') =>
      ledger.meter.meter(scope, { idempotencyKey: key, customerId: customer.id, featureKey: feature, quantity, timestamp: at.toISOString() });
    const check = (feature: string) => ledger.entitled(scope, customer.id, feature);
    return { ledger, clock, scope, plan, proPlan, customerId: customer.id, sub, use, check, store: counted };
  }

  describe('answers by feature kind', () => {
    it('boolean: an enabled feature is allowed, a disabled one is not', async () => {
      const { check } = await setup();
      expect(await check('exports')).toEqual({ allowed: true, limit: null, used: null, remaining: null, reason: 'enabled' });
      expect(await check('sso')).toEqual({ allowed: false, limit: null, used: null, remaining: null, reason: 'disabled' });
    });

    it('licensed: allowed, the limit is the subscription seat quantity (3)', async () => {
      const { check } = await setup({ seats: 3 });
      expect(await check('seats')).toEqual({ allowed: true, limit: 3, used: null, remaining: null, reason: 'seats' });
    });

    it('metered with a limit of 100: 0 used, 100 remaining; unlimited has no limit', async () => {
      const { check } = await setup();
      expect(await check('api_calls')).toEqual({ allowed: true, limit: 100, used: 0, remaining: 100, reason: 'within_limit' });
      expect(await check('storage_gb')).toEqual({ allowed: true, limit: null, used: 0, remaining: null, reason: 'unlimited' });
    });

    it('a feature the plan lacks is not allowed: feature_not_in_plan', async () => {
      const { check } = await setup();
      expect(await check('teleport')).toMatchObject({ allowed: false, reason: 'feature_not_in_plan' });
    });

    it('a customer without a subscription: no_subscription; an unknown customer: not_found; a malformed id: invalid', async () => {
      const { ledger, scope } = await setup();
      const bare = await ledger.customers.create(scope, { email: 'b@example.com', name: 'B' });
      expect(await ledger.entitled(scope, bare.id, 'api_calls')).toMatchObject({ allowed: false, reason: 'no_subscription' });
      await rejectsWith(ledger.entitled(scope, 'cst_01jz8zqk6kf0vbq6bmkj1yq8vn', 'api_calls'), 'not_found');
      await rejectsWith(ledger.entitled(scope, 'pln_01jz8zqk6kf0vbq6bmkj1yq8vn', 'api_calls'), 'invalid');
    });
  });

  describe('metered usage of the current period', () => {
    it('counts events metered a moment ago in this process, before they are written', async () => {
      const { ledger, check, use } = await setup();
      expect((await check('api_calls')).used).toBe(0); // fills the cache
      use('a', 30);
      use('b', 12.5);
      expect(ledger.meter.buffered).toBe(2); // nothing written yet
      expect(await check('api_calls')).toEqual({ allowed: true, limit: 100, used: 42.5, remaining: 57.5, reason: 'within_limit' });
      await ledger.meter.flush();
      expect((await check('api_calls')).used).toBe(42.5); // committed: still counted once
    });

    it('a miss counts both committed and still-buffered usage', async () => {
      const { ledger, check, use } = await setup();
      use('a', 40);
      await ledger.meter.flush();
      use('b', 2); // buffered only, and the cache is cold
      expect((await check('api_calls')).used).toBe(42);
    });

    it('at the limit the check is denied: used 100 of 100, remaining 0, limit_reached', async () => {
      const { check, use } = await setup();
      await check('api_calls');
      use('a', 99);
      expect(await check('api_calls')).toMatchObject({ allowed: true, remaining: 1 });
      use('b', 1);
      expect(await check('api_calls')).toEqual({ allowed: false, limit: 100, used: 100, remaining: 0, reason: 'limit_reached' });
      use('c', 5);
      expect(await check('api_calls')).toMatchObject({ allowed: false, used: 105, remaining: 0 });
    });

    it('max aggregation: the peak of the period, not the sum', async () => {
      const { check, use } = await setup();
      use('s1', 3, T0, 'storage_gb');
      use('s2', 7.5, T0, 'storage_gb');
      use('s3', 5, T0, 'storage_gb');
      expect((await check('storage_gb')).used).toBe(7.5);
    });

    it('usage belongs to the period of its timestamp: the next period starts from 0', async () => {
      const { clock, check, use } = await setup();
      use('march', 60);
      expect((await check('api_calls')).used).toBe(60);
      clock.set('2025-04-10T12:00:00.000Z'); // the period [Mar 10 12:00, Apr 10 12:00) has ended
      expect(await check('api_calls')).toMatchObject({ used: 0, remaining: 100 });
      // late usage stamped in the old period does not count in the new one
      use('late', 10, new Date('2025-04-10T11:59:59.000Z'));
      use('april', 5);
      expect((await check('api_calls')).used).toBe(5);
    });

    it('during a trial the period is the trial, and its usage counts', async () => {
      const { check, use, clock } = await setup({ trialDays: 14 });
      use('t', 20);
      expect((await check('api_calls')).used).toBe(20);
      clock.set(new Date(T0.getTime() + 14 * DAY)); // the trial ends: the first paid period begins
      expect((await check('api_calls')).used).toBe(0);
    });

    it('an event dropped as a duplicate after it was counted is uncounted once its batch is written', async () => {
      const { ledger, check, use } = await setup();
      use('same', 10);
      await ledger.meter.flush();
      await check('api_calls');
      use('same', 10); // the same key again: buffered, counted, then found a duplicate
      expect((await check('api_calls')).used).toBe(20);
      await ledger.meter.flush();
      expect((await check('api_calls')).used).toBe(10);
    });
  });

  describe('the cache', () => {
    it('a second check is a hit: no store read', async () => {
      const { check, store } = await setup();
      await check('api_calls');
      const reads = store.liveReads();
      await check('api_calls');
      await check('seats');
      await check('teleport');
      expect(store.liveReads()).toBe(reads);
    });

    it('concurrent misses for one customer share one fill', async () => {
      const { check, store } = await setup();
      const before = store.liveReads();
      await Promise.all(Array.from({ length: 20 }, () => check('api_calls')));
      expect(store.liveReads() - before).toBe(1);
    });

    it('usage committed by another engine on the same store shows when the entry expires (no Redis)', async () => {
      const { check, scope, customerId } = await setup({ ttlMs: 50 });
      expect((await check('api_calls')).used).toBe(0);
      const other = await createLedger({ store: store(), logger: silentLogger, clock: new ManualClock(T0) });
      await other.meter.meterDurable(scope, [{ idempotencyKey: 'elsewhere', customerId, featureKey: 'api_calls', quantity: 7, timestamp: T0.toISOString() }]);
      await other.shutdown();
      await new Promise((r) => setTimeout(r, 80));
      expect((await check('api_calls')).used).toBe(7);
    });
  });

  describe('invalidation on subscription changes', () => {
    it('an immediate cancellation is seen at once: no_subscription', async () => {
      const { ledger, scope, sub, check } = await setup();
      expect((await check('api_calls')).allowed).toBe(true);
      await ledger.subscriptions.cancel(scope, sub.id, { at: 'now' });
      expect(await check('api_calls')).toMatchObject({ allowed: false, reason: 'no_subscription' });
      expect(await check('exports')).toMatchObject({ allowed: false, reason: 'no_subscription' });
    });

    it('cancellation at period end keeps access until the period ends, and resuming keeps it after', async () => {
      const { ledger, scope, sub, check, clock } = await setup();
      await check('exports');
      await ledger.subscriptions.cancel(scope, sub.id, { at: 'period_end' });
      expect((await check('exports')).allowed).toBe(true);
      clock.set('2025-04-10T11:59:59.999Z');
      expect((await check('exports')).allowed).toBe(true);
      clock.set('2025-04-10T12:00:00.000Z');
      expect(await check('exports')).toMatchObject({ allowed: false, reason: 'no_subscription' });
    });

    it('resuming a scheduled cancellation is seen at once', async () => {
      const { ledger, scope, sub, check, clock } = await setup();
      await ledger.subscriptions.cancel(scope, sub.id, { at: 'period_end' });
      await check('exports');
      await ledger.subscriptions.resume(scope, sub.id);
      clock.set('2025-04-10T12:00:00.000Z');
      expect((await check('exports')).allowed).toBe(true);
    });

    it('switching plans (cancel, subscribe to Pro) is seen at once: Pro limits and features', async () => {
      const { ledger, scope, sub, proPlan, customerId, check, use } = await setup();
      use('a', 100);
      expect(await check('api_calls')).toMatchObject({ allowed: false, limit: 100 });
      expect((await check('sso')).allowed).toBe(false);
      await ledger.subscriptions.cancel(scope, sub.id, { at: 'now' });
      await ledger.subscriptions.create(scope, { customerId, planId: proPlan.id });
      // Pro's period starts now: the Starter period's usage (stamped before) is not in it.
      expect(await check('api_calls')).toMatchObject({ allowed: true, limit: 10_000 });
      expect((await check('sso')).allowed).toBe(true);
      expect((await check('seats')).reason).toBe('feature_not_in_plan');
    });

    it('a new subscription for a customer cached as without one is seen at once', async () => {
      const { ledger, scope, plan } = await setup();
      const c = await ledger.customers.create(scope, { email: 'n@example.com', name: 'N' });
      expect((await ledger.entitled(scope, c.id, 'exports')).reason).toBe('no_subscription');
      await ledger.subscriptions.create(scope, { customerId: c.id, planId: plan.id });
      expect((await ledger.entitled(scope, c.id, 'exports')).allowed).toBe(true);
    });
  });

  describe('hooks', () => {
    it('onEntitlementChecked per check; onSoftLimitReached at 80 % and onQuotaExceeded on the first denial, once per period', async () => {
      const rec = recordingPlugin();
      const { check, use, customerId, clock, ledger, scope } = await setup({ plugins: [rec.plugin] });
      await check('api_calls');
      use('a', 79);
      await check('api_calls');
      expect(rec.of('onSoftLimitReached')).toHaveLength(0);
      use('b', 1);
      await check('api_calls');
      await check('api_calls');
      expect(rec.of('onSoftLimitReached')).toHaveLength(1);
      expect(rec.of('onSoftLimitReached')[0]![1]).toMatchObject({ customerId, featureKey: 'api_calls', result: { used: 80 } });
      expect(rec.of('onQuotaExceeded')).toHaveLength(0);
      use('c', 20);
      await check('api_calls');
      await check('api_calls');
      expect(rec.of('onQuotaExceeded')).toHaveLength(1);
      expect(rec.of('onQuotaExceeded')[0]![1]).toMatchObject({ result: { allowed: false, used: 100, reason: 'limit_reached' } });
      expect(rec.of('onEntitlementChecked')).toHaveLength(6);
      // Each also in the event log, once: usage.soft_limit_reached, usage.quota_exceeded.
      await expect.poll(async () => (await ledger.events.list(scope, { typePrefix: 'usage.' }, { limit: 10 })).items.map((e) => e.type)).toEqual(['usage.quota_exceeded', 'usage.soft_limit_reached']);
      const [quota] = (await ledger.events.list(scope, { type: 'usage.quota_exceeded' }, { limit: 1 })).items;
      expect(quota).toMatchObject({ customerId, data: { featureKey: 'api_calls', result: { used: 100, allowed: false } } });
      // the next period: both may fire again
      clock.set('2025-04-10T12:00:00.000Z');
      use('d', 100);
      await check('api_calls');
      expect(rec.of('onSoftLimitReached')).toHaveLength(2);
      expect(rec.of('onQuotaExceeded')).toHaveLength(2);
    });

    it('a plugin that throws in onEntitlementChecked does not fail the check', async () => {
      const { check } = await setup({ plugins: [{ name: 'broken', onEntitlementChecked: () => { throw new Error('boom'); } }] });
      expect((await check('exports')).allowed).toBe(true);
    });
  });

  describe('isolation', () => {
    it("tenant B's usage and checks never touch tenant A's customer", async () => {
      const a = await setup();
      a.use('a', 10);
      await a.ledger.meter.flush();
      const b = uniqueScope();
      await rejectsWith(a.ledger.entitled(b, a.customerId, 'api_calls'), 'not_found');
      const results = await a.ledger.meter.meterDurable(b, [
        { idempotencyKey: 'a', customerId: a.customerId, featureKey: 'api_calls', quantity: 50, timestamp: T0.toISOString() },
      ]);
      expect(results[0]!.outcome).toMatchObject({ status: 'rejected' });
      expect((await a.check('api_calls')).used).toBe(10);
    });
  });
});

describe('entitlement summary', () => {
  it('lists every feature of the plan with used, limit, remaining and the period', async () => {
    const ledger: Ledger = await createLedger({ clock: new ManualClock(T0), logger: silentLogger });
    const scope = uniqueScope();
    const plan = await ledger.plans.create(scope, starter);
    const c = await ledger.customers.create(scope, { email: 's@example.com', name: 'S' });
    const sub = await ledger.subscriptions.create(scope, { customerId: c.id, planId: plan.id, quantity: 2 });
    ledger.meter.meter(scope, { idempotencyKey: 'x', customerId: c.id, featureKey: 'api_calls', quantity: 25, timestamp: T0.toISOString() });
    const s = await ledger.entitlements.summary(scope, c.id);
    const period = { start: T0, end: new Date('2025-04-10T12:00:00.000Z') };
    expect(s).toMatchObject({ customerId: c.id, subscriptionId: sub.id, status: 'active', planKey: 'starter', planName: 'Starter' });
    expect(s.features.map((f) => [f.featureKey, f.used, f.limit, f.remaining, f.reason])).toEqual([
      ['api_calls', 25, 100, 75, 'within_limit'],
      ['storage_gb', 0, null, null, 'unlimited'],
      ['seats', null, 2, null, 'seats'],
      ['sso', null, null, null, 'disabled'],
      ['exports', null, null, null, 'enabled'],
    ]);
    expect(s.features[0]).toMatchObject({ kind: 'metered', aggregation: 'sum', period });
    await ledger.shutdown();
  });
});

describe('entitlements: estimates and refills (found in review, now rules)', () => {
  async function world(slowLive = 0, live = { failures: 0, calls: 0 }) {
    const base = (await import('@/server/ledger')).createMemoryStore();
    const store = {
      ...base,
      subscriptions: {
        ...base.subscriptions,
        getLive: async (s: Scope, id: never) => {
          if (slowLive) await new Promise((r) => setTimeout(r, slowLive));
          live.calls++;
          if (live.failures-- > 0) throw new Error('database unavailable');
          return base.subscriptions.getLive(s, id);
        },
      },
    } as Store;
    const clock = new ManualClock(T0);
    const ledger = await createLedger({ store, clock, logger: silentLogger, meter: { flushIntervalMs: 60_000, batchSize: 1_000 } });
    const scope = uniqueScope();
    const plan = await ledger.plans.create(scope, {
      key: 'p',
      name: 'P',
      currency: 'USD',
      interval: { unit: 'month' },
      features: [
        { key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', limit: 100 },
        { key: 'users', name: 'Users', kind: 'metered', aggregation: 'unique_count', uniqueProperty: 'user', limit: 2 },
        { key: 'temp', name: 'Temperature', kind: 'metered', aggregation: 'latest', limit: 50 },
      ],
    });
    const customer = await ledger.customers.create(scope, { email: 'x@example.com', name: 'X' });
    await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    const ev = (key: string, featureKey: string, quantity: number, extra: object = {}, at = clock.now()) => ({
      idempotencyKey: key,
      customerId: customer.id,
      featureKey,
      quantity,
      timestamp: at.toISOString(),
      ...extra,
    });
    return { ledger, clock, scope, customerId: customer.id, ev };
  }

  it('events buffered while an entry is being refilled are counted in it', async () => {
    const { ledger, scope, customerId, ev } = await world(50);
    await ledger.entitled(scope, customerId, 'api_calls');
    await ledger.entitlements.invalidate(scope, customerId);
    const refilling = ledger.entitled(scope, customerId, 'api_calls');
    await new Promise((r) => setTimeout(r, 10)); // the refill is waiting for the subscription
    for (let i = 0; i < 12; i++) ledger.meter.meter(scope, ev(`b${i}`, 'api_calls', 10));
    await refilling;
    expect((await ledger.entitled(scope, customerId, 'api_calls')).used).toBe(120);
    await ledger.meter.flush();
    expect(await ledger.entitled(scope, customerId, 'api_calls')).toMatchObject({ used: 120, allowed: false });
  });

  it('a refill that fails stops watching commits: no reading is left behind', async () => {
    const live = { failures: 0, calls: 0 };
    const { ledger, scope, customerId } = await world(0, live);
    await ledger.entitled(scope, customerId, 'api_calls'); // remembered: the next fill guesses its period
    await ledger.entitlements.invalidate(scope, customerId);
    live.failures = 1;
    await expect(ledger.entitled(scope, customerId, 'api_calls')).rejects.toThrow(/database unavailable/);
    await vi.waitFor(() => expect(ledger.entitlements.readsInFlight).toBe(0));
    expect((await ledger.entitled(scope, customerId, 'api_calls')).allowed).toBe(true);
    expect(ledger.entitlements.readsInFlight).toBe(0);
  });

  it('a unique count estimated from buffered values is exact again once they are stored', async () => {
    const { ledger, scope, customerId, ev } = await world();
    await ledger.meter.meterDurable(scope, [ev('a1', 'users', 1, { properties: { user: 'alice' } })]);
    expect((await ledger.entitled(scope, customerId, 'users')).used).toBe(1);
    ledger.meter.meter(scope, ev('a2', 'users', 1, { properties: { user: 'alice' } }));
    ledger.meter.meter(scope, ev('b1', 'users', 1, { properties: { user: 'bob' } }));
    expect((await ledger.entitled(scope, customerId, 'users')).used).toBe(3); // an upper bound while buffered
    await ledger.meter.flush();
    expect(await ledger.entitled(scope, customerId, 'users')).toMatchObject({ used: 2, allowed: false, reason: 'limit_reached' });
  });

  it('a commit reads the entry again only when it holds an estimate: an event that counted nothing keeps it', async () => {
    const live = { failures: 0, calls: 0 };
    const { ledger, scope, customerId, ev } = await world(0, live);
    expect((await ledger.entitled(scope, customerId, 'users')).used).toBe(0);
    expect(live.calls).toBe(1);
    await ledger.meter.meterDurable(scope, [ev('anon', 'users', 1)]); // no "user" property: counts nothing
    expect((await ledger.entitled(scope, customerId, 'users')).used).toBe(0);
    expect(live.calls).toBe(1); // still the cached entry
    await ledger.meter.meterDurable(scope, [ev('carol', 'users', 1, { properties: { user: 'carol' } })]);
    expect((await ledger.entitled(scope, customerId, 'users')).used).toBe(1);
    expect(live.calls).toBe(2); // the estimate was settled by a read
  });

  it('a latest reading older than the stored one does not stay the answer once stored', async () => {
    const { ledger, clock, scope, customerId, ev } = await world();
    await ledger.meter.meterDurable(scope, [ev('new', 'temp', 10, {}, new Date(T0.getTime() + 120_000))]);
    clock.advance(180_000);
    expect((await ledger.entitled(scope, customerId, 'temp')).used).toBe(10);
    ledger.meter.meter(scope, ev('old', 'temp', 99, {}, new Date(T0.getTime() + 1_000)));
    await ledger.meter.flush();
    expect(await ledger.entitled(scope, customerId, 'temp')).toMatchObject({ used: 10, allowed: true });
  });
});
