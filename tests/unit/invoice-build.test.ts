import { describe, expect, it } from 'vitest';
import { advanceLines, finishLines, prorationLinesFor, usageLines } from '@/server/ledger/invoice/build';
import { feesChanged, isUpgrade } from '@/server/ledger/subscription/changes';
import { featureInputSchema, type Feature, type FeatureInput, type Plan } from '@/server/ledger/plan/types';
import { couponDiscount } from '@/server/ledger/coupon/apply';
import { currency, money, newId, type Money } from '@/server/ledger/types';

/**
 * The billing rules of an invoice's lines, as a specification with concrete numbers:
 * fees in advance, usage in arrears, overrides, discounts per line, taxes per line.
 */
const USD = currency('USD');
const period = { start: new Date('2025-03-01T00:00:00Z'), end: new Date('2025-04-01T00:00:00Z') };

const feature = (f: FeatureInput): Feature => ({ ...featureInputSchema.parse(f), id: newId('feature') }) as Feature;

function plan(overrides: Partial<Plan> = {}): Plan {
  return {
    id: newId('plan'),
    key: 'pro',
    version: 1,
    isLatest: true,
    status: 'active',
    name: 'Pro',
    description: '',
    currency: USD,
    interval: { unit: 'month', count: 1 },
    basePrice: 4900,
    trialDays: 0,
    metadata: {},
    createdAt: period.start,
    updatedAt: period.start,
    features: [
      feature({ key: 'seats', name: 'Seats', kind: 'licensed', includedUnits: 1, price: { model: 'per_unit', unitPrice: '10' } }),
      feature({ key: 'support', name: 'Priority support', kind: 'metered', aggregation: 'sum', price: { model: 'flat', amount: 2500 } }),
      feature({
        key: 'api_calls',
        name: 'API calls',
        kind: 'metered',
        aggregation: 'sum',
        includedUnits: 1000,
        unitName: 'calls',
        price: { model: 'graduated', tiers: [{ upTo: 10_000, unitPrice: '0.002' }, { upTo: null, unitPrice: '0.001' }] },
      }),
      feature({ key: 'storage', name: 'Storage', kind: 'metered', aggregation: 'max', price: { model: 'package', size: 100, packagePrice: '5' } }),
      feature({ key: 'sso', name: 'SSO', kind: 'boolean' }),
    ],
    ...overrides,
  };
}

const amounts = (lines: { id: string; amount: number }[]) => Object.fromEntries(lines.map((l) => [l.id, l.amount]));

describe('fees in advance', () => {
  it('base price 49.00, 3 seats at 10.00 with 1 included (20.00), a flat support fee 25.00; usage features bill nothing in advance', () => {
    const lines = advanceLines(plan(), 3, {}, period);
    expect(amounts(lines)).toEqual({ 'base_fee:plan': 4900, 'license:seats': 2000, 'flat_fee:support': 2500 });
    expect(lines.find((l) => l.id === 'license:seats')).toMatchObject({ quantity: '3', unitPrice: '10', periodStart: period.start, periodEnd: period.end });
  });

  it('a free plan with no priced seats bills no fee lines at all', () => {
    expect(advanceLines(plan({ basePrice: 0, features: [] }), 1, {}, period)).toEqual([]);
  });

  it("a subscription's overrides replace the plan's base price and a feature's price", () => {
    const lines = advanceLines(plan(), 3, { basePrice: 3900, features: { seats: { model: 'per_unit', unitPrice: '7.5' } } }, period);
    expect(amounts(lines)).toMatchObject({ 'base_fee:plan': 3900, 'license:seats': 1500 });
  });
});

