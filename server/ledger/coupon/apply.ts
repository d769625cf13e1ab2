import { invalid, money, zero, type Money } from '../types';
import { allocateDiscount, percentOff } from './discount';
import type { CouponDiscountTerms, CouponDuration } from './types';

/**
 * How a redeemed coupon discounts an invoice: in which billing periods it applies, and
 * how much it takes off each line. Pure functions; the invoice builder calls them.
 */

/**
 * Whether the coupon discounts the billing period `periodIndex`, counted from the first
 * period after the redemption (0): `once` only period 0; `repeating` N periods 0..N-1;
 * `forever` every period.
 */
export function couponAppliesToPeriod(coupon: CouponDuration, periodIndex: number): boolean {
  if (!Number.isSafeInteger(periodIndex) || periodIndex < 0) {
    throw invalid(`a period index is a whole number from 0, got ${periodIndex}`);
  }
  switch (coupon.duration) {
    case 'once':
      return periodIndex === 0;
    case 'repeating':
      return periodIndex < coupon.durationPeriods;
    case 'forever':
      return true;
  }
}

/**
 * Each line's discount (what is taken off, never the discounted amount), in the lines'
 * order and currency:
 * - percent off: that percentage of each positive line, rounded per line (half away from
 *   zero); zero for zero and negative (credit) lines;
 * - amount off: spread over the positive lines in proportion to their amounts
 *   (`allocateDiscount`), capped at their sum, so the invoice never goes below zero.
 * All lines must share one currency, and an amount-off coupon's currency is that one.
 */
export function couponDiscount(coupon: CouponDiscountTerms, lineAmounts: readonly Money[]): Money[] {
  const first = lineAmounts[0];
  if (!first) return [];
  const cur = first.currency;
  for (const line of lineAmounts) {
    if (line.currency !== cur) {
      throw invalid(`an invoice's lines share one currency: got ${cur} and ${line.currency}`);
    }
  }
  if (coupon.percentOff !== null) {
    return lineAmounts.map((line) => (line.amount > 0 ? percentOff(line, coupon.percentOff) : zero(cur)));
  }
  if (coupon.currency !== cur) {
    throw invalid(`a coupon of ${coupon.currency} cannot discount amounts in ${cur}`);
  }
  return allocateDiscount(lineAmounts, money(coupon.amountOff, coupon.currency));
}
