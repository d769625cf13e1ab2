import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, type CreatePlanInput, type Invoice, type Ledger, type RoundingMode, type Scope } from '@/server/ledger';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * The scope's rounding mode on proration lines, discounts and taxes, through the engine
 * on every store, with exact ties of half a cent: half away from zero (the default) and
 * half to even give amounts one cent apart, and every invoice still adds up
 * (total = lines − discounts + exclusive taxes). The mode is read when an invoice is
 * computed and when a change makes its proration lines.
 */
const HOUR = 3_600_000;
const at = (iso: string) => new Date(iso);
const MODES: readonly RoundingMode[] = ['half_away_from_zero', 'half_even'];
/** [half away from zero, half to even] */
const pick = <T,>(mode: RoundingMode, away: T, even: T): T => (mode === 'half_even' ? even : away);

const monthly = (key: string, basePrice: number, extra: Record<string, unknown> = {}): CreatePlanInput => ({
  key,
  name: key[0]!.toUpperCase() + key.slice(1),
  currency: 'USD',
  interval: { unit: 'month' as const },
  basePrice,
  features: [],
  ...extra,
}) as CreatePlanInput;
const seats = { key: 'seats', name: 'Seats', kind: 'licensed' as const, includedUnits: 0, price: { model: 'per_unit' as const, unitPrice: '3' } };