describe('usage in arrears', () => {
  const usage = (values: Record<string, string>) => usageLines(plan(), {}, period, new Map(Object.entries(values)));

  it('graduated, 1,000 included first: 15,000 calls bill 14,000: 10,000 at 0.002 and 4,000 at 0.001 = 24.00', () => {
    const [calls] = usage({ api_calls: '15000', storage: '0' });
    expect(calls).toMatchObject({ id: 'usage:api_calls', quantity: '15000', amount: 2400, unitPrice: null });
    expect(calls!.tiers!.map((t) => [t.units, t.exactAmount])).toEqual([
      ['10000', '20'],
      ['4000', '4'],
    ]);
  });

  it('package of 100 at 5.00: a peak of 250 GB bills 3 packages = 15.00; 0 bills 0.00', () => {
    expect(usage({ storage: '250' }).find((l) => l.id === 'usage:storage')!.amount).toBe(1500);
    expect(usage({ storage: '0' }).find((l) => l.id === 'usage:storage')!.amount).toBe(0);
  });

  it('within the included units a usage line is there, at 0.00', () => {
    expect(usage({ api_calls: '999' }).find((l) => l.id === 'usage:api_calls')).toMatchObject({ quantity: '999', amount: 0 });
  });

  it('decimal unit prices are exact and rounded once: 1,234,567 calls at 0.0004 = 493.83', () => {
    const p = plan({ features: [feature({ key: 'calls', name: 'Calls', kind: 'metered', aggregation: 'count', price: { model: 'per_unit', unitPrice: '0.0004' } })] });
    expect(usageLines(p, {}, period, new Map([['calls', '1234567']]))[0]!.amount).toBe(49383);
  });
});

describe('discounts and taxes, per line', () => {
  const lines = advanceLines(plan(), 3, {}, period); // 49.00 + 20.00 + 25.00 = 94.00
  const none = { rate: null, note: 'No tax rate for US/TX' };

  it('25 % off each line: 12.25 + 5.00 + 6.25 = 23.50; total 70.50; the reason for no tax is kept by the caller', () => {
    const f = finishLines(USD, lines, (a) => couponDiscount({ percentOff: '25', amountOff: null, currency: null }, a), none);
    expect(f.lines.map((l) => l.discount)).toEqual([1225, 500, 625]);
    expect(f).toMatchObject({ subtotal: 9400, discount: 2350, tax: 0, total: 7050, taxInclusive: false });
  });

  it('an amount off larger than the invoice discounts it to 0.00, never below', () => {
    const f = finishLines(USD, lines, (a) => couponDiscount({ percentOff: null, amountOff: 20000, currency: USD }, a), none);
    expect(f.discount).toBe(9400);
    expect(f.total).toBe(0);
    expect(f.lines.every((l) => l.discount <= l.amount)).toBe(true);
  });

  it('exclusive tax is rounded per line and summed: two lines of 0.07 at 10 % pay 0.01 each, 0.02 (not 0.01 on 0.14)', () => {
    const tiny = [0, 1].map((i) => ({ ...lines[0]!, id: `l${i}`, amount: 7 }));
    const f = finishLines(USD, tiny, null, { rate: { id: 'txr_x', displayName: 'Tax', percentage: '10', inclusive: false }, note: null });
    expect(f.lines.map((l) => l.tax)).toEqual([1, 1]);
    expect(f).toMatchObject({ subtotal: 14, tax: 2, total: 16 });
  });

  it("Stripe's example: line taxes 0.0645 and 0.7265 become 0.06 and 0.73, the invoice's tax 0.79", () => {
    // 6.45 % of 1.00 = 0.0645; 6.45 % of 11.2636 would be 0.7265; with whole cents, 11.27 → 0.726915 → 0.73
    const two = [
      { ...lines[0]!, id: 'a', amount: 100 },
      { ...lines[0]!, id: 'b', amount: 1127 },
    ];
    const f = finishLines(USD, two, null, { rate: { id: 'txr_x', displayName: 'Sales tax', percentage: '6.45', inclusive: false }, note: null });
    expect(f.lines.map((l) => l.tax)).toEqual([6, 73]);
    expect(f.tax).toBe(79);
    expect(f.total).toBe(100 + 1127 + 79);
  });

  it('tax applies to the discounted amount: 20 % VAT on 49.00 − 12.25 = 36.75 is 7.35', () => {
    const f = finishLines(USD, [lines[0]!], (a) => couponDiscount({ percentOff: '25', amountOff: null, currency: null }, a), {
      rate: { id: 'txr_vat', displayName: 'VAT', percentage: '20', inclusive: false },
      note: null,
    });
    expect(f.lines[0]).toMatchObject({ amount: 4900, discount: 1225, tax: 735 });
    expect(f.total).toBe(4900 - 1225 + 735);
  });

  it('inclusive tax is inside the prices: 120.00 at 20 % included carries 20.00 of tax, and the total stays 120.00', () => {
    const f = finishLines(USD, [{ ...lines[0]!, amount: 12000 }], null, { rate: { id: 'txr_vat', displayName: 'VAT', percentage: '20', inclusive: true }, note: null });
    expect(f).toMatchObject({ subtotal: 12000, tax: 2000, total: 12000, taxInclusive: true });
  });

  it('credits (negative lines) are never discounted, and carry negative tax', () => {
    const credit = { ...lines[0]!, id: 'proration:0', kind: 'proration' as const, amount: -1000 };
    const f = finishLines(USD, [lines[0]!, credit], (a) => couponDiscount({ percentOff: '50', amountOff: null, currency: null }, a), {
      rate: { id: 'txr_vat', displayName: 'VAT', percentage: '20', inclusive: false },
      note: null,
    });
    expect(f.lines[1]).toMatchObject({ amount: -1000, discount: 0, tax: -200 });
    expect(f.total).toBe(4900 - 2450 + 490 - 1000 - 200);
  });
});

