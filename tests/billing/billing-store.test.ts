import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, scopeKey } from '@/server/ledger';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * The billing store on every store: the scheduler's search of due scopes (each scope at
 * its own time, a test clock's when it has one) and test clocks that only move forward.
 */
describe.each(storeFactories())('billing store on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  it('finds scopes with an ended period or a due draft, each at its own time, and none other', async () => {
    const clock = new ManualClock('2025-01-15T10:00:00Z');
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger });
    const make = async () => {
      const s = uniqueScope();
      const p = await ledger.plans.create(s, { key: 'p', name: 'P', currency: 'USD', interval: { unit: 'month' }, basePrice: 100 });
      const c = await ledger.customers.create(s, { email: 'x@example.com', name: 'X' });
      await ledger.subscriptions.create(s, { customerId: c.id, planId: p.id });
      return s;
    };
    const real = await make(); // period ends 2025-02-15T10:00Z
    const rehearsed = uniqueScope();
    await ledger.testClocks.create(rehearsed, { at: new Date('2025-01-15T10:00:00Z') });
    const p = await ledger.plans.create(rehearsed, { key: 'p', name: 'P', currency: 'USD', interval: { unit: 'month' }, basePrice: 100 });
    const c = await ledger.customers.create(rehearsed, { email: 'y@example.com', name: 'Y' });
    await ledger.subscriptions.create(rehearsed, { customerId: c.id, planId: p.id });

    const due = async (at: string) => new Set((await store().billing.dueScopes(new Date(at), 10_000)).map(scopeKey));
    expect((await due('2025-02-15T09:59:59Z')).has(scopeKey(real))).toBe(false);
    expect((await due('2025-02-15T10:00:00Z')).has(scopeKey(real))).toBe(true);
    // the rehearsed scope lives at its clock's time, whatever the real time
    expect((await due('2030-01-01T00:00:00Z')).has(scopeKey(rehearsed))).toBe(false);
    await ledger.testClocks.move(rehearsed, new Date('2025-02-15T10:00:00Z'));
    expect((await due('2025-01-01T00:00:00Z')).has(scopeKey(rehearsed))).toBe(true);
    await ledger.billing.run(rehearsed);
    expect((await due('2025-01-01T00:00:00Z')).has(scopeKey(rehearsed))).toBe(false);
  });

  it('a test clock is one per scope, moves only forward and only from where it is', async () => {
    const s = uniqueScope();
    const t0 = new Date('2025-03-01T00:00:00Z');
    const t1 = new Date('2025-04-01T00:00:00Z');
    expect(await store().billing.getTestClock(s)).toBeNull();
    expect(await store().billing.createTestClock(s, t0)).toBe(true);
    expect(await store().billing.createTestClock(s, t1)).toBe(false);
    expect(await store().billing.moveTestClock(s, t1, t0)).toBe(false); // not where it is
    expect(await store().billing.moveTestClock(s, t0, new Date('2025-02-01T00:00:00Z'))).toBe(false); // backwards
    expect(await store().billing.moveTestClock(s, t0, t1)).toBe(true);
    expect(await store().billing.getTestClock(s)).toEqual(t1);
    expect(await store().billing.getTestClock(uniqueScope())).toBeNull();
    expect((await store().billing.allTestClocks()).some((c) => scopeKey(c.scope) === scopeKey(s) && c.now.getTime() === t1.getTime())).toBe(true);
    expect(await store().billing.deleteTestClock(s)).toBe(true);
    expect(await store().billing.getTestClock(s)).toBeNull();
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
