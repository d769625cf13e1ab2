import { DEFAULT_ROUNDING, invalid, multiply, toDecimal, type Money, type RoundingMode } from '../types';

/**
 * Discounts from coupons: a percentage off an amount, and a fixed amount spread over an
 * invoice's lines. Both give the discount itself (what is taken off), never the
 * discounted amount.
 */

/**
 * `percent` % of `amount` ("12.5" is 12.5 %), rounded once in the scope's mode (half
 * away from zero unless it chose half to even): 20 % off $49.99 is 9.998 -> $10.00;
 * 12.5 % off $1.00 is exactly 12.5 cents -> 13 (half away from zero) or 12 (half to
 * even). Dividing the percentage by 100 is exact, so the only rounding is the one in
 * `multiply`.
 */
export function percentOff(amount: Money, percent: string, rounding: RoundingMode = DEFAULT_ROUNDING): Money {
  const pct = toDecimal(percent, 'percent off');
  if (pct.lt(0) || pct.gt(100)) {
    throw invalid(`percent off must be between 0 and 100, got "${percent}"`, [
      { path: 'percent', message: 'must be between 0 and 100' },
    ]);
  }
  return multiply(amount, pct.div(100), rounding);
}

/**
 * Spreads a fixed discount over the lines in proportion to their amounts, so each line
 * (and its tax) can show its share. Rules:
 * - only positive lines share it; zero and negative (credit) lines get zero;
 * - the discount is capped at the sum of the positive lines: a discount never turns a
 *   line, or the invoice, negative;
 * - the parts sum exactly to the (capped) discount, by the largest-remainder method:
 *   each line gets the floor of its exact share, and the minor units left over go one
 *   each to the lines with the largest remainders (equal remainders: earlier line first).
 *   Rounding each share on its own would not: 2 cents over three equal lines rounds to
 *   1 + 1 + 1 = 3 cents; largest remainder gives 1 + 1 + 0.
 * No part exceeds its line: a line with a remainder has floor(share) < share ≤ line.
 * Integer arithmetic in BigInt, since discount × line may pass 2^53.
 *
 * The discount itself is never rounded (it is a whole amount), so the rounding mode only
 * decides ties of exactly half a unit. Half to even gives those first to the lines whose
 * floor is odd (the share rounds up to even), then earlier lines first; half away from
 * zero keeps the order above. 2 cents over lines of 1.00 and 3.00 (shares 0.5 and 1.5):
 * 1 + 1 by default, 0 + 2 in half to even, what rounding each share half to even gives.
 */
export function allocateDiscount(lineAmounts: readonly Money[], discount: Money, rounding: RoundingMode = DEFAULT_ROUNDING): Money[] {
  if (discount.amount < 0) {
    throw invalid(`a discount must not be negative, got ${discount.amount} minor units`);
  }
  const cur = discount.currency;
  for (const line of lineAmounts) {
    if (line.currency !== cur) throw invalid(`cannot combine ${line.currency} and ${cur} amounts`);
  }
  const shares = lineAmounts.map((l) => BigInt(Math.max(l.amount, 0)));
  const positiveTotal = shares.reduce((a, b) => a + b, 0n);
  const capped = BigInt(discount.amount) < positiveTotal ? BigInt(discount.amount) : positiveTotal;
  if (capped === 0n) return lineAmounts.map(() => ({ amount: 0, currency: cur }));

  const parts = shares.map((line) => (capped * line) / positiveTotal);
  // The remainders share the denominator positiveTotal, so their numerators compare.
  const remainders = shares.map((line) => (capped * line) % positiveTotal);
  let left = capped - parts.reduce((a, b) => a + b, 0n);
  // Half to even: at a remainder of exactly one half, an odd floor goes first.
  const evenFirst = (i: number) => (rounding === 'half_even' && 2n * remainders[i]! === positiveTotal && parts[i]! % 2n === 1n ? 0 : 1);
  const byRemainder = remainders
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => r > 0n)
    .sort((a, b) => (a.r === b.r ? evenFirst(a.i) - evenFirst(b.i) || a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of byRemainder) {
    if (left === 0n) break;
    parts[i] = (parts[i] ?? 0n) + 1n;
    left -= 1n;
  }
  return parts.map((p) => ({ amount: Number(p), currency: cur }));
}