describe.each(storeFactories())('rounding modes on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  /** A test scope in `mode`, a test clock at `start` and a customer on it. */
  async function setup(mode: RoundingMode, start: string, customer: { country?: string } = {}) {
    const ledger: Ledger = await createLedger({ store: store(), clock: new ManualClock(start), logger: silentLogger, invoices: { finalizeGraceMs: HOUR } });
    const scope: Scope = uniqueScope();
    await ledger.scopes.register(scope, 'test');
    if (mode !== 'half_away_from_zero') await ledger.settings.update(scope, { roundingMode: mode });
    const clock = await ledger.testClocks.create(scope, { at: start });
    const c = await ledger.customers.create(scope, { email: 'r@example.com', name: 'Rounded', testClockId: clock.id, ...customer });
    const invoices = async () =>
      (await ledger.invoices.listByCustomer(scope, c.id, { limit: 100 })).items.sort((a, b) => a.issueAt.getTime() - b.issueAt.getTime() || (a.id < b.id ? -1 : 1));
    const advance = (to: string) => ledger.billing.advanceClock(scope, { id: clock.id, to: at(to) });
    return { ledger, scope, customer: c, invoices, advance };
  }
  const lines = (inv: Invoice | undefined) => inv!.lines.map((l) => [l.kind, l.amount]);
  /** The invariant: total = lines − discounts + exclusive taxes, each figure the sum of its lines'. */
  const addsUp = (inv: Invoice) => {
    const sum = (k: 'amount' | 'discount' | 'tax') => inv.lines.reduce((a, l) => a + l[k], 0);
    expect([inv.subtotal, inv.discount, inv.tax]).toEqual([sum('amount'), sum('discount'), sum('tax')]);
    expect(inv.total).toBe(sum('amount') - sum('discount') + (inv.taxInclusive ? 0 : sum('tax')));
  };

  describe.each(MODES)('%s', (mode) => {
    it(`20.25 → 30.25 at exactly mid-March (half of 31 days left) and back: −10.125 and +15.125 round to ${pick(mode, '−10.13 + 15.13', '−10.12 + 15.12')}, the way back to the negatives, net +5.00 − 5.00 = 0; cancelling then credits ${pick(mode, '−10.13', '−10.12')}`, async () => {
      const { ledger, scope, customer, invoices, advance } = await setup(mode, '2025-03-01T00:00:00Z');
      const basic = await ledger.plans.create(scope, monthly('basic', 2025));
      const plus = await ledger.plans.create(scope, monthly('plus', 3025));
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: basic.id });
      await advance('2025-03-16T12:00:00Z');
      await ledger.subscriptions.changePlan(scope, sub.id, { planId: plus.id });
      await ledger.subscriptions.changePlan(scope, sub.id, { planId: basic.id, downgradeAt: 'now' });
      const [first, up, down] = await invoices();
      expect(first!.total).toBe(2025);
      const credit = pick(mode, -1013, -1012);
      const charge = pick(mode, 1513, 1512);
      expect(lines(up)).toEqual([['proration', credit], ['proration', charge]]);
      expect(lines(down)).toEqual([['proration', -charge], ['proration', -credit]]);
      expect([up!.total, down!.total, up!.total + down!.total]).toEqual([500, -500, 0]);
      [first!, up!, down!].forEach(addsUp);

      await ledger.subscriptions.cancel(scope, sub.id, { at: 'now', prorate: true });
      const last = (await invoices()).at(-1)!;
      expect(last.billingReason).toBe('subscription_cancel');
      expect(lines(last)).toEqual([['proration', credit]]);
    });

    it(`12.5 % off 1.00 + 3 seats at 1.00 (0.125 and 0.375 off) and 6.25 % sales tax: ${pick(mode, '4.00 − 0.51 + 0.21 = 3.70', '4.00 − 0.50 + 0.22 = 3.72')}`, async () => {
      const { ledger, scope, customer, invoices } = await setup(mode, '2025-03-01T00:00:00Z', { country: 'US' });
      await ledger.taxRates.create(scope, { displayName: 'Sales tax', country: 'US', percentage: '6.25' });
      await ledger.coupons.create(scope, { code: 'EIGHTH', name: '12.5 % off', percentOff: '12.5', duration: 'forever' });
      const plan = await ledger.plans.create(scope, monthly('small', 100, { features: [{ ...seats, price: { model: 'per_unit', unitPrice: '1' } }] }));
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: 3, couponCode: 'EIGHTH' });
      const [inv] = await invoices();
      // Discounts: 0.125 → 0.13 or 0.12; 0.375 → 0.38 in both. Taxes: 6.25 % of 0.87 (0.054375) → 0.05,
      // of 0.88 exactly 0.055 → 0.06 in both; of 2.62 (0.16375) → 0.16.
      expect(inv!.lines.map((l) => [l.kind, l.amount, l.discount, l.tax])).toEqual([
        ['base_fee', 100, pick(mode, 13, 12), pick(mode, 5, 6)],
        ['license', 300, 38, 16],
      ]);
      expect([inv!.subtotal, inv!.discount, inv!.tax, inv!.total]).toEqual([400, pick(mode, 51, 50), pick(mode, 21, 22), pick(mode, 370, 372)]);
      addsUp(inv!);
    });

    it(`a tax on a tie, Stripe's way (per line, then summed): 10 % of 1.25 is 0.125 → ${pick(mode, '0.13', '0.12')}; 0.02 off 1.00 + 3.00 spreads ${pick(mode, '0.01 + 0.01', '0.00 + 0.02')} and adds up`, async () => {
      const { ledger, scope, customer, invoices } = await setup(mode, '2025-03-01T00:00:00Z', { country: 'US' });
      await ledger.taxRates.create(scope, { displayName: 'Sales tax', country: 'US', percentage: '10' });
      const taxed = await ledger.plans.create(scope, monthly('taxed', 125));
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: taxed.id });
      const [one] = await invoices();
      expect([one!.subtotal, one!.tax, one!.total]).toEqual([125, pick(mode, 13, 12), pick(mode, 138, 137)]);
      addsUp(one!);
      await ledger.subscriptions.cancel(scope, sub.id, { at: 'now' });

      await ledger.coupons.create(scope, { code: 'TWOCENTS', name: '0.02 off', amountOff: 2, currency: 'USD', duration: 'once' });
      const split = await ledger.plans.create(scope, monthly('split', 100, { features: [seats] }));
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: split.id, quantity: 1, couponCode: 'TWOCENTS' });
      const inv = (await invoices()).find((i) => i.lines.some((l) => l.kind === 'license'))!;
      // 10 % of 0.99 and 2.99 (0.099, 0.299), or of 1.00 and 2.98 (0.10, 0.298): 0.10 + 0.30 either way.
      expect(inv.lines.map((l) => [l.amount, l.discount, l.tax])).toEqual([
        [100, pick(mode, 1, 0), 10],
        [300, pick(mode, 1, 2), 30],
      ]);
      expect([inv.discount, inv.tax, inv.total]).toEqual([2, 40, 438]);
      addsUp(inv);
    });

    it(`inclusive VAT: 10.11 including 20 % holds exactly 1.685 → ${pick(mode, '1.69', '1.68')} of tax; the total stays 10.11`, async () => {
      const { ledger, scope, customer, invoices } = await setup(mode, '2025-03-01T00:00:00Z', { country: 'GB' });
      await ledger.taxRates.create(scope, { displayName: 'VAT', country: 'GB', percentage: '20', inclusive: true });
      const plan = await ledger.plans.create(scope, monthly('vat', 1011));
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      const [inv] = await invoices();
      expect([inv!.subtotal, inv!.tax, inv!.total, inv!.taxInclusive]).toEqual([1011, pick(mode, 169, 168), 1011, true]);
      addsUp(inv!);
    });

    it(`calendar billing: a 14-day trial from September 2 ends on the 16th; the cycle bills 15 of 30 days of 20.25, exactly 10.125 → ${pick(mode, '10.13', '10.12')}`, async () => {
      const { ledger, scope, customer, invoices, advance } = await setup(mode, '2025-09-02T00:00:00Z');
      const plan = await ledger.plans.create(scope, monthly('calendar', 2025, { billingCycle: 'calendar', trialDays: 14 }));
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      await advance('2025-09-16T02:00:00Z');
      const [trialEnd] = await invoices();
      expect(trialEnd!.lines.map((l) => [l.kind, l.amount, l.description])).toEqual([['base_fee', pick(mode, 1013, 1012), 'Calendar plan (15 of 30 days)']]);
    });
  });
});
