import { afterEach, describe, expect, it, vi } from 'vitest';
import { startBillingSchedule, type BillingSchedule } from '@/server/billing-schedule';
import { createLedger, ManualClock, newId, scope, silentLogger, type CycleReport, type Ledger, type Scope } from '@/server/ledger';
import { customerRow, subscriptionRow } from '../support/builders';
import { capturingLogger } from '../support/engine';

/**
 * The app's billing schedule on an engine with the memory store: it finds the work due
 * (per scope, and per test clock at the clock's time) and runs each cycle, one run at a
 * time, logging failures and carrying on.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const PERIOD_END = new Date('2025-02-15T10:00:00.000Z');
const HOUR = 3_600_000;
const NOTHING: CycleReport = { periods: 0, invoicesCreated: 0, invoicesFinalized: 0 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let schedule: BillingSchedule | null = null;
afterEach(async () => {
  await schedule?.stop();
  schedule = null;
  vi.restoreAllMocks();
});

/**
 * A test scope with a customer on a test clock at T0 with a monthly subscription, due at
 * PERIOD_END in the clock's time; with `due`, the clock is moved there (without running
 * its cycle, as an advance that failed midway would leave it).
 */
async function subscribed(ledger: Ledger, s: Scope, due = false) {
  await ledger.scopes.register(s, 'test');
  const clock = await ledger.testClocks.create(s, { at: T0 });
  const plan = await ledger.plans.create(s, { key: 'p', name: 'P', currency: 'USD', interval: { unit: 'month' }, basePrice: 1000 });
  const customer = await ledger.customers.create(s, { email: 'c@example.com', name: 'C', testClockId: clock.id });
  const sub = await ledger.subscriptions.create(s, { customerId: customer.id, planId: plan.id });
  if (due) await ledger.testClocks.move(s, clock.id, new Date(PERIOD_END.getTime() + 2 * HOUR));
  return { ...sub, clock };
}

/** A scope whose cycle throws: a subscription due long ago whose plan does not exist. */
async function broken(ledger: Ledger, s: Scope) {
  const customer = customerRow();
  await ledger.store.customers.insert(s, customer);
  await ledger.store.subscriptions.insert(s, subscriptionRow(customer.id, newId('plan'), { status: 'active', trialStart: null, trialEnd: null }));
}

