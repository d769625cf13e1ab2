import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, type CustomerId, type Ledger, type Scope } from '@/server/ledger';
import { createCaller } from '@/server/trpc/root';
import { otherAppOf, storeFactories, uniqueScope, useStore } from '../support/stores';
import { codeOf, portalContext } from '../support/trpc';

/**
 * The /portal/usage procedures (`accountUsage.*`) through createCaller with a portal
 * session context, on every store. Plan "usage": 10.00 a month; API calls metered (sum),
 * 1,000 included, limit 5,000, 0.002 per call above; seats 5.00 each above 1 included;
 * storage metered (max), unpriced; SSO on. Customer A subscribes at T0 (Jan 15 10:00
 * UTC, a period to Feb 15) with 3 seats and makes 400 calls on Jan 15 and 1,100 on Jan 16:
 * 1,500 calls, 500 above the included ones, cost 1.00.
 */
const T0 = new Date('2026-01-15T10:00:00.000Z');
const PERIOD_END = new Date('2026-02-15T10:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(T0.getTime() + ms);

describe.each(storeFactories())('portal usage on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let ledger: Ledger;
  let clock: ManualClock;
  let s: Scope;
  let other: Scope;
  let a: CustomerId;
  let b: CustomerId;
  let never: CustomerId;

  const as = (customerId: CustomerId, scope: Scope = s) =>
    createCaller({ ledger, auth: { kind: 'portal', scope, portal: portalContext(scope, customerId, 'member') } }).accountUsage;
  const meter = (c: CustomerId, key: string, featureKey: string, quantity: string, when: Date) =>
    ledger.meter.meterDurable(s, [{ idempotencyKey: key, customerId: c, featureKey, quantity, timestamp: when.toISOString() }]);
  const customer = async (scope: Scope, name: string) => (await ledger.customers.create(scope, { email: `${name}@example.com`, name, collectionMethod: 'send_invoice' })).id;

  beforeAll(async () => {
    clock = new ManualClock(T0);
    ledger = await createLedger({ store: store(), clock, logger: silentLogger });
    s = uniqueScope();
    other = otherAppOf(s);
    for (const scope of [s, other]) {
      await ledger.scopes.register(scope, 'test');
      await ledger.plans.create(scope, {
        key: 'usage',
        name: 'Usage',
        currency: 'USD',
        interval: { unit: 'month' },
        basePrice: 1000,
        features: [
          { key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', includedUnits: 1000, limit: 5000, unitName: 'call', price: { model: 'per_unit', unitPrice: '0.002' } },
          { key: 'storage', name: 'Storage', kind: 'metered', aggregation: 'max', unitName: 'GB' },
          { key: 'seats', name: 'Seats', kind: 'licensed', includedUnits: 1, price: { model: 'per_unit', unitPrice: '5' } },
          { key: 'sso', name: 'Single sign-on', kind: 'boolean', enabled: true },
        ],
      });
    }
    const plan = await ledger.plans.getByKey(s, 'usage');
    a = await customer(s, 'a');
    await ledger.subscriptions.create(s, { customerId: a, planId: plan.id, quantity: 3 });
    never = await customer(s, 'never');
    // B subscribes 3 hours later: its period starts at another instant than A's.
    clock.set(at(3 * HOUR).getTime());
    b = await customer(s, 'b');
    await ledger.subscriptions.create(s, { customerId: b, planId: plan.id });
    await ledger.subscriptions.create(other, { customerId: await customer(other, 'c'), planId: (await ledger.plans.getByKey(other, 'usage')).id });
    clock.set(at(2 * DAY).getTime()); // Jan 17 10:00
    // Metered now, stamped when used (an event from the future would be refused).
    await meter(a, 'a1', 'api_calls', '400', at(HOUR));
    await meter(a, 'a2', 'api_calls', '1100', at(DAY + HOUR));
    await meter(a, 'a3', 'storage', '12.5', at(DAY));
    await meter(a, 'a4', 'storage', '7', at(DAY + 2 * HOUR));
  });

  it('the current period: 1,500 of 5,000 calls (30 %), 1,000 included, cost so far 1.00; storage peaks at 12.5 GB, unpriced', async () => {
    const { periods, view } = await as(a).period();
    expect(periods.map((p) => [p.key, p.current])).toEqual([[T0.toISOString(), true]]);
    expect(view?.period).toMatchObject({ start: T0, end: PERIOD_END, current: true, trial: false, asOf: at(2 * DAY) });
    expect(view?.currency).toBe('USD');
    const calls = view!.metered.find((m) => m.key === 'api_calls')!;
    expect(calls).toMatchObject({ used: 1500, usedText: '1500', included: 1000, limit: 5000, percent: 30, tone: 'over_included' });
    expect(calls.cost).toMatchObject({ amount: 100, currency: 'USD', basis: 'estimate', priceText: '$0.002 per call above 1,000 included' });
    expect(calls.bar).toEqual({ fill: 30, includedAt: 20, scale: 5000 });
    const storage = view!.metered.find((m) => m.key === 'storage')!;
    expect(storage).toMatchObject({ used: 12.5, limit: null, bar: null, cost: { amount: null, basis: 'included' } });
    expect(view!.totalCost).toBe(100);
    expect(view!.seats).toEqual([{ key: 'seats', name: 'Seats', seats: 3, included: 1, limit: null, percent: null, priceText: '$5.00 per seat above 1 included' }]);
    expect(view!.switches).toEqual([{ key: 'sso', name: 'Single sign-on', enabled: true }]);
  });

  it('the daily series: 32 UTC days from Jan 15 10:00; 400 and 1,100 on the first two, 0 today so far, the rest not reached', async () => {
    const { view } = await as(a).period();
    const points = view!.metered.find((m) => m.key === 'api_calls')!.series.points;
    expect(points).toHaveLength(32);
    expect(points[0]).toMatchObject({ start: new Date('2026-01-15T00:00:00Z'), from: T0, value: 400, exact: '400' });
    expect(points.slice(1, 4).map((p) => p.value)).toEqual([1100, 0, null]);
    expect(points.at(-1)).toMatchObject({ start: new Date('2026-02-15T00:00:00Z'), to: PERIOD_END, value: null });
    expect(view!.metered.find((m) => m.key === 'storage')!.series.points.slice(0, 3).map((p) => p.value)).toEqual([0, 12.5, 0]);
  });

  it('usage metered now shows on the next read: 500 more calls today make 2,000 and 2.00', async () => {
    await meter(a, 'a5', 'api_calls', '500', at(2 * DAY - HOUR));
    const calls = (await as(a).period()).view!.metered.find((m) => m.key === 'api_calls')!;
    expect([calls.used, calls.cost.amount, calls.percent]).toEqual([2000, 200, 40]);
    expect(calls.series.points[2]!.value).toBe(500);
  });

  it('after the period is billed: two periods; the ended one answers from its invoice, the new one starts at 0', async () => {
    clock.set(PERIOD_END.getTime() + HOUR);
    await ledger.runBillingCycle(s);
    await meter(a, 'a6', 'api_calls', '200', new Date(PERIOD_END.getTime() + 30 * 60_000));
    const periods = await as(a).periods();
    expect(periods.map((p) => [p.key, p.current])).toEqual([
      [PERIOD_END.toISOString(), true],
      [T0.toISOString(), false],
    ]);
    expect(periods[1]!.invoiceNumber).not.toBeNull();

    const ended = (await as(a).period({ start: T0.toISOString() })).view!;
    expect(ended.period).toMatchObject({ current: false, asOf: PERIOD_END });
    const calls = ended.metered.find((m) => m.key === 'api_calls')!;
    expect([calls.used, calls.cost.amount, calls.cost.basis]).toEqual([2000, 200, 'invoiced']);
    expect(calls.series.points.every((p) => p.value !== null)).toBe(true);
    expect(ended.seats[0]!.seats).toBe(3);

    const now = (await as(a).period()).view!;
    const fresh = now.metered.find((m) => m.key === 'api_calls')!;
    expect([fresh.used, fresh.cost.amount, fresh.tone]).toEqual([200, 0, 'ok']);
  });

  it("nothing leaks: another customer's period is NOT_FOUND, and its usage is not counted in its own", async () => {
    expect(await codeOf(as(b).period({ start: T0.toISOString() }))).toBe('NOT_FOUND');
    const own = (await as(b).period()).view!;
    expect(own.metered.find((m) => m.key === 'api_calls')!.used).toBe(0);
    expect(own.period.start).toEqual(at(3 * HOUR));
  });

  it("another app of the tenant: A's id names no customer there, so every read is NOT_FOUND", async () => {
    expect(await codeOf(as(a, other).periods())).toBe('NOT_FOUND');
    expect(await codeOf(as(a, other).period())).toBe('NOT_FOUND');
    expect(await codeOf(as(a, other).period({ start: T0.toISOString() }))).toBe('NOT_FOUND');
  });

  it('a customer who never subscribed: no periods, no view (the page shows its empty state)', async () => {
    expect(await as(never).period()).toEqual({ periods: [], view: null });
  });

  it('a start that is no date is BAD_REQUEST; unknown input fields are refused', async () => {
    expect(await codeOf(as(a).period({ start: 'last-month' }))).toBe('BAD_REQUEST');
    expect(await codeOf(as(a).period({ start: T0.toISOString(), customerId: b } as never))).toBe('BAD_REQUEST');
  });
});
