import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, MAX_PERIODS_PER_ADVANCE, MAX_TOTAL_PERIODS_PER_ADVANCE, silentLogger, type Ledger, type Scope } from '@/server/ledger';
import { rejectsWith } from '../support/engine';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * Test clocks as Stripe has them, on every store: objects of a test scope, each moving
 * only the customers created on it. Plan "Metered": 10.00 a month in advance, API calls
 * at 0.01 each in arrears, at most 1,000 a month.
 */
const REAL = new Date('2025-01-15T10:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const metered = {
  key: 'metered',
  name: 'Metered',
  currency: 'USD',
  interval: { unit: 'month' as const },
  basePrice: 1000,
  features: [
    { key: 'calls', name: 'Calls', kind: 'metered' as const, aggregation: 'sum' as const, limit: 1000, price: { model: 'per_unit' as const, unitPrice: '0.01' } },
  ],
};

describe.each(storeFactories())('test clocks on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  /** An engine whose real time is REAL (a ManualClock), and a fresh test scope with the plan. */
  async function testScope(opts: { grace?: number } = {}) {
    const real = new ManualClock(REAL);
    const ledger = await createLedger({ store: store(), clock: real, logger: silentLogger, invoices: { finalizeGraceMs: opts.grace ?? HOUR } });
    const scope = uniqueScope();
    await ledger.scopes.register(scope, 'test');
    const plan = await ledger.plans.create(scope, metered);
    const customer = async (name: string, testClockId: string | null = null) => {
      const c = await ledger.customers.create(scope, { email: `${name.toLowerCase()}@example.com`, name, testClockId });
      const sub = await ledger.subscriptions.create(scope, { customerId: c.id, planId: plan.id });
      return { ...c, sub };
    };
    const calls = (customerId: string, key: string, quantity: number, at: Date) =>
      ledger.meter.meterDurable(scope, [{ idempotencyKey: key, customerId, featureKey: 'calls', quantity, timestamp: at.toISOString() }]);
    const invoices = async (customerId: string) =>
      (await ledger.invoices.listByCustomer(scope, customerId, { limit: 100 })).items.sort((a, b) => a.issueAt.getTime() - b.issueAt.getTime());
    return { real, ledger, scope, plan, customer, calls, invoices };
  }

  it('two clocks and a customer on neither: advancing one clock moves only its customers', async () => {
    const { real, ledger, scope, customer, calls, invoices } = await testScope();
    const A = await ledger.testClocks.create(scope, { at: REAL, name: 'A' });
    const B = await ledger.testClocks.create(scope, { at: REAL, name: 'B' });
    const a = await customer('Ada', A.id);
    const b = await customer('Bob', B.id);
    const r = await customer('Rae');
    expect(a.testClockId).toBe(A.id);
    expect(r.testClockId).toBeNull();
    expect(await calls(a.id, 'a-jan', 100, REAL)).toMatchObject([{ outcome: { status: 'accepted' } }]);
    // Cached before the advance: the entry of the clock's customer must not outlive it.
    expect(await ledger.entitled(scope, a.id, 'calls')).toMatchObject({ used: 100, remaining: 900 });

    const moved = await ledger.billing.advanceClock(scope, { id: A.id, to: new Date('2025-03-15T12:00:00Z') });
    expect(moved.now).toEqual(new Date('2025-03-15T12:00:00Z'));
    expect(moved.clock).toMatchObject({ id: A.id, name: 'A', now: moved.now });
    // Feb 15 and Mar 15: two renewals, two invoices, each finalized after its hour of grace.
    expect(moved.report).toEqual({ periods: 2, invoicesCreated: 2, invoicesFinalized: 2 });

    // A's customer: periods, invoices and time have moved.
    expect(await ledger.subscriptions.get(scope, a.sub.id)).toMatchObject({ currentPeriodStart: new Date('2025-03-15T10:00:00Z'), currentPeriodEnd: new Date('2025-04-15T10:00:00Z') });
    const ofA = await invoices(a.id);
    expect(ofA.map((i) => [i.issueAt.toISOString(), i.status, i.total])).toEqual([
      ['2025-01-15T10:00:00.000Z', 'open', 1000],
      ['2025-02-15T10:00:00.000Z', 'open', 1100], // 100 calls × 0.01 = 1.00, and the next month's 10.00
      ['2025-03-15T10:00:00.000Z', 'open', 1000],
    ]);
    expect(ledger.now(scope, a.id)).toEqual(new Date('2025-03-15T12:00:00Z'));
    // B's customer and the customer on no clock have not moved.
    for (const other of [b, r]) {
      expect(await ledger.subscriptions.get(scope, other.sub.id)).toMatchObject({ currentPeriodStart: REAL, currentPeriodEnd: new Date('2025-02-15T10:00:00Z') });
      expect((await invoices(other.id)).map((i) => i.billingReason)).toEqual(['subscription_create']);
      expect(ledger.now(scope, other.id)).toEqual(REAL);
    }
    expect((await ledger.testClocks.get(scope, B.id)).now).toEqual(REAL);

    // Usage windows: each event is judged at its customer's time.
    expect(await calls(a.id, 'a-mar', 7, new Date('2025-03-15T11:00:00Z'))).toMatchObject([{ outcome: { status: 'accepted' } }]);
    expect(await calls(a.id, 'a-real', 1, REAL)).toMatchObject([{ outcome: { status: 'rejected', reason: expect.stringContaining('grace window') } }]);
    expect(await calls(r.id, 'r-real', 5, REAL)).toMatchObject([{ outcome: { status: 'accepted' } }]);
    expect(await calls(r.id, 'r-future', 5, new Date('2025-03-15T11:00:00Z'))).toMatchObject([{ outcome: { status: 'rejected', reason: expect.stringContaining('future') } }]);
    // Entitlements: the current period is the customer's.
    expect(await ledger.entitled(scope, a.id, 'calls')).toMatchObject({ allowed: true, used: 7, remaining: 993 });
    expect(await ledger.entitled(scope, r.id, 'calls')).toMatchObject({ allowed: true, used: 5, remaining: 995 });
    expect((await ledger.entitlements.summary(scope, a.id)).features[0]!.period).toEqual({ start: new Date('2025-03-15T10:00:00Z'), end: new Date('2025-04-15T10:00:00Z') });
    expect((await ledger.entitlements.summary(scope, r.id)).features[0]!.period).toEqual({ start: REAL, end: new Date('2025-02-15T10:00:00Z') });

    // The real time passes Feb 15: the cycle renews the customer on no clock, and only it.
    real.set('2025-02-15T12:00:00Z');
    expect(await ledger.runBillingCycle(scope)).toEqual({ periods: 1, invoicesCreated: 1, invoicesFinalized: 1 });
    expect((await invoices(r.id)).map((i) => [i.issueAt.toISOString(), i.total])).toEqual([
      ['2025-01-15T10:00:00.000Z', 1000],
      ['2025-02-15T10:00:00.000Z', 1005], // 5 calls × 0.01 = 0.05, and 10.00
    ]);
    expect((await invoices(b.id)).map((i) => i.billingReason)).toEqual(['subscription_create']);
    expect(await ledger.subscriptions.get(scope, a.sub.id)).toMatchObject({ currentPeriodStart: new Date('2025-03-15T10:00:00Z') });
  });

  it('a customer created on a clock is created at its time; clocks are listed, named, and found only in their scope', async () => {
    const { ledger, scope } = await testScope();
    const A = await ledger.testClocks.create(scope, { at: '2030-06-01T00:00:00Z', name: 'Summer 2030' });
    const B = await ledger.testClocks.create(scope);
    expect(A).toMatchObject({ id: expect.stringMatching(/^clk_/), name: 'Summer 2030', now: new Date('2030-06-01T00:00:00Z'), createdAt: REAL });
    expect(B).toMatchObject({ name: null, now: REAL });
    const c = await ledger.customers.create(scope, { email: 'c@example.com', name: 'C', testClockId: A.id });
    expect(c).toMatchObject({ testClockId: A.id, createdAt: new Date('2030-06-01T00:00:00Z') });
    expect((await ledger.customers.get(scope, c.id)).testClockId).toBe(A.id);
    // Never moved to another clock by an update.
    expect((await ledger.customers.update(scope, c.id, { name: 'Cee' })).testClockId).toBe(A.id);
    const page = await ledger.testClocks.list(scope, { limit: 1 });
    expect(page.items.map((x) => x.id)).toEqual([A.id]);
    expect((await ledger.testClocks.list(scope, { cursor: page.nextCursor! })).items.map((x) => x.id)).toEqual([B.id]);

    // Another test scope does not see them.
    const other = uniqueScope();
    await ledger.scopes.register(other, 'test');
    await rejectsWith(ledger.testClocks.get(other, A.id), 'not_found');
    await rejectsWith(ledger.billing.advanceClock(other, { id: A.id, to: '2030-07-01T00:00:00Z' }), 'not_found');
    await rejectsWith(ledger.testClocks.delete(other, A.id), 'not_found');
    await rejectsWith(ledger.customers.create(other, { email: 'd@example.com', name: 'D', testClockId: A.id }), 'not_found');
    await rejectsWith(ledger.customers.create(scope, { email: 'd@example.com', name: 'D', testClockId: 'cst_01h455vb4pex5vsknk084sn02q' }), 'invalid');
    expect((await ledger.testClocks.list(other)).items).toEqual([]);
  });

  it('a live scope refuses test clocks, and customers on one, with a clear error', async () => {
    const { ledger } = await testScope();
    const unregistered = uniqueScope(); // a scope nobody registered is live
    const live = uniqueScope();
    await ledger.scopes.register(live, 'live');
    for (const s of [unregistered, live]) {
      const e = await rejectsWith(ledger.testClocks.create(s, { at: REAL }), 'illegal_state');
      expect(e.message).toBe('test clocks exist only in test scopes; this scope is live (its keys start ldg_live_)');
      await rejectsWith(ledger.testClocks.list(s), 'illegal_state');
      await rejectsWith(ledger.testClocks.get(s, 'clk_01h455vb4pex5vsknk084sn02q'), 'illegal_state');
      await rejectsWith(ledger.billing.advanceClock(s, { id: 'clk_01h455vb4pex5vsknk084sn02q', to: REAL }), 'illegal_state');
      await rejectsWith(ledger.customers.create(s, { email: 'l@example.com', name: 'L', testClockId: 'clk_01h455vb4pex5vsknk084sn02q' }), 'illegal_state');
      expect((await ledger.customers.list(s)).items).toEqual([]);
    }
    expect(await ledger.scopes.mode(unregistered)).toBe('live');
    // A scope keeps its mode.
    await rejectsWith(ledger.scopes.register(live, 'test'), 'conflict');
    expect(await ledger.scopes.mode(live)).toBe('live');
  });

  it(`one advance is bounded: at most 2 years ahead and ${MAX_PERIODS_PER_ADVANCE} period ends; beyond, invalid and nothing moves`, async () => {
    const { ledger, scope } = await testScope();
    const daily = await ledger.plans.create(scope, { key: 'daily', name: 'Daily', currency: 'USD', interval: { unit: 'day' }, basePrice: 100 });
    const tc = await ledger.testClocks.create(scope, { at: REAL });
    const c = await ledger.customers.create(scope, { email: 'd@example.com', name: 'Daily', testClockId: tc.id });
    const sub = await ledger.subscriptions.create(scope, { customerId: c.id, planId: daily.id });

    const tooFar = await rejectsWith(ledger.billing.advanceClock(scope, { id: tc.id, to: '2027-01-15T10:00:00.001Z' }), 'invalid');
    expect(tooFar.message).toContain('at most 2 years ahead');
    expect(tooFar.issues).toEqual([{ path: 'to', message: 'at most 2027-01-15T10:00:00.000Z' }]);
    const backwards = await rejectsWith(ledger.billing.advanceClock(scope, { id: tc.id, to: new Date(REAL.getTime() - 1) }), 'invalid');
    expect(backwards.message).toContain('only moves forward');
    // MAX + 1 daily period ends away: refused before anything moves.
    const tooMany = await rejectsWith(ledger.billing.advanceClock(scope, { id: tc.id, to: new Date(REAL.getTime() + (MAX_PERIODS_PER_ADVANCE + 1) * DAY) }), 'invalid');
    expect(tooMany.message).toContain(`at most ${MAX_PERIODS_PER_ADVANCE} period ends`);
    expect((await ledger.testClocks.get(scope, tc.id)).now).toEqual(REAL);
    expect((await ledger.invoices.listByCustomer(scope, c.id)).items).toHaveLength(1);

    // Exactly MAX: allowed, each period billed at its own end.
    const done = await ledger.billing.advanceClock(scope, { id: tc.id, to: new Date(REAL.getTime() + MAX_PERIODS_PER_ADVANCE * DAY) });
    expect(done.report).toEqual({ periods: MAX_PERIODS_PER_ADVANCE, invoicesCreated: MAX_PERIODS_PER_ADVANCE, invoicesFinalized: MAX_PERIODS_PER_ADVANCE });
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ currentPeriodStart: new Date(REAL.getTime() + MAX_PERIODS_PER_ADVANCE * DAY) });
    const issued = (await ledger.invoices.listByCustomer(scope, c.id, { limit: 100 })).items.map((i) => i.issueAt.getTime()).sort((x, y) => x - y);
    expect(issued).toEqual(Array.from({ length: MAX_PERIODS_PER_ADVANCE + 1 }, (_, k) => REAL.getTime() + k * DAY));
  }, 240_000);

  it(`the bound is ${MAX_PERIODS_PER_ADVANCE} period ends per subscription, so a clock of ${MAX_PERIODS_PER_ADVANCE + 5} monthly customers still passes their renewal day`, async () => {
    const { ledger, scope, customer } = await testScope();
    const tc = await ledger.testClocks.create(scope, { at: REAL });
    const people = [];
    for (let k = 0; k < MAX_PERIODS_PER_ADVANCE + 5; k++) people.push(await customer(`P${k}`, tc.id));
    // One renewal each on Feb 15: 55 period ends in all, one per subscription.
    const done = await ledger.billing.advanceClock(scope, { id: tc.id, to: '2025-02-15T12:00:00Z' });
    expect(done.report).toEqual({ periods: 55, invoicesCreated: 55, invoicesFinalized: 55 });
    for (const p of [people[0]!, people[54]!]) {
      expect(await ledger.subscriptions.get(scope, p.sub.id)).toMatchObject({ currentPeriodStart: new Date('2025-02-15T10:00:00Z') });
    }
  }, 240_000);

  it(`and at most ${MAX_TOTAL_PERIODS_PER_ADVANCE} period ends across the clock's subscriptions: 5 daily ones 41 days ahead are refused, nothing moves`, async () => {
    const { ledger, scope } = await testScope();
    const daily = await ledger.plans.create(scope, { key: 'daily', name: 'Daily', currency: 'USD', interval: { unit: 'day' }, basePrice: 100 });
    const tc = await ledger.testClocks.create(scope, { at: REAL });
    const subs = [];
    for (let k = 0; k < 5; k++) {
      const c = await ledger.customers.create(scope, { email: `d${k}@example.com`, name: `D${k}`, testClockId: tc.id });
      subs.push(await ledger.subscriptions.create(scope, { customerId: c.id, planId: daily.id }));
    }
    // 41 period ends each (within the per-subscription bound), 205 in all.
    const refused = await rejectsWith(ledger.billing.advanceClock(scope, { id: tc.id, to: new Date(REAL.getTime() + 41 * DAY) }), 'invalid');
    expect(refused.message).toContain(`at most ${MAX_TOTAL_PERIODS_PER_ADVANCE} period ends`);
    expect((await ledger.testClocks.get(scope, tc.id)).now).toEqual(REAL);
    expect(await ledger.subscriptions.get(scope, subs[0]!.id)).toMatchObject({ currentPeriodStart: REAL });
  }, 240_000);

  it("the cycle's report counts only what this run did: 10 concurrent advances of one clock sum to what the database holds", async () => {
    const { ledger, scope, customer, calls } = await testScope();
    const tc = await ledger.testClocks.create(scope, { at: REAL });
    const people = [await customer('One', tc.id), await customer('Two', tc.id), await customer('Three', tc.id)];
    for (const p of people) await calls(p.id, `jan-${p.id}`, 10, REAL);
    const to = new Date('2025-04-15T12:00:00Z'); // three period ends each, and their drafts' grace
    const results = await Promise.all(Array.from({ length: 10 }, () => ledger.billing.advanceClock(scope, { id: tc.id, to })));
    const sum = results.reduce(
      (acc, r) => ({
        periods: acc.periods + r.report.periods,
        invoicesCreated: acc.invoicesCreated + r.report.invoicesCreated,
        invoicesFinalized: acc.invoicesFinalized + r.report.invoicesFinalized,
      }),
      { periods: 0, invoicesCreated: 0, invoicesFinalized: 0 },
    );
    const all = (await Promise.all(people.map((p) => ledger.invoices.listByCustomer(scope, p.id, { limit: 100 })))).flatMap((p) => p.items);
    const cycle = all.filter((i) => i.billingReason === 'subscription_cycle');
    expect(cycle).toHaveLength(9);
    expect(cycle.every((i) => i.status === 'open')).toBe(true);
    expect(sum).toEqual({ periods: 9, invoicesCreated: 9, invoicesFinalized: 9 });
    for (const p of people) expect(await ledger.subscriptions.get(scope, p.sub.id)).toMatchObject({ currentPeriodStart: new Date('2025-04-15T10:00:00Z') });
    expect((await ledger.testClocks.get(scope, tc.id)).now).toEqual(to);
  }, 120_000);

  it('and 10 concurrent runs of the cycle at the real time sum to what the database holds', async () => {
    const { real, ledger, scope, customer } = await testScope();
    const people = [await customer('One'), await customer('Two'), await customer('Three')];
    real.set('2025-02-15T12:00:00Z');
    const reports = await Promise.all(Array.from({ length: 10 }, () => ledger.runBillingCycle(scope)));
    const sum = (k: keyof (typeof reports)[number]) => reports.reduce((n, r) => n + r[k], 0);
    const all = (await Promise.all(people.map((p) => ledger.invoices.listByCustomer(scope, p.id)))).flatMap((p) => p.items);
    const cycle = all.filter((i) => i.billingReason === 'subscription_cycle');
    expect(cycle).toHaveLength(3);
    expect({ periods: sum('periods'), invoicesCreated: sum('invoicesCreated'), invoicesFinalized: sum('invoicesFinalized') }).toEqual({
      periods: 3,
      invoicesCreated: 3,
      invoicesFinalized: cycle.filter((i) => i.status === 'open').length,
    });
  }, 120_000);

  it("a customer created on a clock through another instance lives at the clock's time there too, before that instance's reload", async () => {
    const { real, ledger: a, scope, plan } = await testScope();
    // Instance B was started before the clock and the customer existed (its map reloads every 5 s).
    const b = await createLedger({ store: store(), clock: real, logger: silentLogger, invoices: { finalizeGraceMs: HOUR } });
    const tc = await a.testClocks.create(scope, { at: '2030-06-01T00:00:00Z' });
    const c = await a.customers.create(scope, { email: 'c@example.com', name: 'C', testClockId: tc.id });
    const d = await a.customers.create(scope, { email: 'd@example.com', name: 'D', testClockId: tc.id });
    const at = new Date('2030-06-01T00:00:00Z');

    // The subscription is created through B: at the clock's time, not the real time.
    const sub = await b.subscriptions.create(scope, { customerId: c.id, planId: plan.id });
    expect(sub).toMatchObject({ createdAt: at, currentPeriodStart: at, currentPeriodEnd: new Date('2030-07-01T00:00:00Z') });
    expect((await b.invoices.listByCustomer(scope, c.id)).items.map((i) => [i.issueAt, i.createdAt])).toEqual([[at, at]]);
    // Durable metering through B judges the event at the clock's time (a customer B had not seen).
    await a.subscriptions.create(scope, { customerId: d.id, planId: plan.id });
    const meter = (l: Ledger, customerId: string, key: string, ts: Date) =>
      l.meter.meterDurable(scope, [{ idempotencyKey: key, customerId, featureKey: 'calls', quantity: 3, timestamp: ts.toISOString() }]);
    expect(await meter(b, d.id, 'd-1', at)).toMatchObject([{ outcome: { status: 'accepted' } }]);
    expect(await meter(b, d.id, 'd-real', REAL)).toMatchObject([{ outcome: { status: 'rejected', reason: expect.stringContaining('grace window') } }]);
    expect(await b.entitled(scope, d.id, 'calls')).toMatchObject({ used: 3, remaining: 997 });
    // A cancellation through B ends the subscription at the clock's time.
    const ended = await b.subscriptions.cancel(scope, sub.id, { at: 'now' });
    expect(ended).toMatchObject({ status: 'canceled', endedAt: at, canceledAt: at });
    expect(b.now(scope, c.id)).toEqual(at);
    await b.shutdown();
  });

  it('a deleted clock: its customers\' usage is refused and their entitlements gone, here at once and on another instance at its reload', async () => {
    const { real, ledger: a, scope, customer, calls } = await testScope();
    const b = await createLedger({ store: store(), clock: real, logger: silentLogger });
    const tc = await a.testClocks.create(scope, { at: REAL });
    const c = await customer('Cy', tc.id);
    expect(await calls(c.id, 'c-1', 1, REAL)).toMatchObject([{ outcome: { status: 'accepted' } }]);
    // Both instances have seen the customer: its entitlement is cached, its id known to metering.
    expect(await a.entitled(scope, c.id, 'calls')).toMatchObject({ used: 1 });
    expect(await b.entitled(scope, c.id, 'calls')).toMatchObject({ used: 1 });
    const onB = (key: string) => b.meter.meterDurable(scope, [{ idempotencyKey: key, customerId: c.id, featureKey: 'calls', quantity: 1, timestamp: REAL.toISOString() }]);
    expect(await onB('c-b-1')).toMatchObject([{ outcome: { status: 'accepted' } }]);

    await a.testClocks.delete(scope, tc.id);
    expect(await calls(c.id, 'c-2', 1, REAL)).toMatchObject([{ outcome: { status: 'rejected', reason: `customerId: unknown customer ${c.id}` } }]);
    await rejectsWith(a.entitled(scope, c.id, 'calls'), 'not_found');
    await b.testClocks.load(); // B's next reload (every 5 s) sees the customer gone
    expect(await onB('c-b-2')).toMatchObject([{ outcome: { status: 'rejected', reason: `customerId: unknown customer ${c.id}` } }]);
    await rejectsWith(b.entitled(scope, c.id, 'calls'), 'not_found');
    // Nothing of the customer was written after its deletion.
    expect(await a.store.usage.aggregate(scope, { customerId: c.id, featureKey: 'calls', aggregation: 'sum', from: new Date(0), to: new Date('2100-01-01T00:00:00Z') })).toBe('0');
    await b.shutdown();
  });

  it(`an advance within the bound passes drafts made before it at their own instants (${MAX_PERIODS_PER_ADVANCE} daily period ends and 15 drafts of cancellations)`, async () => {
    const { ledger, scope, plan, calls } = await testScope();
    const daily = await ledger.plans.create(scope, { ...metered, key: 'daily', name: 'Daily', interval: { unit: 'day' as const } });
    const tc = await ledger.testClocks.create(scope, { at: REAL });
    // 15 customers whose subscriptions are canceled now, a minute apart: 15 drafts (their
    // usage), each due an hour after its cancellation.
    const subs: string[] = [];
    for (let i = 0; i < 15; i++) {
      const c = await ledger.customers.create(scope, { email: `c${i}@example.com`, name: `C${i}`, testClockId: tc.id });
      subs.push((await ledger.subscriptions.create(scope, { customerId: c.id, planId: plan.id })).id);
      await calls(c.id, `c${i}`, 1, REAL);
    }
    let t = REAL.getTime();
    for (const id of subs) {
      t += 60_000;
      await ledger.billing.advanceClock(scope, { id: tc.id, to: new Date(t) });
      expect(await ledger.subscriptions.cancel(scope, id, { at: 'now' })).toMatchObject({ endedAt: new Date(t) });
    }
    expect((await ledger.store.invoices.listDraftsDue(scope, new Date(t + 2 * HOUR), 100)).length).toBeGreaterThanOrEqual(15);
    const d = await ledger.customers.create(scope, { email: 'd@example.com', name: 'Daily', testClockId: tc.id });
    const sub = await ledger.subscriptions.create(scope, { customerId: d.id, planId: daily.id });
    for (let k = 0; k < MAX_PERIODS_PER_ADVANCE; k++) await calls(d.id, `d${k}`, 1, new Date(t + k * DAY));
    // Exactly MAX period ends away, each with its draft: allowed, and done.
    const to = new Date(t + MAX_PERIODS_PER_ADVANCE * DAY);
    const done = await ledger.billing.advanceClock(scope, { id: tc.id, to });
    expect(done.now).toEqual(to);
    expect(done.report).toEqual({ periods: MAX_PERIODS_PER_ADVANCE, invoicesCreated: MAX_PERIODS_PER_ADVANCE, invoicesFinalized: 15 + MAX_PERIODS_PER_ADVANCE - 1 });
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ currentPeriodStart: to });
  }, 240_000);

  it('a deleted clock takes its customers with it; the scope, its other clocks and customers stay', async () => {
    const { ledger, scope, customer } = await testScope();
    const A = await ledger.testClocks.create(scope, { at: REAL });
    const B = await ledger.testClocks.create(scope, { at: REAL });
    const a = await customer('Ada', A.id);
    const b = await customer('Bob', B.id);
    const r = await customer('Rae');
    expect(await ledger.testClocks.delete(scope, A.id)).toEqual({ id: A.id, deleted: true, customersDeleted: [a.id] });
    await rejectsWith(ledger.customers.get(scope, a.id), 'not_found');
    await rejectsWith(ledger.subscriptions.get(scope, a.sub.id), 'not_found');
    await rejectsWith(ledger.entitled(scope, a.id, 'calls'), 'not_found');
    await rejectsWith(ledger.testClocks.delete(scope, A.id), 'not_found');
    await rejectsWith(ledger.customers.create(scope, { email: 'late@example.com', name: 'Late', testClockId: A.id }), 'not_found');
    expect((await ledger.testClocks.list(scope)).items.map((x) => x.id)).toEqual([B.id]);
    for (const other of [b, r]) expect((await ledger.invoices.listByCustomer(scope, other.id)).items).toHaveLength(1);
  });
});

export type { Ledger, Scope };
