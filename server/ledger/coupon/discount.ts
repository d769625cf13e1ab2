import { invalid, multiply, toDecimal, type Money } from '../types';

/**
 * Discounts from coupons: a percentage off an amount, and a fixed amount spread over an
 * invoice's lines. Both give the discount itself (what is taken off), never the
 * discounted amount.
 */

/**
 * `percent` % of `amount` ("12.5" is 12.5 %), rounded once, half away from zero:
 * 20 % off $49.99 is 9.998 -> $10.00. Dividing the percentage by 100 is exact, so the
 * only rounding is the one in `multiply`.
 */
export function percentOff(amount: Money, percent: string): Money {
  const pct = toDecimal(percent, 'percent off');
  if (pct.lt(0) || pct.gt(100)) {
    throw invalid(`percent off must be between 0 and 100, got "${percent}"`, [
      { path: 'percent', message: 'must be between 0 and 100' },
    ]);
  }
  return multiply(amount, pct.div(100));
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
 */
export function allocateDiscount(lineAmounts: readonly Money[], discount: Money): Money[] {
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
  const byRemainder = remainders
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => r > 0n)
    .sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of byRemainder) {
    if (left === 0n) break;
    parts[i] = (parts[i] ?? 0n) + 1n;
    left -= 1n;
  }
  return parts.map((p) => ({ amount: Number(p), currency: cur }));
}
