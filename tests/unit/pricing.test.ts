import { describe, it, expect } from 'vitest';
import { ledgerErrorOf } from '../support/errors';
import fc from 'fast-check';
import { Dec, currency, fromMajor, type Currency } from '@/server/ledger/types/money';
import type { Price } from '@/server/ledger/plan/types';
import { priceQuantity } from '@/server/ledger/plan/pricing';

const USD = currency('USD');
const JPY = currency('JPY');
const KWD = currency('KWD');

/** The charge in minor units for `quantity` with no included units. */
const cost = (price: Price, quantity: string, included = 0, cur: Currency = USD) =>
  priceQuantity(price, quantity, included, cur).amount.amount;


describe('flat: a fixed fee every period, whatever the quantity', () => {
  const flat: Price = { model: 'flat', amount: 4900 };

  it.each(['0', '1', '1000000', '12.5'])('$49.00 for %s units', (q) => {
    const charge = priceQuantity(flat, q, 0, USD);
    expect(charge.amount).toEqual({ amount: 4900, currency: 'USD' });
    expect(charge.exactAmount).toBe('49');
    expect(charge.tiers).toEqual([]);
  });

  it('is charged even when usage stays within the included units', () => {
    const charge = priceQuantity(flat, '10', 100, USD);
    expect(charge.billableQuantity).toBe('0');
    expect(charge.amount.amount).toBe(4900);
  });

  it('¥500 flat stays ¥500 (the amount is already minor units)', () => {
    expect(cost({ model: 'flat', amount: 500 }, '3', 0, JPY)).toBe(500);
  });
});

describe('per_unit: billable units × unit price, rounded once', () => {
  const perCall: Price = { model: 'per_unit', unitPrice: '0.0004' };

  it('1,234,567 calls at 0.0004 USD = 493.8268 -> $493.83', () => {
    const charge = priceQuantity(perCall, '1234567', 0, USD);
    expect(charge.exactAmount).toBe('493.8268');
    expect(charge.amount.amount).toBe(49383);
  });

  it('with 1,000 calls included, 1,233,567 are billed: 493.4268 -> $493.43', () => {
    const charge = priceQuantity(perCall, '1234567', 1000, USD);
    expect(charge.billableQuantity).toBe('1233567');
    expect(charge.amount.amount).toBe(49343);
  });

  it('0 units cost nothing; 12 calls at 0.0004 = 0.0048 -> $0.00; 13 calls = 0.0052 -> $0.01', () => {
    expect(cost(perCall, '0')).toBe(0);
    expect(cost(perCall, '12')).toBe(0);
    expect(cost(perCall, '13')).toBe(1);
  });

  it('12.5 GB at $0.09 per GB = 1.125 -> $1.13 (half away from zero)', () => {
    const charge = priceQuantity({ model: 'per_unit', unitPrice: '0.09' }, '12.5', 0, USD);
    expect(charge.exactAmount).toBe('1.125');
    expect(charge.amount.amount).toBe(113);
  });

  it('usage below the included units is not billed, and never negative', () => {
    const charge = priceQuantity(perCall, '999', 1000, USD);
    expect(charge.quantity).toBe('999');
    expect(charge.billableQuantity).toBe('0');
    expect(charge.amount.amount).toBe(0);
  });

  it('JPY has no minor unit: 333 units at ¥0.5 = ¥166.5 -> ¥167', () => {
    expect(cost({ model: 'per_unit', unitPrice: '0.5' }, '333', 0, JPY)).toBe(167);
  });

  it('KWD has three decimals: 333 units at 0.0015 KWD = 0.4995 -> 0.500 KWD (500 fils)', () => {
    const charge = priceQuantity({ model: 'per_unit', unitPrice: '0.0015' }, '333', 0, KWD);
    expect(charge.exactAmount).toBe('0.4995');
    expect(charge.amount).toEqual({ amount: 500, currency: 'KWD' });
  });

  it('KWD: 1,234 units at 0.0005 KWD = 0.617 KWD exactly (617 fils)', () => {
    expect(cost({ model: 'per_unit', unitPrice: '0.0005' }, '1234', 0, KWD)).toBe(617);
  });

  it('takes the quantity as a Decimal too: 1,234,567 × 0.0004', () => {
    expect(priceQuantity(perCall, new Dec('1234567'), 0, USD).amount.amount).toBe(49383);
  });
});

