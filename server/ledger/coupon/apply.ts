import { addInterval } from '../subscription/period';
import { DEFAULT_ROUNDING, invalid, money, zero, type Money, type RoundingMode } from '../types';
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
      // A coupon counted in months (couponApplies) has no count of invoices to stop at.
      return coupon.durationPeriods === null || periodIndex < coupon.durationPeriods;
    case 'forever':
      return true;
  }
}

/**
 * The end of a `durationInMonths` coupon's window: `months` calendar months after the
 * redemption, to the millisecond (UTC; a day the month lacks is its last day: applied on
 * January 31, one month ends February 28). Null for every other duration.
 */
export function couponWindowEnd(coupon: CouponDuration, appliedAt: Date): Date | null {
  if (coupon.duration !== 'repeating' || coupon.durationInMonths == null) return null;
  return addInterval(appliedAt, { unit: 'month', count: coupon.durationInMonths }, 1);
}

/**
 * Whether the coupon redeemed at `appliedAt`, having discounted `periodsApplied`
 * invoices, discounts an invoice issued at `issueAt`:
 * - a count of invoices (once, repeating `durationPeriods`, forever): couponAppliesToPeriod;
 * - `durationInMonths`, Stripe's rule: the discount starts at the redemption and ends
 *   `durationInMonths` months later (Stripe's discount.start and discount.end); an invoice
 *   issued before that end is discounted in full, one issued at or after it is not. A
 *   renewal invoice is issued where its fees' period starts, so an invoice whose period
 *   starts inside the window is discounted. A 4-month coupon redeemed when a subscription
 *   starts discounts 4 invoices of a monthly plan, 1 of a yearly plan (its next invoice is
 *   12 months on), and never 4 years.
 */
export function couponApplies(coupon: CouponDuration, redemption: { appliedAt: Date; periodsApplied: number }, issueAt: Date): boolean {
  const end = couponWindowEnd(coupon, redemption.appliedAt);
  if (end) return issueAt.getTime() < end.getTime();
  return couponAppliesToPeriod(coupon, redemption.periodsApplied);
}

/**
 * Each line's discount (what is taken off, never the discounted amount), in the lines'
 * order and currency:
 * - percent off: that percentage of each positive line, rounded per line in the scope's
 *   mode (half away from zero unless it chose half to even); zero for zero and negative
 *   (credit) lines;
 * - amount off: spread over the positive lines in proportion to their amounts
 *   (`allocateDiscount`), capped at their sum, so the invoice never goes below zero; the
 *   parts add up to it exactly in either mode (the mode only breaks ties of a half).
 * All lines must share one currency, and an amount-off coupon's currency is that one.
 */
export function couponDiscount(coupon: CouponDiscountTerms, lineAmounts: readonly Money[], rounding: RoundingMode = DEFAULT_ROUNDING): Money[] {
  const first = lineAmounts[0];
  if (!first) return [];
  const cur = first.currency;
  for (const line of lineAmounts) {
    if (line.currency !== cur) {
      throw invalid(`an invoice's lines share one currency: got ${cur} and ${line.currency}`);
    }
  }
  if (coupon.percentOff !== null) {
    return lineAmounts.map((line) => (line.amount > 0 ? percentOff(line, coupon.percentOff, rounding) : zero(cur)));
  }
  if (coupon.currency !== cur) {
    throw invalid(`a coupon of ${coupon.currency} cannot discount amounts in ${cur}`);
  }
  return allocateDiscount(lineAmounts, money(coupon.amountOff, coupon.currency), rounding);
}
