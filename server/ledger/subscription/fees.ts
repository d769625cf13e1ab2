import { advanceLines } from '../invoice/build';
import type { InvoiceBasis, InvoiceLine } from '../invoice/types';
import type { Plan } from '../plan/types';
import { percentOff } from '../coupon/discount';
import { Dec, DEFAULT_ROUNDING, money, roundToMinor, type Currency, type RoundingMode } from '../types';
import { calendarShare } from './calendar';
import type { BillingPeriod } from './period';
import type { PriceOverrides } from './types';

/**
 * The in-advance fees of a period a subscription enters, as an invoice basis: the whole
 * period's fees (`advance`) when it is a full period, else (a calendar subscription's
 * first, short period) each fee prorated by local days, the start day included, and
 * rounded on its own in the scope's mode (half away from zero unless it chose half to
 * even): 50.00 a month from August 10 is 50.00 × 22/31 = 35.48. The prorated lines keep their kind (base fee, seats, flat fee)
 * and are fixed in `prorations`, since `advance` always bills a whole period.
 */
export function periodFees(
  plan: Plan,
  quantity: number,
  overrides: PriceOverrides,
  entered: { period: BillingPeriod; full: BillingPeriod },
  timeZone: string | null,
  rounding: RoundingMode = DEFAULT_ROUNDING,
): Pick<InvoiceBasis, 'advance' | 'prorations'> {
  const { period, full } = entered;
  const whole = period.start.getTime() <= full.start.getTime() && period.end.getTime() === full.end.getTime();
  // A daily plan's first day is one of one day: in full, like any period that starts on its first day.
  const { part, whole: days } = whole ? { part: 1, whole: 1 } : calendarShare(period.start, full, timeZone);
  if (part >= days) return { advance: { planId: plan.id, quantity, overrides, start: period.start, end: period.end }, prorations: [] };
  const lines = advanceLines(plan, quantity, overrides, period, rounding)
    .map((l) => ({ ...l, amount: share(l.amount, part, days, rounding), description: `${l.description} (${part} of ${days} days)` }))
    .filter((l) => l.amount !== 0);
  return { advance: null, prorations: lines };
}

/** amount × part ÷ whole, rounded once in the mode. */
function share(amount: number, part: number, whole: number, rounding: RoundingMode): number {
  return roundToMinor(new Dec(amount).times(part).div(whole), rounding);
}

/**
 * Proration lines as the customer pays them under a percent-off coupon that discounted the
 * period's fees: a credit gives back what was paid for the unused time, so each credit
 * is reduced by the coupon's percentage (rounded as the charge's discount would be, in the
 * same mode, so an upgrade and the way back at the same instant still net zero); charges stay as they are
 * and the invoice's coupon discounts them.
 */
export function creditsAfterCoupon(lines: readonly InvoiceLine[], percent: string, currency: Currency, rounding: RoundingMode = DEFAULT_ROUNDING): InvoiceLine[] {
  return lines.map((l) => {
    if (l.amount >= 0) return l;
    const paid = -l.amount - percentOff(money(-l.amount, currency), percent, rounding).amount;
    return { ...l, amount: -paid, description: `${l.description} (after ${percent}% off)` };
  });
}

/** Renumbers proration lines `proration:<n>` from `from`, so lines kept from several changes stay distinct on one invoice. */
export function renumber(lines: readonly InvoiceLine[], from: number): InvoiceLine[] {
  let i = from;
  return lines.map((l) => (l.kind === 'proration' ? { ...l, id: `proration:${i++}` } : l));
}