describe('graduated: each tier at its own price, tier bounds inclusive', () => {
  // Tiers 0–100 at 0.10, 101+ at 0.05.
  const graduated: Price = {
    model: 'graduated',
    tiers: [
      { upTo: 100, unitPrice: '0.10', flatFee: 0 },
      { upTo: null, unitPrice: '0.05', flatFee: 0 },
    ],
  };

  it.each<[string, number]>([
    ['0', 0],
    ['1', 10],
    ['100', 1000],
    ['101', 1005],
    ['150', 1250],
  ])('tiers 0–100 at 0.10, 101+ at 0.05: %s units cost %i cents', (q, cents) => {
    expect(cost(graduated, q)).toBe(cents);
  });

  it('150 units: 100 × 0.10 in tier 1 and 50 × 0.05 in tier 2 = $12.50, with the breakdown', () => {
    const charge = priceQuantity(graduated, '150', 0, USD);
    expect(charge.tiers).toEqual([
      { tierIndex: 0, upTo: 100, units: '100', unitPrice: '0.10', flatFee: { amount: 0, currency: 'USD' }, exactAmount: '10' },
      { tierIndex: 1, upTo: null, units: '50', unitPrice: '0.05', flatFee: { amount: 0, currency: 'USD' }, exactAmount: '2.5' },
    ]);
    expect(charge.exactAmount).toBe('12.5');
    expect(charge.amount.amount).toBe(1250);
  });

  it('100 units stay in tier 1 only; 0 units show no tier', () => {
    expect(priceQuantity(graduated, '100', 0, USD).tiers.map((t) => t.tierIndex)).toEqual([0]);
    expect(priceQuantity(graduated, '0', 0, USD).tiers).toEqual([]);
  });

  it('100.5 units: 100 in tier 1, 0.5 in tier 2: 10 + 0.025 = 10.025 -> $10.03', () => {
    const charge = priceQuantity(graduated, '100.5', 0, USD);
    expect(charge.tiers.map((t) => t.units)).toEqual(['100', '0.5']);
    expect(charge.exactAmount).toBe('10.025');
    expect(charge.amount.amount).toBe(1003);
  });

  it('included units come off first: 150 used with 50 included prices 100 units = $10.00', () => {
    const charge = priceQuantity(graduated, '150', 50, USD);
    expect(charge.billableQuantity).toBe('100');
    expect(charge.amount.amount).toBe(1000);
    expect(charge.tiers).toHaveLength(1);
  });

  describe('a tier flat fee is charged once any unit falls in the tier', () => {
    const withFees: Price = {
      model: 'graduated',
      tiers: [
        { upTo: 100, unitPrice: '0.10', flatFee: 500 },
        { upTo: null, unitPrice: '0.05', flatFee: 1000 },
      ],
    };

    it.each<[string, number]>([
      ['0', 0], // no unit in any tier: no fee at all
      ['1', 510], // 0.10 + 5.00
      ['100', 1500], // 10.00 + 5.00
      ['101', 2505], // 10.00 + 5.00 + 0.05 + 10.00
      ['100.5', 2503], // 10.00 + 5.00 + 0.025 + 10.00 = 25.025 -> 25.03
    ])('%s units cost %i cents', (q, cents) => {
      expect(cost(withFees, q)).toBe(cents);
    });

    it('the breakdown shows each fee in minor units and inside the tier amount', () => {
      const [first, second] = priceQuantity(withFees, '101', 0, USD).tiers;
      expect(first?.flatFee).toEqual({ amount: 500, currency: 'USD' });
      expect(first?.exactAmount).toBe('15');
      expect(second?.exactAmount).toBe('10.05');
    });
  });

  it('rounds the total once, never per tier: two units at 0.005 in two tiers = 0.01, not 0.01 + 0.01', () => {
    const halfCent: Price = {
      model: 'graduated',
      tiers: [
        { upTo: 1, unitPrice: '0.005', flatFee: 0 },
        { upTo: null, unitPrice: '0.005', flatFee: 0 },
      ],
    };
    const charge = priceQuantity(halfCent, '2', 0, USD);
    expect(charge.tiers.map((t) => t.exactAmount)).toEqual(['0.005', '0.005']);
    expect(charge.amount.amount).toBe(1);
  });

  it('three tiers 1–1,000 free, 1,001–10,000 at 0.002, above at 0.001: 25,000 calls = 18 + 15 = $33.00', () => {
    const api: Price = {
      model: 'graduated',
      tiers: [
        { upTo: 1000, unitPrice: '0', flatFee: 0 },
        { upTo: 10000, unitPrice: '0.002', flatFee: 0 },
        { upTo: null, unitPrice: '0.001', flatFee: 0 },
      ],
    };
    expect(cost(api, '25000')).toBe(3300);
    expect(priceQuantity(api, '25000', 0, USD).tiers.map((t) => t.units)).toEqual(['1000', '9000', '15000']);
  });
});

