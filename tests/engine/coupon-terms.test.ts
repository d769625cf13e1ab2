import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { couponWindowEnd } from '@/server/ledger/coupon/apply';
import { createLedger, ManualClock, silentLogger, type Invoice } from '@/server/ledger';
import type { CreateCouponInput } from '@/server/ledger/coupon/types';
import { rejectsWith } from '../support/engine';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * Coupon terms, on every store, with concrete numbers: repeating coupons counted in
 * months from the redemption (Stripe's duration_in_months), fixed amounts that carry
 * over to the next invoices (Lago's amount_cents_remaining), and the currency of a
 * fixed amount. Plans: "basic" 30.00 a month, "annual" 300.00 a year, "euro" 30.00 EUR a
 * month, all billed in advance; no tax.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const HOUR = 3_600_000;

const basic = { key: 'basic', name: 'Basic', currency: 'USD', interval: { unit: 'month' as const }, basePrice: 3000 };
const annual = { key: 'annual', name: 'Annual', currency: 'USD', interval: { unit: 'year' as const }, basePrice: 30000 };
const euro = { key: 'euro', name: 'Euro', currency: 'EUR', interval: { unit: 'month' as const }, basePrice: 3000 };

describe('couponWindowEnd: months counted in calendar months from the redemption, UTC', () => {
  const months = (n: number) => ({ duration: 'repeating' as const, durationPeriods: null, durationInMonths: n });
  it('4 months from January 15, 10:00 end on May 15, 10:00', () => {
    expect(couponWindowEnd(months(4), T0)).toEqual(new Date('2025-05-15T10:00:00.000Z'));
  });
  it('a day the month lacks is its last day: 1 month from January 31 ends February 28; 13 from then, February 29, 2028 is not reached (2026)', () => {
    expect(couponWindowEnd(months(1), new Date('2025-01-31T10:00:00Z'))).toEqual(new Date('2025-02-28T10:00:00Z'));
    expect(couponWindowEnd(months(13), new Date('2025-01-31T10:00:00Z'))).toEqual(new Date('2026-02-28T10:00:00Z'));
  });
  it('a coupon counted in invoices, or once or forever, has no window', () => {
    expect(couponWindowEnd({ duration: 'repeating', durationPeriods: 4 }, T0)).toBeNull();
    expect(couponWindowEnd({ duration: 'forever', durationPeriods: null }, T0)).toBeNull();
  });
});

describe.each(storeFactories())('coupon terms on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function setup() {
    const clock = new ManualClock(T0);
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger, invoices: { finalizeGraceMs: HOUR } });
    const scope = uniqueScope();
    const plans = {
      basic: await ledger.plans.create(scope, basic),
      annual: await ledger.plans.create(scope, annual),
      euro: await ledger.plans.create(scope, euro),
    };
    const customer = await ledger.customers.create(scope, { email: 'b@example.com', name: 'Billie' });
    const invoices = async (customerId = customer.id): Promise<Invoice[]> =>
      (await ledger.invoices.listByCustomer(scope, customerId, { limit: 100 })).items.sort((a, b) => a.issueAt.getTime() - b.issueAt.getTime() || (a.id < b.id ? -1 : 1));
    const coupon = (input: Partial<CreateCouponInput> & Pick<CreateCouponInput, 'code' | 'duration'>) =>
      ledger.coupons.create(scope, { name: input.code, ...input } as CreateCouponInput);
    /** Runs the cycle at `iso` plus 2 hours, past the drafts' hour of grace. */
    const runTo = async (iso: string) => {
      clock.set(new Date(new Date(iso).getTime() + 2 * HOUR));
      await ledger.billing.run(scope);
    };
    return { ledger, clock, scope, plans, customer, invoices, coupon, runTo };
  }

  describe('create: the new terms and their checks', () => {
    it('stores a repeating coupon counted in months, and one whose amount carries over; defaults are today\'s', async () => {
      const { ledger, scope, coupon } = await setup();
      const months = await coupon({ code: 'FOURMONTHS', percentOff: '25', duration: 'repeating', durationInMonths: 4 });
      expect(months).toMatchObject({ duration: 'repeating', durationPeriods: null, durationInMonths: 4, carryOver: false });
      const carry = await coupon({ code: 'HUNDRED', amountOff: 10000, currency: 'USD', duration: 'forever', carryOver: true });
      expect(carry).toMatchObject({ amountOff: 10000, currency: 'USD', duration: 'forever', durationInMonths: null, carryOver: true });
      const plain = await coupon({ code: 'PLAIN', amountOff: 500, currency: 'USD', duration: 'repeating', durationPeriods: 3 });
      expect(plain).toMatchObject({ durationPeriods: 3, durationInMonths: null, carryOver: false });
      for (const c of [months, carry, plain]) expect(await ledger.coupons.get(scope, c.id)).toEqual(c);
    });

    it.each([
      ['both durationPeriods and durationInMonths', { duration: 'repeating', durationPeriods: 4, durationInMonths: 4 }, 'durationInMonths'],
      ['repeating with neither', { duration: 'repeating' }, 'durationPeriods'],
      ['durationInMonths on a forever coupon', { duration: 'forever', durationInMonths: 4 }, 'durationInMonths'],
      ['0 months', { duration: 'repeating', durationInMonths: 0 }, 'durationInMonths'],
      ['carryOver on a percentage', { duration: 'forever', carryOver: true }, 'carryOver'],
      ['carryOver on a once coupon', { duration: 'once', amountOff: 1000, currency: 'USD', percentOff: null, carryOver: true }, 'carryOver'],
    ] as const)('rejects %s as invalid, naming the field, and stores nothing', async (_, terms, field) => {
      const { ledger, scope } = await setup();
      const err = await rejectsWith(ledger.coupons.create(scope, { code: 'BAD', name: 'Bad', percentOff: '10', ...terms } as CreateCouponInput), 'invalid');
      expect(err.issues.map((i) => i.path)).toContain(field);
      expect((await ledger.coupons.list(scope)).items).toEqual([]);
    });
  });

  describe('durationInMonths: invoices issued before the window ends (redemption + N months) are discounted', () => {
    it('4 months of 25 % from January 15 on a monthly 30.00 plan: the January to April invoices, 4 × 7.50; May 15 is the window\'s end, not discounted', async () => {
      const { ledger, scope, plans, customer, invoices, coupon, runTo } = await setup();
      await coupon({ code: 'FOURMONTHS', percentOff: '25', duration: 'repeating', durationInMonths: 4 });
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plans.basic.id, couponCode: 'fourmonths' });
      await runTo('2025-07-15T10:00:00Z');
      const all = await invoices();
      expect(all.map((i) => i.issueAt.toISOString().slice(0, 10))).toEqual(['2025-01-15', '2025-02-15', '2025-03-15', '2025-04-15', '2025-05-15', '2025-06-15', '2025-07-15']);
      expect(all.map((i) => i.discount)).toEqual([750, 750, 750, 750, 0, 0, 0]);
      expect(all.map((i) => i.total)).toEqual([2250, 2250, 2250, 2250, 3000, 3000, 3000]);
    });

    it('the same 4-month coupon on a yearly 300.00 plan discounts the first year\'s invoice only (75.00), never 4 years; counted in invoices (durationPeriods: 4) it would discount 4', async () => {
      const { ledger, scope, plans, customer, invoices, coupon, runTo } = await setup();
      await coupon({ code: 'FOURMONTHS', percentOff: '25', duration: 'repeating', durationInMonths: 4 });
      await coupon({ code: 'FOURINVOICES', percentOff: '25', duration: 'repeating', durationPeriods: 4 });
      const other = await ledger.customers.create(scope, { email: 'o@example.com', name: 'Other' });
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plans.annual.id, couponCode: 'FOURMONTHS' });
      await ledger.subscriptions.create(scope, { customerId: other.id, planId: plans.annual.id, couponCode: 'FOURINVOICES' });
      await runTo('2026-01-15T10:00:00Z');
      expect((await invoices()).map((i) => [i.issueAt.toISOString().slice(0, 10), i.subtotal, i.discount])).toEqual([
        ['2025-01-15', 30000, 7500],
        ['2026-01-15', 30000, 0],
      ]);
      expect((await invoices(other.id)).map((i) => i.discount)).toEqual([7500, 7500]);
    });

    it('counted from the redemption, not the subscription: 2 months applied on February 1 (window to April 1) discount the February 15 and March 15 invoices', async () => {
      const { ledger, clock, scope, plans, customer, invoices, coupon, runTo } = await setup();
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plans.basic.id });
      await coupon({ code: 'TWOMONTHS', percentOff: '50', duration: 'repeating', durationInMonths: 2 });
      clock.set('2025-02-01T00:00:00Z');
      await ledger.subscriptions.applyCoupon(scope, sub.id, 'twomonths');
      expect(await ledger.coupons.redemption(scope, sub.id)).toMatchObject({
        code: 'TWOMONTHS',
        appliedAt: new Date('2025-02-01T00:00:00Z'),
        endsAt: new Date('2025-04-01T00:00:00Z'),
        invoicesDiscounted: 0,
        invoicesLeft: null,
        amountRemaining: null,
      });
      await runTo('2025-05-15T10:00:00Z');
      expect((await invoices()).map((i) => i.discount)).toEqual([0, 1500, 1500, 0, 0]);
    });

    it('a trial counts inside the window (Stripe\'s too): 1 month from January 15 with a 14-day trial discounts the first paid invoice (January 29), not the next (February 28)', async () => {
      const { ledger, scope, customer, invoices, coupon, runTo } = await setup();
      const trial = await ledger.plans.create(scope, { ...basic, key: 'trial', trialDays: 14 });
      await coupon({ code: 'ONEMONTH', percentOff: '10', duration: 'repeating', durationInMonths: 1 });
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: trial.id, couponCode: 'ONEMONTH' });
      await runTo('2025-02-28T10:00:00Z');
      expect((await invoices()).map((i) => [i.issueAt.toISOString().slice(0, 10), i.discount])).toEqual([
        ['2025-01-29', 300],
        ['2025-02-28', 0],
      ]);
    });

    it('a change made inside the window is discounted at its own time: monthly to yearly on February 1, inside a 1-month window (to February 15), takes 5.00 off the new year\'s 300.00', async () => {
      const { ledger, clock, scope, plans, customer, invoices, coupon } = await setup();
      await coupon({ code: 'ONEMONTH', amountOff: 500, currency: 'USD', duration: 'repeating', durationInMonths: 1 });
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plans.basic.id, couponCode: 'ONEMONTH' });
      clock.set('2025-02-01T10:00:00Z');
      await ledger.subscriptions.changePlan(scope, sub.id, { planId: plans.annual.id, prorate: false });
      expect((await invoices()).map((i) => [i.issueAt.toISOString().slice(0, 10), i.subtotal, i.discount])).toEqual([
        ['2025-01-15', 3000, 500],
        ['2025-02-01', 30000, 500],
      ]);
    });
  });

  describe('carryOver: what one invoice leaves of a fixed amount discounts the next ones', () => {
    it('100.00 on a 30.00 monthly plan: 30.00, 30.00, 30.00, then the last 10.00; the redemption shows what is left after each', async () => {
      const { ledger, scope, plans, customer, invoices, coupon, runTo } = await setup();
      await coupon({ code: 'HUNDRED', amountOff: 10000, currency: 'USD', duration: 'forever', carryOver: true });
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plans.basic.id, couponCode: 'hundred' });
      expect((await ledger.coupons.redemption(scope, sub.id))?.amountRemaining).toBe(7000);
      const left: number[] = [];
      for (const month of ['02', '03', '04', '05']) {
        await runTo(`2025-${month}-15T10:00:00Z`);
        left.push((await ledger.coupons.redemption(scope, sub.id))!.amountRemaining!);
      }
      expect(left).toEqual([4000, 1000, 0, 0]);
      const all = await invoices();
      expect(all.map((i) => i.discount)).toEqual([3000, 3000, 3000, 1000, 0]);
      expect(all.map((i) => [i.status, i.total])).toEqual([
        ['paid', 0],
        ['paid', 0],
        ['paid', 0],
        ['open', 2000],
        ['open', 3000],
      ]);
      expect(await ledger.coupons.redemption(scope, sub.id)).toMatchObject({ invoicesDiscounted: 5, invoicesLeft: null, endsAt: null, amountRemaining: 0, currency: 'USD' });
    });

    it('without carryOver (the default) the rest is lost: a once 100.00 coupon takes 30.00 off the first invoice and nothing after', async () => {
      const { ledger, scope, plans, customer, invoices, coupon, runTo } = await setup();
      await coupon({ code: 'HUNDRED', amountOff: 10000, currency: 'USD', duration: 'once' });
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plans.basic.id, couponCode: 'hundred' });
      await runTo('2025-03-15T10:00:00Z');
      expect((await invoices()).map((i) => i.discount)).toEqual([3000, 0, 0]);
      expect(await ledger.coupons.redemption(scope, sub.id)).toMatchObject({ invoicesLeft: 0, amountRemaining: null });
    });

    it('the duration still ends it: 100.00 carried over for 2 invoices takes 30.00 + 30.00, and the 40.00 left is lost', async () => {
      const { ledger, scope, plans, customer, invoices, coupon, runTo } = await setup();
      await coupon({ code: 'TWOINVOICES', amountOff: 10000, currency: 'USD', duration: 'repeating', durationPeriods: 2, carryOver: true });
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plans.basic.id, couponCode: 'twoinvoices' });
      await runTo('2025-04-15T10:00:00Z');
      expect((await invoices()).map((i) => i.discount)).toEqual([3000, 3000, 0, 0]);
      expect(await ledger.coupons.redemption(scope, sub.id)).toMatchObject({ invoicesDiscounted: 2, invoicesLeft: 0, amountRemaining: 4000 });
    });

    it('the balance is per customer and coupon: applying the same code again does not refill it', async () => {
      const { ledger, scope, plans, customer, invoices, coupon, runTo } = await setup();
      await coupon({ code: 'FIFTY', amountOff: 5000, currency: 'USD', duration: 'forever', carryOver: true });
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plans.basic.id, couponCode: 'FIFTY' });
      await ledger.subscriptions.applyCoupon(scope, sub.id, 'FIFTY');
      expect((await ledger.coupons.redemption(scope, sub.id))?.amountRemaining).toBe(2000);
      await runTo('2025-03-15T10:00:00Z');
      expect((await invoices()).map((i) => i.discount)).toEqual([3000, 2000, 0]);
    });

    it('a draft shows what is left when it is computed; invoices finalized at once never spend it twice: 20.00 left, two 30.00 drafts each counting on it, 20.00 spent in all', async () => {
      const { ledger, scope, plans, customer, coupon } = await setup();
      await coupon({ code: 'FIFTY', amountOff: 5000, currency: 'USD', duration: 'forever', carryOver: true });
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plans.basic.id, couponCode: 'FIFTY' });
      const draft = (key: string) =>
        ledger.invoices.create(scope, sub, 'subscription_update', key, T0, {
          advance: { planId: plans.basic.id, quantity: 1, overrides: {}, start: sub.currentPeriodStart, end: sub.currentPeriodEnd },
          usage: null,
          prorations: [],
          couponId: sub.discount!.couponId,
        });
      const drafts = [(await draft('race:a')).invoice, (await draft('race:b')).invoice];
      expect(drafts.map((d) => [d.status, d.discount])).toEqual([
        ['draft', 2000],
        ['draft', 2000],
      ]);
      const done = await Promise.all(drafts.map((d) => ledger.invoices.finalize(scope, d.id)));
      expect(done.map((d) => d.discount).sort((a, b) => a - b)).toEqual([0, 2000]);
      expect(done.map((d) => d.total).sort((a, b) => a - b)).toEqual([1000, 3000]);
      expect((await ledger.coupons.redemption(scope, sub.id))?.amountRemaining).toBe(0);
    });

    it('6 invoices of 30.00 finalized at once against 70.00 left: 30.00 + 30.00 + 10.00 taken, nothing more, every invoice issued', async () => {
      const { ledger, scope, plans, customer, coupon } = await setup();
      await coupon({ code: 'HUNDRED', amountOff: 10000, currency: 'USD', duration: 'forever', carryOver: true });
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plans.basic.id, couponCode: 'HUNDRED' });
      const drafts: Invoice[] = [];
      for (let i = 0; i < 6; i++) {
        const { invoice } = await ledger.invoices.create(scope, sub, 'subscription_update', `race:${i}`, T0, {
          advance: { planId: plans.basic.id, quantity: 1, overrides: {}, start: sub.currentPeriodStart, end: sub.currentPeriodEnd },
          usage: null,
          prorations: [],
          couponId: sub.discount!.couponId,
        });
        drafts.push(invoice);
      }
      const done = await Promise.all(drafts.map((d) => ledger.invoices.finalize(scope, d.id)));
      expect(done.map((d) => d.discount).sort((a, b) => a - b)).toEqual([0, 0, 0, 1000, 3000, 3000]);
      expect(done.every((d) => d.status === 'open' || d.status === 'paid')).toBe(true);
      expect((await ledger.coupons.redemption(scope, sub.id))?.amountRemaining).toBe(0);
    });
  });

  describe('a fixed amount names its currency', () => {
    it('a USD amount coupon on a EUR subscription is refused at redemption, clearly, and nothing is created or counted', async () => {
      const { ledger, scope, plans, customer, invoices, coupon } = await setup();
      const c = await coupon({ code: 'TENUSD', amountOff: 1000, currency: 'USD', duration: 'forever' });
      const err = await rejectsWith(ledger.subscriptions.create(scope, { customerId: customer.id, planId: plans.euro.id, couponCode: 'TENUSD' }), 'invalid');
      expect(err.message).toBe('coupon TENUSD takes USD off and cannot apply to a EUR subscription');
      expect(err.issues).toEqual([{ path: 'currency', message: 'the coupon is in USD' }]);
      expect((await ledger.subscriptions.listByCustomer(scope, customer.id)).items).toEqual([]);
      expect(await invoices()).toEqual([]);
      expect((await ledger.coupons.get(scope, c.id)).timesRedeemed).toBe(0);
    });

    it('the subscription\'s currency decides, not the plan\'s main one: a plan in USD also priced 28.00 EUR, for a EUR customer, refuses a USD coupon and takes a EUR one (5.00 off 28.00)', async () => {
      const { ledger, scope, coupon } = await setup();
      const both = await ledger.plans.create(scope, { ...basic, key: 'both', currencyPrices: [{ currency: 'EUR', basePrice: 2800 }] });
      const eu = await ledger.customers.create(scope, { email: 'e@example.com', name: 'Eu', currency: 'EUR' });
      await coupon({ code: 'FIVEUSD', amountOff: 500, currency: 'USD', duration: 'once' });
      await coupon({ code: 'FIVEEUR', amountOff: 500, currency: 'EUR', duration: 'once' });
      const err = await rejectsWith(ledger.subscriptions.create(scope, { customerId: eu.id, planId: both.id, couponCode: 'FIVEUSD' }), 'invalid');
      expect(err.message).toBe('coupon FIVEUSD takes USD off and cannot apply to a EUR subscription');
      const sub = await ledger.subscriptions.create(scope, { customerId: eu.id, planId: both.id, couponCode: 'FIVEEUR' });
      const [first] = (await ledger.invoices.listByCustomer(scope, eu.id)).items;
      expect(first).toMatchObject({ subscriptionId: sub.id, currency: 'EUR', subtotal: 2800, discount: 500, total: 2300 });
    });

    it('applied to a running EUR subscription it is refused the same way; the subscription keeps no coupon; a percentage applies in any currency', async () => {
      const { ledger, scope, plans, customer, coupon, runTo, invoices } = await setup();
      const c = await coupon({ code: 'TENUSD', amountOff: 1000, currency: 'USD', duration: 'forever' });
      await coupon({ code: 'TENPCT', percentOff: '10', duration: 'forever' });
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plans.euro.id });
      await rejectsWith(ledger.subscriptions.applyCoupon(scope, sub.id, 'TENUSD'), 'invalid');
      expect((await ledger.subscriptions.get(scope, sub.id)).discount).toBeNull();
      expect((await ledger.coupons.get(scope, c.id)).timesRedeemed).toBe(0);
      await ledger.subscriptions.applyCoupon(scope, sub.id, 'TENPCT');
      await runTo('2025-02-15T10:00:00Z');
      expect((await invoices()).map((i) => [i.currency, i.discount])).toEqual([
        ['EUR', 0],
        ['EUR', 300],
      ]);
    });
  });
});
