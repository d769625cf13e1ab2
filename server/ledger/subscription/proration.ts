import type { BillingPeriod } from './period';
import { Dec, DEFAULT_ROUNDING, add, invalid, roundToMinor, type Money, type RoundingMode } from '../types';

/**
 * Proration by seconds, for fees billed in advance that change mid-period.
 *
 *   factor = (end − at) / (end − start)
 *
 * with every instant floored to a whole second (milliseconds never decide a cent), and
 * clamped to [0, 1]: at or before the start the whole period remains (1), at or after
 * the end nothing does (0). The factor is the share of the period still to come.
 */

/** Seconds of a period: the whole period and the part from `at` to its end. */
export interface ProrationSeconds {
  periodSeconds: number;
  remainingSeconds: number;
}

export function prorationSeconds(period: Pick<BillingPeriod, 'start' | 'end'>, at: Date): ProrationSeconds {
  const start = wholeSeconds(period.start, 'period start');
  const end = wholeSeconds(period.end, 'period end');
  const now = wholeSeconds(at, 'proration instant');
  if (end <= start) {
    throw invalid(`a billing period must end after it starts (${period.start.toISOString()} – ${period.end.toISOString()})`);
  }
  const clamped = Math.min(end, Math.max(start, now));
  return { periodSeconds: end - start, remainingSeconds: end - clamped };
}

/** The share of the period left at `at`, in [0, 1]. Exact to 40 significant digits. */
export function prorationFactor(period: Pick<BillingPeriod, 'start' | 'end'>, at: Date): Dec {
  const { periodSeconds, remainingSeconds } = prorationSeconds(period, at);
  return new Dec(remainingSeconds).div(periodSeconds);
}

/**
 * amount × factor, rounded once in the scope's mode (half away from zero unless it chose
 * half to even): 2.25 for 1 day of 30 is exactly 7.5 cents, 8 by default and 8 (even)
 * in half to even; 2.55 for 1 of 30 days is 8.5 cents: 9 or 8.
 *
 * Computed as amount × remaining ÷ period rather than `multiply(amount, factor)`: the
 * factor is often a repeating decimal (5/6 = 0.8333…), and multiplying by its 40-digit
 * cut can land just below an exact half: $3.00 for 3¼ of 30 days is exactly 32.5 cents,
 * which must round to 33, but 300 × 0.10833…3 is 32.4999… and would round to 32. One
 * division at the end is exact whenever the result is a half.
 */
export function prorate(amount: Money, period: Pick<BillingPeriod, 'start' | 'end'>, at: Date, rounding: RoundingMode = DEFAULT_ROUNDING): Money {
  const { periodSeconds, remainingSeconds } = prorationSeconds(period, at);
  const minor = new Dec(amount.amount).times(remainingSeconds).div(periodSeconds);
  return { amount: roundToMinor(minor, rounding), currency: amount.currency };
}

/** What a mid-period change of an in-advance fee adds to the next invoice. */
export interface ProrationLines {
  /** The unused part of the old fee, given back: zero or negative. */
  credit: Money;
  /** The new fee for the rest of the period. */
  charge: Money;
  /** credit + charge: positive for an upgrade, negative for a downgrade. */
  net: Money;
  periodSeconds: number;
  remainingSeconds: number;
}

/**
 * Each line is rounded on its own, as it appears on the invoice. The credit is the
 * rounding of −old × factor; both rounding modes are symmetric (round(−x) = −round(x):
 * −8.5 → −9 half away from zero, −8 half to even), so it is exactly minus the charge the
 * old fee would get, and an upgrade followed by a downgrade back at the same instant nets
 * exactly zero in either mode. Stripe's example: 10 → 20 USD at mid-period gives a
 * credit of −5.00, a charge of 10.00, net +5.00.
 */
export function prorationLines(
  oldAmount: Money,
  newAmount: Money,
  period: Pick<BillingPeriod, 'start' | 'end'>,
  at: Date,
  rounding: RoundingMode = DEFAULT_ROUNDING,
): ProrationLines {
  const credit = prorate({ amount: -oldAmount.amount, currency: oldAmount.currency }, period, at, rounding);
  const charge = prorate(newAmount, period, at, rounding);
  return { credit, charge, net: add(credit, charge), ...prorationSeconds(period, at) };
}

function wholeSeconds(d: Date, what: string): number {
  const ms = d instanceof Date ? d.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw invalid(`${what} is not a valid date`);
  return Math.floor(ms / 1000);
}