describe('proration', () => {
  const april = { start: new Date('2025-04-01T00:00:00Z'), end: new Date('2025-05-01T00:00:00Z') }; // 30 days
  const fee = (amount: number, name: string) => advanceLines(plan({ basePrice: amount, name, features: [] }), 1, {}, april);

  it("Stripe's example: 10.00 → 20.00 at exactly mid-period credits 5.00 and charges 10.00, net +5.00", () => {
    const mid = new Date('2025-04-16T00:00:00Z');
    const lines = prorationLinesFor(fee(1000, 'Basic'), fee(2000, 'Plus'), april, mid, USD);
    expect(lines.map((l) => [l.description, l.amount])).toEqual([
      ['Unused time on Basic plan', -500],
      ['Remaining time on Plus plan', 1000],
    ]);
    expect(lines.every((l) => l.periodStart.getTime() === mid.getTime() && l.periodEnd.getTime() === april.end.getTime())).toBe(true);
  });

  it('a third of the way through 30 days (day 10 of 30): 29.99 → 99.99 credits 19.99 and charges 66.66', () => {
    const at = new Date('2025-04-11T00:00:00Z');
    const lines = prorationLinesFor(fee(2999, 'A'), fee(9999, 'B'), april, at, USD);
    expect(lines.map((l) => l.amount)).toEqual([-1999, 6666]); // 29.99 × 2/3 = 19.9933; 99.99 × 2/3 = 66.66
  });

  it('only the fees that change are prorated: 3 → 5 seats at 10.00 (1 included) prorates the seats, not the base fee', () => {
    const p = plan();
    const mid = new Date('2025-03-16T12:00:00Z'); // exactly half of March's 31 days
    const lines = feesChanged(advanceLines(p, 3, {}, period), advanceLines(p, 5, {}, period), period, mid, USD);
    expect(lines.map((l) => [l.description, l.amount])).toEqual([
      ['Unused time on Seats × 3', -1000],
      ['Remaining time on Seats × 5', 2000],
    ]);
  });

  it('an upgrade is a change to higher (or equal) in-advance fees; fewer seats is a downgrade', () => {
    const p = plan();
    expect(isUpgrade(p, 3, p, 5, {}, period)).toBe(true);
    expect(isUpgrade(p, 5, p, 3, {}, period)).toBe(false);
    expect(isUpgrade(p, 3, p, 3, {}, period)).toBe(true);
    expect(isUpgrade(p, 3, plan({ basePrice: 9900 }), 3, {}, period)).toBe(true);
    expect(isUpgrade(p, 3, plan({ basePrice: 100 }), 3, {}, period)).toBe(false);
  });

  it("upgrade or downgrade is decided on the fees as the scope's rounding bills them: 0.13 flat → 0.125 a seat is a downgrade under half_even (0.12), not by default (0.13)", () => {
    const flat = plan({ basePrice: 13, features: [] });
    const perSeat = plan({ basePrice: 0, features: [feature({ key: 'seats', name: 'Seats', kind: 'licensed', price: { model: 'per_unit', unitPrice: '0.125' } })] });
    expect(isUpgrade(flat, 1, perSeat, 1, {}, period)).toBe(true);
    expect(isUpgrade(flat, 1, perSeat, 1, {}, period, 'half_away_from_zero')).toBe(true);
    expect(isUpgrade(flat, 1, perSeat, 1, {}, period, 'half_even')).toBe(false);
  });
});

// Used by the property tests too.
export const sumMoney = (xs: Money[]) => xs.reduce((a, m) => a + m.amount, 0);
export { money };
