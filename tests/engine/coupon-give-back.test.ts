import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, type Invoice } from '@/server/ledger';
import { rejectsWith } from '../support/engine';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * A voided invoice gives back what it spent of a carried-over coupon amount (`carryOver`),
 * once, on every store. Plan "basic": 30.00 a month in advance, no tax. Coupon FIFTY:
 * 50.00 off, forever, carried over. January 15's invoice takes 30.00 of it (0.00, paid),
 * February 15's the 20.00 left (10.00 due, open): that is the one voided.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const HOUR = 3_600_000;

describe.each(storeFactories())('coupon carry-over given back on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function setup() {
    const clock = new ManualClock(T0);
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger, invoices: { finalizeGraceMs: HOUR } });
    const scope = uniqueScope();
    const plan = await ledger.plans.create(scope, { key: 'basic', name: 'Basic', currency: 'USD', interval: { unit: 'month' }, basePrice: 3000 });
    const customer = await ledger.customers.create(scope, { email: 'b@example.com', name: 'Billie' });
    await ledger.coupons.create(scope, { code: 'FIFTY', name: 'FIFTY', amountOff: 5000, currency: 'USD', duration: 'forever', carryOver: true });
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, couponCode: 'FIFTY' });
    const invoices = async (): Promise<Invoice[]> =>
      (await ledger.invoices.listByCustomer(scope, customer.id, { limit: 100 })).items.sort((a, b) => a.issueAt.getTime() - b.issueAt.getTime() || (a.id < b.id ? -1 : 1));
    /** Runs the cycle at `iso` plus 2 hours, past the drafts' hour of grace. */
    const runTo = async (iso: string) => {
      clock.set(new Date(new Date(iso).getTime() + 2 * HOUR));
      await ledger.billing.run(scope);
    };
    const left = async () => (await ledger.coupons.redemption(scope, sub.id))!.amountRemaining;
    await runTo('2025-02-15T10:00:00Z');
    const february = (await invoices())[1]!;
    return { ledger, clock, scope, customer, sub, invoices, runTo, left, february };
  }

  it('voiding February (20.00 off) gives the 20.00 back: March takes it again', async () => {
    const { ledger, scope, invoices, runTo, left, february } = await setup();
    expect(february).toMatchObject({ status: 'open', discount: 2000, total: 1000 });
    expect(await left()).toBe(0);

    await ledger.invoices.void(scope, february.id, { reason: 'billed twice' });
    expect(await left()).toBe(2000);

    await runTo('2025-03-15T10:00:00Z');
    expect((await invoices()).map((i) => [i.status, i.discount, i.total])).toEqual([
      ['paid', 3000, 0],
      ['void', 2000, 1000],
      ['open', 2000, 1000],
    ]);
    expect(await left()).toBe(0);
  });

  it('voiding twice gives back once: the second is illegal_state, 20.00 left, not 40.00', async () => {
    const { ledger, scope, left, february } = await setup();
    await ledger.invoices.void(scope, february.id);
    await rejectsWith(ledger.invoices.void(scope, february.id), 'illegal_state');
    expect(await left()).toBe(2000);
  });

  it('two voids at once give back once: one voids, the other is illegal_state; 20.00 left', async () => {
    const { ledger, scope, left, february } = await setup();
    const results = await Promise.allSettled([ledger.invoices.void(scope, february.id), ledger.invoices.void(scope, february.id)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect((failed.reason as { code?: string }).code).toBe('illegal_state');
    expect(await left()).toBe(2000);
  });

  it('the store gives an invoice\'s spend back once: of two giveBacks at once one gives 20.00, the other 0, and a third 0', async () => {
    const { ledger, scope, left, february } = await setup();
    const at = new Date('2025-02-16T00:00:00Z');
    const both = await Promise.all([ledger.store.coupons.giveBack(scope, february.id, at), ledger.store.coupons.giveBack(scope, february.id, at)]);
    expect(both.sort((a, b) => a - b)).toEqual([0, 2000]);
    expect(await ledger.store.coupons.giveBack(scope, february.id, at)).toBe(0);
    expect(await left()).toBe(2000);
  });

  it('an invoice that spent nothing of the balance gives nothing back: voiding March (no discount left) leaves 0', async () => {
    const { ledger, scope, invoices, runTo, left } = await setup();
    await runTo('2025-03-15T10:00:00Z');
    const march = (await invoices())[2]!;
    expect(march).toMatchObject({ status: 'open', discount: 0, total: 3000 });
    await ledger.invoices.void(scope, march.id);
    expect(await left()).toBe(0);
  });

  it('a void gives back the coupon and the prepaid credits together: February 10.00 after 20.00 off, 5.00 of credits, 5.00 due; voided: 20.00 left and 5.00 of credits', async () => {
    const { ledger, scope, customer, sub, left, february } = await setup();
    await ledger.invoices.void(scope, february.id); // 20.00 back, for the invoice below
    expect(await left()).toBe(2000);
    // February's invoice again, with 5.00 of credits in the wallet to pay part of it.
    const { wallet } = await ledger.wallets.create(scope, { customerId: customer.id, currency: 'USD' });
    await ledger.wallets.grant(scope, { walletId: wallet.id, amount: 500 });
    const fresh = await ledger.subscriptions.get(scope, sub.id);
    const { invoice: draft } = await ledger.invoices.create(scope, fresh, 'subscription_update', 'both', fresh.currentPeriodStart, {
      advance: { planId: fresh.planId, quantity: 1, overrides: {}, start: fresh.currentPeriodStart, end: fresh.currentPeriodEnd },
      usage: null,
      prorations: [],
      couponId: fresh.discount!.couponId,
    });
    const inv = await ledger.invoices.finalize(scope, draft.id);
    expect(inv).toMatchObject({ discount: 2000, total: 1000, walletApplied: 500, amountDue: 500, status: 'open' });
    expect(await left()).toBe(0);
    expect((await ledger.wallets.balance(scope, wallet.id)).balance).toBe(0);

    await ledger.invoices.void(scope, inv.id);
    expect(await left()).toBe(2000);
    expect((await ledger.wallets.balance(scope, wallet.id)).balance).toBe(500);
  });
});
