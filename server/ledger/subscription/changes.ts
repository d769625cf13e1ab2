import { advanceLines, prorationLinesFor } from '../invoice/build';
import type { InvoiceLine } from '../invoice/types';
import type { Plan } from '../plan/types';
import type { Currency, RoundingMode } from '../types';
import type { BillingPeriod } from './period';
import type { PriceOverrides } from './types';

/**
 * The rules of mid-period changes, pure.
 *
 * An upgrade is a change to higher in-advance fees for the period (base price, seats,
 * flat fees, with the subscription's overrides); equal fees count as an upgrade (it
 * takes effect at once and bills nothing).
 */
export function isUpgrade(
  plan: Plan,
  quantity: number,
  next: Plan,
  nextQuantity: number,
  overrides: PriceOverrides,
  period: BillingPeriod,
  rounding?: RoundingMode,
): boolean {
  // The fees as the scope's rounding bills them: 0.125 a seat is 0.12 under half_even, 0.13 by default.
  const total = (lines: InvoiceLine[]) => lines.reduce((a, l) => a + l.amount, 0);
  return total(advanceLines(next, nextQuantity, overrides, period, rounding)) >= total(advanceLines(plan, quantity, overrides, period, rounding));
}

/**
 * The proration lines of a change of fees at `at`: fees present, with the same amount,
 * before and after (the base fee when only seats change) are left out; every other old
 * fee is credited and every other new fee charged for the rest of the period.
 */
export function feesChanged(
  oldFees: readonly InvoiceLine[],
  newFees: readonly InvoiceLine[],
  period: BillingPeriod,
  at: Date,
  currency: Currency,
  rounding?: RoundingMode,
): InvoiceLine[] {
  const same = (a: InvoiceLine, b: InvoiceLine) => a.id === b.id && a.amount === b.amount && a.description === b.description;
  const gone = oldFees.filter((o) => !newFees.some((n) => same(o, n)));
  const added = newFees.filter((n) => !oldFees.some((o) => same(o, n)));
  return prorationLinesFor(gone, added, period, at, currency, 0, rounding);
}
