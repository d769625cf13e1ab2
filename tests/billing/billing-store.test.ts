import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, newId, silentLogger, scopeKey, type DueWork, type TestClock } from '@/server/ledger';
import { customerRow } from '../support/builders';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * The billing store on every store: the scheduler's search of due work (each customer at
 * its own time: its test clock's when it is on one) and test clocks, which move only
 * forward and take their customers with them when deleted.
 */
describe.each(storeFactories())('billing store on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  it('finds work due: an ended period or a due draft, each customer at its own time, per scope and per clock', async () => {
    const clock = new ManualClock('2025-01-15T10:00:00Z');
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger });
    const subscribe = async (s: ReturnType<typeof uniqueScope>, testClockId: string | null = null) => {
      const p = (await ledger.plans.getByKey(s, 'p').catch(() => null)) ?? (await ledger.plans.create(s, { key: 'p', name: 'P', currency: 'USD', interval: { unit: 'month' }, basePrice: 100 }));
      // Due in 60 days: the first invoice's due date (dunning's work) comes after the period end.
      const c = await ledger.customers.create(s, { email: 'x@example.com', name: 'X', testClockId, daysUntilDue: 60 });
      return ledger.subscriptions.create(s, { customerId: c.id, planId: p.id });
    };
    const real = uniqueScope();
    await subscribe(real); // period ends 2025-02-15T10:00Z
    const rehearsed = uniqueScope();
    await ledger.scopes.register(rehearsed, 'test');
    const tc = await ledger.testClocks.create(rehearsed, { at: new Date('2025-01-15T10:00:00Z') });
    await subscribe(rehearsed, tc.id); // on the clock
    await subscribe(rehearsed); // on no clock, in the same scope

    const key = (w: DueWork) => `${scopeKey(w.scope)}/${w.testClockId ?? 'real'}`;
    const due = async (at: string) => new Set((await store().billing.dueWork(new Date(at), 10_000)).map(key));
    const realWork = `${scopeKey(real)}/real`;
    const rehearsedReal = `${scopeKey(rehearsed)}/real`;
    const rehearsedClock = `${scopeKey(rehearsed)}/${tc.id}`;
    expect((await due('2025-02-15T09:59:59Z')).has(realWork)).toBe(false);
    expect([...(await due('2025-02-15T10:00:00Z'))].filter((k) => k.startsWith(scopeKey(real)) || k.startsWith(scopeKey(rehearsed))).sort()).toEqual(
      [realWork, rehearsedReal].sort(),
    );
    // The clock's customer lives at the clock's time, whatever the real time.
    expect((await due('2030-01-01T00:00:00Z')).has(rehearsedClock)).toBe(false);
    await ledger.testClocks.move(rehearsed, tc.id, new Date('2025-02-15T10:00:00Z'));
    const early = await due('2025-01-01T00:00:00Z');
    expect(early.has(rehearsedClock)).toBe(true);
    expect(early.has(rehearsedReal)).toBe(false);
    expect(await ledger.billing.runClock(rehearsed, tc.id)).toEqual({ periods: 1, invoicesCreated: 1, invoicesFinalized: 1 });
    expect((await due('2025-01-01T00:00:00Z')).has(rehearsedClock)).toBe(false);
  });

  it('test clocks: several per scope, paged, forward only (a move never goes back), each scope its own', async () => {
    const b = store().billing;
    const s = uniqueScope();
    const t0 = new Date('2025-03-01T00:00:00Z');
    const t1 = new Date('2025-04-01T00:00:00Z');
    const at = new Date('2026-01-01T00:00:00Z');
    const make = (name: string | null, now: Date): TestClock => ({ id: newId('testClock'), name, now, createdAt: at, updatedAt: at });
    const a = make('a', t0);
    const c = make(null, t1);
    await b.insertTestClock(s, a);
    await b.insertTestClock(s, c);
    expect(await b.getTestClock(s, a.id)).toEqual(a);
    expect(await b.getTestClock(uniqueScope(), a.id)).toBeNull();
    expect(await b.countTestClocks(s)).toBe(2);
    expect(await b.listTestClocks(s, { limit: 1 })).toEqual([a, c]); // limit + 1 rows
    expect(await b.listTestClocks(s, { limit: 10, cursor: a.id })).toEqual([c]);
    expect(await b.moveTestClock(s, a.id, new Date('2025-02-01T00:00:00Z'), at)).toMatchObject({ now: t0 }); // not back
    expect(await b.moveTestClock(s, a.id, t1, at)).toMatchObject({ now: t1 });
    expect(await b.moveTestClock(s, newId('testClock'), t1, at)).toBeNull();
    expect((await b.allTestClocks()).find((x) => x.clock.id === a.id)).toEqual({ scope: s, clock: { ...a, now: t1 } });
    expect(await b.deleteTestClock(s, c.id)).toEqual([]);
    expect(await b.deleteTestClock(s, c.id)).toBeNull();
    expect(await b.countTestClocks(s)).toBe(1);
  });

  it("deleting a clock deletes its customers and all of theirs (subscriptions, invoices, usage), and nobody else's", async () => {
    const clock = new ManualClock('2025-01-15T10:00:00Z');
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger });
    const s = uniqueScope();
    await ledger.scopes.register(s, 'test');
    const tc = await ledger.testClocks.create(s, { at: new Date('2025-01-15T10:00:00Z'), name: 'gone soon' });
    const p = await ledger.plans.create(s, {
      key: 'p',
      name: 'P',
      currency: 'USD',
      interval: { unit: 'month' },
      basePrice: 100,
      features: [{ key: 'calls', name: 'Calls', kind: 'metered', aggregation: 'sum', price: { model: 'per_unit', unitPrice: '1' } }],
    });
    const onClock = await ledger.customers.create(s, { email: 'c@example.com', name: 'On the clock', testClockId: tc.id });
    const bystander = await ledger.customers.create(s, { email: 'b@example.com', name: 'Bystander' });
    for (const c of [onClock, bystander]) {
      await ledger.subscriptions.create(s, { customerId: c.id, planId: p.id });
      await ledger.meter.meterDurable(s, [{ idempotencyKey: `e-${c.id}`, customerId: c.id, featureKey: 'calls', quantity: 3, timestamp: '2025-01-15T10:00:00Z' }]);
    }
    expect(await store().billing.countTestClockCustomers(s, tc.id)).toBe(1);
    expect((await store().billing.allTestClockCustomers()).filter((r) => r.testClockId === tc.id)).toEqual([{ scope: s, customerId: onClock.id, testClockId: tc.id }]);

    expect(await ledger.testClocks.delete(s, tc.id)).toEqual({ id: tc.id, deleted: true, customersDeleted: [onClock.id] });
    await expect(ledger.customers.get(s, onClock.id)).rejects.toMatchObject({ code: 'not_found' });
    expect((await store().subscriptions.listByCustomer(s, onClock.id, { limit: 10 }))).toEqual([]);
    expect(await store().invoices.listByCustomer(s, onClock.id, { limit: 10 })).toEqual([]);
    const window = { featureKey: 'calls', aggregation: 'sum' as const, from: new Date('2025-01-01T00:00:00Z'), to: new Date('2025-02-01T00:00:00Z') };
    expect(await store().usage.aggregate(s, { ...window, customerId: onClock.id })).toBe('0');
    // The bystander keeps everything.
    expect((await ledger.customers.get(s, bystander.id)).id).toBe(bystander.id);
    expect((await ledger.invoices.listByCustomer(s, bystander.id)).items).toHaveLength(1);
    expect(await store().usage.aggregate(s, { ...window, customerId: bystander.id })).toBe('3');
    // Its id is free of the clock: the engine forgot the customer's clock too.
    expect(ledger.now(s, onClock.id)).toEqual(clock.now());
    await expect(ledger.testClocks.get(s, tc.id)).rejects.toMatchObject({ code: 'not_found' });
    // A customer row naming a clock the scope does not have is refused by the store.
    if (factory.name !== 'memory') {
      await expect(store().customers.insert(s, customerRow({ testClockId: tc.id }))).rejects.toMatchObject({ code: 'not_found' });
    }
  });

  it('a credit note cannot exceed what the invoice charged net of credit already applied and credited', async () => {
    const clock = new ManualClock('2025-04-01T00:00:00Z');
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger });
    const s = uniqueScope();
    const plus = await ledger.plans.create(s, { key: 'plus', name: 'Plus', currency: 'USD', interval: { unit: 'month' }, basePrice: 2000 });
    const basic = await ledger.plans.create(s, { key: 'basic', name: 'Basic', currency: 'USD', interval: { unit: 'month' }, basePrice: 1000 });
    const c = await ledger.customers.create(s, { email: 'z@example.com', name: 'Z' });
    const sub = await ledger.subscriptions.create(s, { customerId: c.id, planId: plus.id });
    clock.set('2025-04-16T00:00:00Z');
    await ledger.subscriptions.changePlan(s, sub.id, { planId: basic.id, downgradeAt: 'now' }); // a 5.00 credit
    clock.set('2025-05-01T00:00:00Z');
    await ledger.billing.run(s);
    const cycle = (await ledger.invoices.listByCustomer(s, c.id)).items.find((i) => i.billingReason === 'subscription_cycle')!;
    expect(cycle).toMatchObject({ total: 1000, creditApplied: 500, amountDue: 500 });
    await expect(ledger.invoices.createCreditNote(s, cycle.id, { amount: 501, reason: 'billing_error' })).rejects.toMatchObject({ code: 'invalid' });
    expect((await ledger.invoices.createCreditNote(s, cycle.id, { amount: 500, reason: 'billing_error' })).invoice.amountDue).toBe(0);
  });
});
