import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, type Ledger, type Scope } from '@/server/ledger';
import { rejectsWith } from '../support/engine';
import { inParallel } from '../support/workers';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * entitlements.consume on every store (memory, PGlite, PostgreSQL at TEST_DATABASE_URL):
 * the check and the record are one step, so parallel consumers never take more than the
 * limit; a key is recorded once; the recorded usage is ordinary usage, billed and seen by
 * `entitled`. (Redis: consume-redis.test.ts.)
 */
const T0 = new Date('2025-03-10T12:00:00.000Z');

const plan = {
  key: 'api',
  name: 'API',
  currency: 'USD',
  interval: { unit: 'month' as const },
  features: [
    // 0.05 per call, none included: the invoice shows exactly what was consumed.
    { key: 'api_calls', name: 'API calls', kind: 'metered' as const, aggregation: 'sum' as const, limit: 1_000, price: { model: 'per_unit' as const, unitPrice: '0.05' } },
    { key: 'emails', name: 'Emails', kind: 'metered' as const, aggregation: 'count' as const, limit: 3 },
    { key: 'tokens', name: 'Tokens', kind: 'metered' as const, aggregation: 'sum' as const, limit: null },
    { key: 'storage_gb', name: 'Storage', kind: 'metered' as const, aggregation: 'max' as const, limit: 50 },
    { key: 'seats', name: 'Seats', kind: 'licensed' as const },
    { key: 'sso', name: 'SSO', kind: 'boolean' as const, enabled: false },
  ],
};
const other = { ...plan, key: 'other', name: 'Other', features: [{ key: 'fax_pages', name: 'Fax', kind: 'metered' as const, aggregation: 'sum' as const, limit: 10 }] };