describe('billing schedule', () => {
  it('processes the webhook events left pending before each run; a failure there is logged and billing still runs', async () => {
    const ledger = await createLedger({ logger: silentLogger });
    const sub = await subscribed(ledger, scope('schedule-hooks', 'app'), true);
    const pending = vi.spyOn(ledger.webhooks, 'processPending').mockRejectedValueOnce(new Error('inbox down'));
    const log = capturingLogger();
    schedule = startBillingSchedule({ ledger }, 20, log);
    for (let i = 0; i < 2000 && pending.mock.calls.length < 2; i++) await sleep(10); // at most 20 s on a busy machine
    expect(pending.mock.calls.length).toBeGreaterThanOrEqual(2);
    expect(log.entries.some((e) => e.level === 'error' && e.msg === 'billing schedule: could not process pending webhook events')).toBe(true);
    // The first tick's failure did not stop its billing: the due subscription renewed.
    await schedule.stop();
    expect((await ledger.subscriptions.get(scope('schedule-hooks', 'app'), sub.id)).currentPeriodStart).toEqual(PERIOD_END);
  });

  it('renews a due subscription once its clock’s time has come; a failing scope is logged and the others still run', async () => {
    const ledger = await createLedger({ logger: silentLogger });
    const BAD = scope('schedule-bad', 'app');
    const GOOD = scope('schedule-good', 'app');
    await broken(ledger, BAD); // first, so it is run before GOOD
    const sub = await subscribed(ledger, GOOD);
    const runClock = vi.spyOn(ledger.billing, 'runClock');
    const log = capturingLogger();
    const failures = () => log.entries.filter((e) => e.level === 'error' && e.msg === 'billing cycle failed');

    schedule = startBillingSchedule({ ledger }, 20, log);
    // Ticks come: BAD fails (logged); GOOD lives at its clock's time, where nothing is due
    // yet, so it is not even run.
    await vi.waitFor(() => expect(failures().length).toBeGreaterThanOrEqual(2));
    expect(failures()[0]!.data).toMatchObject({ tenantId: 'schedule-bad', appId: 'app', code: 'not_found' });
    expect(runClock).not.toHaveBeenCalled();
    expect((await ledger.subscriptions.get(GOOD, sub.id)).currentPeriodStart).toEqual(T0);

    // Time passes on GOOD's clock (without running its cycle): the next tick renews it.
    await ledger.testClocks.move(GOOD, sub.clock.id, new Date(PERIOD_END.getTime() + 2 * HOUR));
    await vi.waitFor(async () => expect((await ledger.subscriptions.get(GOOD, sub.id)).currentPeriodStart).toEqual(PERIOD_END));
    const invoices = (await ledger.invoices.listByCustomer(GOOD, sub.customerId)).items;
    expect(invoices.map((i) => [i.billingReason, i.status])).toEqual([
      ['subscription_create', 'open'],
      ['subscription_cycle', 'open'],
    ]);
    await vi.waitFor(() =>
      expect(log.entries).toContainEqual({ level: 'info', msg: 'billing cycle', data: { tenantId: 'schedule-good', appId: 'app', testClockId: sub.clock.id, periods: 1, invoicesCreated: 1, invoicesFinalized: 1 } }),
    );
    // The failing scope kept failing, logged each time, and never stopped the schedule.
    expect(failures().length).toBeGreaterThanOrEqual(3);
  });

  it('one run at a time: ticks that come while a run is going are skipped', async () => {
    const ledger = await createLedger({ logger: silentLogger });
    await subscribed(ledger, scope('one-at-a-time', 'app'), true);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inFlight = 0;
    let most = 0;
    const run = vi.spyOn(ledger.billing, 'runClock').mockImplementation(async () => {
      most = Math.max(most, ++inFlight);
      await gate;
      inFlight--;
      return NOTHING;
    });

    schedule = startBillingSchedule({ ledger }, 10, silentLogger);
    await vi.waitFor(() => expect(run).toHaveBeenCalledTimes(1));
    await sleep(100); // ten ticks
    expect(run).toHaveBeenCalledTimes(1);
    release();
    await vi.waitFor(() => expect(run.mock.calls.length).toBeGreaterThanOrEqual(3));
    expect(most).toBe(1);
  });

  it('stop(): no run starts after it, and it waits for the run in flight, which stops before its next scope', async () => {
    const ledger = await createLedger({ logger: silentLogger });
    const A = scope('stop-a', 'app');
    const B = scope('stop-b', 'app');
    await subscribed(ledger, A, true);
    await subscribed(ledger, B, true);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const run = vi.spyOn(ledger.billing, 'runClock').mockImplementation(async () => {
      await gate;
      return NOTHING;
    });

    schedule = startBillingSchedule({ ledger }, 10, silentLogger);
    await vi.waitFor(() => expect(run).toHaveBeenCalledTimes(1));
    let stopped = false;
    const stopping = schedule.stop().then(() => (stopped = true));
    await sleep(50);
    expect(stopped).toBe(false); // the first scope's run is still going
    release();
    await stopping;
    expect(run).toHaveBeenCalledTimes(1); // the second scope was not started
    await sleep(50);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('a failure to find the due scopes is logged, and the next tick tries again', async () => {
    const ledger = await createLedger({ logger: silentLogger });
    await subscribed(ledger, scope('flaky-store', 'app'), true);
    const due = vi.spyOn(ledger.store.billing, 'dueWork').mockRejectedValueOnce(new Error('connection reset'));
    const run = vi.spyOn(ledger.billing, 'runClock');
    const log = capturingLogger();
    schedule = startBillingSchedule({ ledger }, 10, log);
    await vi.waitFor(() => expect(run).toHaveBeenCalled());
    expect(due.mock.calls.length).toBeGreaterThanOrEqual(2);
    expect(log.entries[0]).toMatchObject({ level: 'error', data: { error: 'connection reset' } });
  });

  it('the real time moves only the customers on no clock: a clock’s customers wait for their clock', async () => {
    const real = new ManualClock(T0);
    const ledger = await createLedger({ clock: real, logger: silentLogger });
    const s = scope('schedule-mixed', 'app');
    const onClock = await subscribed(ledger, s); // its clock stays at T0
    const plan = await ledger.plans.getByKey(s, 'p');
    const customer = await ledger.customers.create(s, { email: 'r@example.com', name: 'Real' });
    const sub = await ledger.subscriptions.create(s, { customerId: customer.id, planId: plan.id });
    real.set(new Date(PERIOD_END.getTime() + 2 * HOUR));
    const runClock = vi.spyOn(ledger.billing, 'runClock');
    const log = capturingLogger();
    schedule = startBillingSchedule({ ledger }, 10, log);
    await vi.waitFor(async () => expect((await ledger.subscriptions.get(s, sub.id)).currentPeriodStart).toEqual(PERIOD_END));
    await sleep(50); // more ticks
    expect(runClock).not.toHaveBeenCalled();
    expect((await ledger.subscriptions.get(s, onClock.id)).currentPeriodStart).toEqual(T0);
    expect((await ledger.invoices.listByCustomer(s, onClock.customerId)).items).toHaveLength(1);
    expect(log.entries).toContainEqual({ level: 'info', msg: 'billing cycle', data: { tenantId: 'schedule-mixed', appId: 'app', periods: 1, invoicesCreated: 1, invoicesFinalized: 1 } });
  });

  it('its timer does not keep the process alive, and an interval below 1 ms is refused', async () => {
    const ledger = await createLedger({ logger: silentLogger });
    const setInterval = vi.spyOn(globalThis, 'setInterval');
    schedule = startBillingSchedule({ ledger }, 60_000, silentLogger);
    const timer = setInterval.mock.results[0]!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    expect(() => startBillingSchedule({ ledger }, 0)).toThrow(RangeError);
  });
});