describe('volume: all units at the price of the tier the total falls in', () => {
  const volume: Price = {
    model: 'volume',
    tiers: [
      { upTo: 100, unitPrice: '0.10', flatFee: 0 },
      { upTo: 1000, unitPrice: '0.08', flatFee: 200 },
      { upTo: null, unitPrice: '0.05', flatFee: 0 },
    ],
  };

  it.each<[string, number]>([
    ['0', 0], // no units: no price, no fee
    ['1', 10],
    ['100', 1000], // 100 × 0.10
    ['101', 1008], // 101 × 0.08 + 2.00 = 10.08
    ['150', 1400], // 150 × 0.08 + 2.00
    ['1000', 8200], // 1000 × 0.08 + 2.00
    ['1001', 5005], // 1001 × 0.05: a larger volume may cost less
  ])('%s units cost %i cents', (q, cents) => {
    expect(cost(volume, q)).toBe(cents);
  });

  it('100.5 units fall in tier 2: 100.5 × 0.08 + 2.00 = $10.04', () => {
    const charge = priceQuantity(volume, '100.5', 0, USD);
    expect(charge.tiers).toEqual([
      { tierIndex: 1, upTo: 1000, units: '100.5', unitPrice: '0.08', flatFee: { amount: 200, currency: 'USD' }, exactAmount: '10.04' },
    ]);
    expect(charge.amount.amount).toBe(1004);
  });

  it('0 units show no tier and cost nothing, even where tier 1 has a fee', () => {
    const feeFirst: Price = { model: 'volume', tiers: [{ upTo: null, unitPrice: '1', flatFee: 999 }] };
    const charge = priceQuantity(feeFirst, '0', 0, USD);
    expect(charge.tiers).toEqual([]);
    expect(charge.amount.amount).toBe(0);
    expect(cost(feeFirst, '1')).toBe(1099);
  });

  it('included units come off before the tier is chosen: 150 used, 50 included -> 100 units in tier 1', () => {
    expect(cost(volume, '150', 50)).toBe(1000);
  });
});

describe('package: per started package', () => {
  const perThousand: Price = { model: 'package', size: 1000, packagePrice: '5.00' };

  it.each<[string, number, string]>([
    ['0', 0, '0'],
    ['1', 500, '1'],
    ['1000', 500, '1'],
    ['1001', 1000, '2'],
    ['1000.5', 1000, '2'],
    ['2000', 1000, '2'],
  ])('%s units at $5.00 per 1,000 cost %i cents (%s packages)', (q, cents, packages) => {
    const charge = priceQuantity(perThousand, q, 0, USD);
    expect(charge.amount.amount).toBe(cents);
    expect(charge.packages).toBe(packages);
  });

  it('included units come off first: 1,500 used with 500 included is 1 package', () => {
    expect(cost(perThousand, '1500', 500)).toBe(500);
  });

  it('a package price with sub-cent digits is rounded once: 3 packages at 0.335 = 1.005 -> $1.01', () => {
    expect(cost({ model: 'package', size: 10, packagePrice: '0.335' }, '21')).toBe(101);
  });
});

describe('bad input is rejected with an invalid error', () => {
  const perUnit: Price = { model: 'per_unit', unitPrice: '1' };

  it.each(['-1', '-0.5', 'abc', '1e3', '', '1,000'])('quantity %j', (q) => {
    const err = ledgerErrorOf(() => priceQuantity(perUnit, q, 0, USD));
    expect(err.code).toBe('invalid');
    expect(err.message).toMatch(/^quantity /);
  });

  it('a negative or non-finite Decimal quantity', () => {
    expect(ledgerErrorOf(() => priceQuantity(perUnit, new Dec(-1), 0, USD)).issues).toEqual([
      { path: 'quantity', message: 'must not be negative, got -1' },
    ]);
    expect(ledgerErrorOf(() => priceQuantity(perUnit, new Dec(Number.NaN), 0, USD)).code).toBe('invalid');
    expect(ledgerErrorOf(() => priceQuantity(perUnit, new Dec(Infinity), 0, USD)).code).toBe('invalid');
  });

  it('negative or fractional included units', () => {
    expect(ledgerErrorOf(() => priceQuantity(perUnit, '1', -1, USD)).code).toBe('invalid');
    expect(ledgerErrorOf(() => priceQuantity(perUnit, '1', 1.5, USD)).code).toBe('invalid');
  });

  it('"-0" is a valid zero quantity, shown as "0"', () => {
    expect(priceQuantity(perUnit, '-0', 0, USD).quantity).toBe('0');
  });

  it('tiers that stop before the quantity (hand-built, bypassing the schema)', () => {
    const bounded: Price = { model: 'graduated', tiers: [{ upTo: 100, unitPrice: '1', flatFee: 0 }] };
    expect(cost(bounded, '100')).toBe(10000);
    expect(ledgerErrorOf(() => cost(bounded, '101')).message).toContain('units above 100 have no price');
    expect(ledgerErrorOf(() => cost({ model: 'volume', tiers: bounded.tiers }, '101')).code).toBe('invalid');
  });

  it('tier bounds out of order, and a negative unit price', () => {
    const unordered: Price = {
      model: 'graduated',
      tiers: [
        { upTo: 100, unitPrice: '1', flatFee: 0 },
        { upTo: 50, unitPrice: '1', flatFee: 0 },
        { upTo: null, unitPrice: '1', flatFee: 0 },
      ],
    };
    expect(ledgerErrorOf(() => cost(unordered, '10')).message).toContain('tier bounds must increase');
    expect(ledgerErrorOf(() => cost({ model: 'per_unit', unitPrice: '-1' }, '10')).code).toBe('invalid');
  });
});