describe.each(storeFactories())('entitlements.consume on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  const ledgers: Ledger[] = [];
  afterAll(async () => {
    for (const l of ledgers) await l.shutdown();
  });

  async function setup() {
    const clock = new ManualClock(T0);
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger, meter: { flushIntervalMs: 60_000 } });
    ledgers.push(ledger);
    const scope: Scope = uniqueScope();
    const p = await ledger.plans.create(scope, plan);
    await ledger.plans.create(scope, other);
    const customer = await ledger.customers.create(scope, { email: 'c@example.com', name: 'C', country: 'US', region: 'TX' });
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: p.id });
    const consume = (idempotencyKey: string, quantity: number | string = 1, featureKey = 'api_calls') =>
      ledger.entitlements.consume(scope, { customerId: customer.id, featureKey, quantity, idempotencyKey });
    const stored = (featureKey = 'api_calls') =>
      store().usage.aggregate(scope, { customerId: customer.id, featureKey, aggregation: 'sum', from: sub.currentPeriodStart, to: sub.currentPeriodEnd });
    return { ledger, clock, scope, customerId: customer.id, sub, consume, stored };
  }

  it('50 parallel consumers, 25 calls of 1 each, against a limit of 1,000: exactly 1,000 allowed and used, 250 denied, 0 overshoot', async () => {
    const { ledger, scope, customerId, consume, stored } = await setup();
    const all = await inParallel(50, 25, (w, i) => consume(`w${w}-${i}`));
    expect(all.filter((a) => a.allowed)).toHaveLength(1_000);
    expect(all.filter((a) => !a.allowed)).toHaveLength(250);
    // Every allowed answer saw a distinct usage after it: 1 … 1,000, each once.
    expect(all.filter((a) => a.allowed).map((a) => a.used).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
    expect(all.find((a) => !a.allowed)).toEqual({ allowed: false, limit: 1_000, used: 1_000, remaining: 0, reason: 'limit_reached', recorded: false, replayed: false });
    expect(await stored()).toBe('1000');
    expect(await ledger.entitled(scope, customerId, 'api_calls')).toEqual({ allowed: false, limit: 1_000, used: 1_000, remaining: 0, reason: 'limit_reached' });
  });

  it('a consumption that would go past the limit is denied whole: 998 used, 5 asked, denied with 2 remaining; 2 asked, allowed', async () => {
    const { consume, stored } = await setup();
    expect(await consume('big', 998)).toEqual({ allowed: true, limit: 1_000, used: 998, remaining: 2, reason: 'within_limit', recorded: true, replayed: false });
    expect(await consume('five', 5)).toEqual({ allowed: false, limit: 1_000, used: 998, remaining: 2, reason: 'limit_reached', recorded: false, replayed: false });
    expect(await consume('two', '2')).toMatchObject({ allowed: true, used: 1_000, remaining: 0 });
    expect(await stored()).toBe('1000');
  });

  it('the same idempotency key again: the first answer, nothing recorded again; another payload under it: conflict', async () => {
    const { consume, stored } = await setup();
    const first = await consume('order-1', 7);
    await consume('order-2', 3);
    expect(await consume('order-1', 7)).toEqual({ ...first, replayed: true });
    expect(first).toEqual({ allowed: true, limit: 1_000, used: 7, remaining: 993, reason: 'within_limit', recorded: true, replayed: false });
    expect(await stored()).toBe('10');
    await rejectsWith(consume('order-1', 8), 'conflict');
    await rejectsWith(consume('order-1', 7, 'tokens'), 'conflict');
    expect(await stored()).toBe('10');
  });

  it('a denied key records nothing and is evaluated again: denied at the limit, allowed under the same key in the next period', async () => {
    const { clock, consume, stored } = await setup();
    await consume('fill', 1_000);
    expect(await consume('retry-me', 10)).toMatchObject({ allowed: false, used: 1_000, recorded: false });
    expect(await consume('retry-me', 10)).toMatchObject({ allowed: false, used: 1_000, replayed: false });
    clock.set('2025-04-10T12:00:00.000Z'); // the next monthly period
    expect(await consume('retry-me', 10)).toEqual({ allowed: true, limit: 1_000, used: 10, remaining: 990, reason: 'within_limit', recorded: true, replayed: false });
    expect(await stored()).toBe('1000');
  });

  it('the invoice of the period bills exactly the consumed units: 1,000 × 0.05 = 50.00', async () => {
    const { ledger, clock, scope, customerId, consume } = await setup();
    await Promise.all(Array.from({ length: 1_100 }, (_, i) => consume(`inv-${i}`)));
    clock.set('2025-04-10T12:00:00.000Z');
    await ledger.billing.run(scope);
    const { items } = await ledger.invoices.listByCustomer(scope, customerId, { limit: 10 });
    const cycle = items.find((i) => i.billingReason === 'subscription_cycle')!;
    expect(cycle.lines.find((l) => l.id === 'usage:api_calls')).toMatchObject({ quantity: '1000', amount: 5_000 });
  });

  it('a feature without a limit: allowed and recorded; a count feature counts 1 per consumption', async () => {
    const { consume, stored } = await setup();
    expect(await consume('t1', '1500.25', 'tokens')).toEqual({ allowed: true, limit: null, used: 1500.25, remaining: null, reason: 'unlimited', recorded: true, replayed: false });
    expect(await stored('tokens')).toBe('1500.25');
    for (const k of ['e1', 'e2', 'e3']) expect(await consume(k, 1, 'emails')).toMatchObject({ allowed: true });
    expect(await consume('e4', 1, 'emails')).toMatchObject({ allowed: false, used: 3, remaining: 0 });
    await rejectsWith(consume('e5', 2, 'emails'), 'invalid');
  });

  it('boolean and licensed features, no subscription, a feature the plan lacks: the answer entitled gives, nothing recorded', async () => {
    const { ledger, scope, consume } = await setup();
    expect(await consume('b', 1, 'sso')).toEqual({ allowed: false, limit: null, used: null, remaining: null, reason: 'disabled', recorded: false, replayed: false });
    expect(await consume('l', 1, 'seats')).toMatchObject({ allowed: true, reason: 'seats', recorded: false });
    expect(await consume('x', 1, 'fax_pages')).toMatchObject({ allowed: false, reason: 'feature_not_in_plan', recorded: false });
    const bare = await ledger.customers.create(scope, { email: 'b@example.com', name: 'B' });
    expect(await ledger.entitlements.consume(scope, { customerId: bare.id, featureKey: 'api_calls', quantity: 1, idempotencyKey: 'n' })).toMatchObject({
      allowed: false,
      reason: 'no_subscription',
      recorded: false,
    });
  });

  it('bad input is refused with a typed error and records nothing', async () => {
    const { ledger, scope, customerId, consume, stored } = await setup();
    for (const q of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '1e3', 'abc', '0.0000000000001']) await rejectsWith(consume(`bad-${String(q)}`, q as number), 'invalid');
    await rejectsWith(ledger.entitlements.consume(scope, { customerId, featureKey: 'api_calls', quantity: 1 }), 'invalid');
    await rejectsWith(ledger.entitlements.consume(scope, { customerId, featureKey: 'api_calls', quantity: 1, idempotencyKey: '' }), 'invalid');
    await rejectsWith(consume('unknown', 1, 'teleport'), 'invalid');
    await rejectsWith(consume('max', 1, 'storage_gb'), 'invalid');
    await rejectsWith(ledger.entitlements.consume(scope, { customerId: 'cst_01jz8zqk6kf0vbq6bmkj1yq8vn', featureKey: 'api_calls', quantity: 1, idempotencyKey: 'c' }), 'not_found');
    expect(await stored()).toBe('0');
    expect(await consume('ok')).toMatchObject({ allowed: true, used: 1 });
  });

  it('usage metered through the meter counts against the limit, and consumed usage shows in entitled at once', async () => {
    const { ledger, scope, customerId, consume } = await setup();
    await ledger.meter.meterDurable(scope, [{ idempotencyKey: 'm1', customerId, featureKey: 'api_calls', quantity: 990, timestamp: T0.toISOString() }]);
    expect((await ledger.entitled(scope, customerId, 'api_calls')).used).toBe(990); // cached
    expect(await consume('c1', 10)).toMatchObject({ allowed: true, used: 1_000 });
    expect(await ledger.entitled(scope, customerId, 'api_calls')).toMatchObject({ used: 1_000, allowed: false });
    expect(await consume('c2', 1)).toMatchObject({ allowed: false });
  });
});
