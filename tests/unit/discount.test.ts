import { describe, it, expect } from 'vitest';
import { ledgerErrorOf } from '../support/errors';
import fc from 'fast-check';
import { currency, money } from '@/server/ledger/types/money';
import { allocateDiscount, percentOff } from '@/server/ledger/coupon/discount';

const USD = currency('USD');
const JPY = currency('JPY');
const usd = (cents: number) => money(cents, USD);
/** The allocated parts in cents, for lines given in cents. */
const allocate = (lines: number[], discount: number) =>
  allocateDiscount(lines.map(usd), usd(discount)).map((m) => m.amount);


describe('percentOff: a percentage of the amount, rounded once', () => {
  it('20 % off $49.99 is 999.8 cents -> $10.00 off', () => {
    expect(percentOff(usd(4999), '20')).toEqual(usd(1000));
  });

  it('15 % off $0.10 is 1.5 cents -> 2 cents (half away from zero); off −$0.10 it is −2 cents', () => {
    expect(percentOff(usd(10), '15').amount).toBe(2);
    expect(percentOff(usd(-10), '15').amount).toBe(-2);
  });

  it('12.5 % off ¥100 is ¥12.5 -> ¥13', () => {
    expect(percentOff(money(100, JPY), '12.5')).toEqual(money(13, JPY));
  });

  it('33.33 % off $10.00 is 333.3 cents -> $3.33', () => {
    expect(percentOff(usd(1000), '33.33').amount).toBe(333);
  });

  it('100 % off is the whole amount; 0 % off is nothing', () => {
    expect(percentOff(usd(4999), '100').amount).toBe(4999);
    expect(percentOff(usd(4999), '0').amount).toBe(0);
  });

  it.each(['-1', '100.01', 'abc', '1e2', ''])('%j percent is invalid', (pct) => {
    expect(ledgerErrorOf(() => percentOff(usd(1000), pct)).code).toBe('invalid');
  });
});

describe('allocateDiscount: a fixed discount spread over the lines by their amounts', () => {
  it('$10.00 over lines of $30, $60 and $10 is $3, $6 and $1', () => {
    expect(allocate([3000, 6000, 1000], 1000)).toEqual([300, 600, 100]);
  });

  it('$1.00 over three equal lines: 34 + 33 + 33 cents, the first line taking the odd cent', () => {
    expect(allocate([1000, 1000, 1000], 100)).toEqual([34, 33, 33]);
  });

  it('2 cents over three equal lines: 1 + 1 + 0 (rounding each share would give 3 cents)', () => {
    expect(allocate([500, 500, 500], 2)).toEqual([1, 1, 0]);
  });

  it('the odd cent goes to the largest remainder: 7 cents over $5, $3, $2 is 3.5, 2.1, 1.4 -> 4, 2, 1', () => {
    expect(allocate([500, 300, 200], 7)).toEqual([4, 2, 1]);
  });

  it('largest remainder, not largest line: 7 cents over $6 and $4 is 4.2 and 2.8 -> 4 and 3', () => {
    expect(allocate([600, 400], 7)).toEqual([4, 3]);
  });

  it('zero and negative (credit) lines get nothing and do not share: $20 over $10, $0, −$5, $30 is $5, 0, 0, $15', () => {
    expect(allocate([1000, 0, -500, 3000], 2000)).toEqual([500, 0, 0, 1500]);
  });

  it('is capped at the sum of the positive lines: $50 off lines of $20 and $10 takes $20 and $10', () => {
    expect(allocate([2000, 1000], 5000)).toEqual([2000, 1000]);
  });

  it('the cap counts positive lines only, not the net: $50 off $20 and −$5 takes $20 (not $15)', () => {
    expect(allocate([2000, -500], 5000)).toEqual([2000, 0]);
  });

  it('no discount, no lines, or only credit lines: nothing is allocated', () => {
    expect(allocate([1000, 2000], 0)).toEqual([0, 0]);
    expect(allocate([], 1000)).toEqual([]);
    expect(allocate([-1000, 0], 1000)).toEqual([0, 0]);
  });

  it('is exact for amounts whose products pass 2^53: $90 trillion lines', () => {
    const big = 9_000_000_000_000_000; // cents, just under MAX_SAFE_INTEGER
    expect(allocate([big, 1], big)).toEqual([big - 1, 1]);
    expect(allocate([big, big - 1], 3)).toEqual([2, 1]);
  });

  it('keeps the currency', () => {
    expect(allocateDiscount([money(300, JPY)], money(100, JPY))).toEqual([money(100, JPY)]);
  });

  it('a negative discount or a line in another currency is invalid', () => {
    expect(ledgerErrorOf(() => allocate([1000], -1)).code).toBe('invalid');
    expect(ledgerErrorOf(() => allocateDiscount([money(1000, JPY)], usd(100))).code).toBe('invalid');
  });
});

// ---- properties ---------------------------------------------------------------------

const lineArb = fc.integer({ min: -1_000_000_000, max: 1_000_000_000_000 });
const discountArb = fc.integer({ min: 0, max: 2_000_000_000_000 });

describe('discount properties', () => {
  it('the parts sum exactly to the discount capped at the positive lines, and never exceed their line', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 30 }), discountArb, (lines, discount) => {
        const parts = allocate(lines, discount);
        const positive = lines.reduce((s, l) => s + Math.max(l, 0), 0);
        expect(parts).toHaveLength(lines.length);
        expect(parts.reduce((s, p) => s + p, 0)).toBe(Math.min(discount, positive));
        parts.forEach((p, i) => {
          expect(Number.isSafeInteger(p)).toBe(true);
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(Math.max(lines[i] ?? 0, 0));
        });
      }),
    );
  });

  it('each part is within one minor unit of its exact proportional share', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { minLength: 1, maxLength: 30 }), discountArb, (lines, discount) => {
        const parts = allocate(lines, discount);
        const positive = lines.reduce((s, l) => s + BigInt(Math.max(l, 0)), 0n);
        if (positive === 0n) return;
        const capped = BigInt(discount) < positive ? BigInt(discount) : positive;
        parts.forEach((p, i) => {
          // |p − capped × line / positive| < 1  ⇔  |p × positive − capped × line| < positive
          const diff = BigInt(p) * positive - capped * BigInt(Math.max(lines[i] ?? 0, 0));
          expect((diff < 0n ? -diff : diff) < positive).toBe(true);
        });
      }),
    );
  });

  it('percentOff never takes more than the amount, and mirrors for negative amounts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000_000_000 }), fc.integer({ min: 0, max: 10_000 }), (a, h) => {
        const pct = (h / 100).toFixed(2);
        const off = percentOff(usd(a), pct).amount;
        expect(off).toBeGreaterThanOrEqual(0);
        expect(off).toBeLessThanOrEqual(a);
        expect(percentOff(usd(-a), pct).amount + off).toBe(0);
      }),
    );
  });
});