// ---- properties ---------------------------------------------------------------------

/** A decimal string from 0 to maxScaled / 10^decimals: decimalOf(10^9, 3) gives "0" … "1000000", like "1234.567". */
const decimalOf = (maxScaled: number, decimals: number) =>
  fc.integer({ min: 0, max: maxScaled }).map((n) => new Dec(n).div(10 ** decimals).toFixed());
const quantityArb = decimalOf(1_000_000_000, 3);
const unitPriceArb = decimalOf(100_000_000, 6); // up to 100.000000 per unit

const tiersArb = fc
  .uniqueArray(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 0, maxLength: 5 })
  .chain((bounds) => {
    const sorted = [...bounds].sort((a, b) => a - b);
    const upTos: (number | null)[] = [...sorted, null];
    return fc.tuple(
      ...upTos.map((upTo) =>
        fc.record({ upTo: fc.constant(upTo), unitPrice: unitPriceArb, flatFee: fc.integer({ min: 0, max: 100_000 }) }),
      ),
    );
  });

const monotonicPriceArb: fc.Arbitrary<Price> = fc.oneof(
  unitPriceArb.map((unitPrice): Price => ({ model: 'per_unit', unitPrice })),
  tiersArb.map((tiers): Price => ({ model: 'graduated', tiers })),
  fc
    .record({ size: fc.integer({ min: 1, max: 10_000 }), packagePrice: unitPriceArb })
    .map((p): Price => ({ model: 'package', ...p })),
);
const anyPriceArb: fc.Arbitrary<Price> = fc.oneof(
  monotonicPriceArb,
  tiersArb.map((tiers): Price => ({ model: 'volume', tiers })),
  fc.integer({ min: 0, max: 10_000_000 }).map((amount): Price => ({ model: 'flat', amount })),
);
const currencyArb = fc.constantFrom(USD, JPY, KWD);
const includedArb = fc.integer({ min: 0, max: 10_000 });

describe('pricing properties', () => {
  it('no charge is negative, every amount is a safe integer, and it is the exact total rounded once', () => {
    fc.assert(
      fc.property(anyPriceArb, quantityArb, includedArb, currencyArb, (price, q, included, cur) => {
        const charge = priceQuantity(price, q, included, cur);
        expect(Number.isSafeInteger(charge.amount.amount)).toBe(true);
        expect(charge.amount.amount).toBeGreaterThanOrEqual(0);
        expect(charge.amount).toEqual(fromMajor(charge.exactAmount, cur));
      }),
    );
  });

  it('a charge for q units with i included equals the charge for max(q − i, 0) units with none included', () => {
    fc.assert(
      fc.property(anyPriceArb, quantityArb, includedArb, (price, q, included) => {
        const rest = Dec.max(new Dec(q).minus(included), 0).toFixed();
        expect(priceQuantity(price, q, included, USD).amount).toEqual(priceQuantity(price, rest, 0, USD).amount);
      }),
    );
  });

  it('per_unit, graduated and package charges never fall when the quantity grows', () => {
    fc.assert(
      fc.property(monotonicPriceArb, quantityArb, quantityArb, currencyArb, (price, a, b, cur) => {
        const [low, high] = new Dec(a).lte(b) ? [a, b] : [b, a];
        expect(cost(price, low, 0, cur)).toBeLessThanOrEqual(cost(price, high, 0, cur));
      }),
    );
  });

  it('graduated tiers split the billable quantity exactly, and their amounts add up to the total', () => {
    fc.assert(
      fc.property(tiersArb, quantityArb, (tiers, q) => {
        const charge = priceQuantity({ model: 'graduated', tiers }, q, 0, USD);
        const units = charge.tiers.reduce((s, t) => s.plus(t.units), new Dec(0));
        const exact = charge.tiers.reduce((s, t) => s.plus(t.exactAmount), new Dec(0));
        expect(units.equals(charge.billableQuantity)).toBe(true);
        expect(exact.equals(charge.exactAmount)).toBe(true);
        for (const t of charge.tiers) expect(new Dec(t.units).gt(0)).toBe(true);
      }),
    );
  });
});
