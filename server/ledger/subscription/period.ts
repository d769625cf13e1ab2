import type { Interval } from '../plan/types';

/**
 * Billing periods. Periods are counted from an anchor instant: period n is
 * [addInterval(anchor, n), addInterval(anchor, n + 1)), half-open, in UTC. Each bound is
 * computed from the anchor, never from the previous bound, so month ends do not drift:
 * an anchor on Jan 31 gives Feb 28 (29 in leap years), Mar 31, Apr 30, May 31 …, and
 * an anchor on Feb 29 bills on Feb 28 in common years.
 */
export interface BillingPeriod {
  start: Date;
  end: Date;
}

const DAY_MS = 86_400_000;

const daysInMonth = (year: number, month0: number) => new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();

/** The anchor moved forward by `n` intervals (n may be 0). */
export function addInterval(anchor: Date, interval: Interval, n: number): Date {
  const k = interval.count * n;
  switch (interval.unit) {
    case 'day':
      return new Date(anchor.getTime() + k * DAY_MS);
    case 'week':
      return new Date(anchor.getTime() + 7 * k * DAY_MS);
    case 'month':
      return addMonths(anchor, k);
    case 'year':
      return addMonths(anchor, 12 * k);
  }
}

function addMonths(anchor: Date, months: number): Date {
  const total = anchor.getUTCFullYear() * 12 + anchor.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month0 = total - year * 12;
  const day = Math.min(anchor.getUTCDate(), daysInMonth(year, month0));
  return new Date(
    Date.UTC(
      year,
      month0,
      day,
      anchor.getUTCHours(),
      anchor.getUTCMinutes(),
      anchor.getUTCSeconds(),
      anchor.getUTCMilliseconds(),
    ),
  );
}

/** Period number n (0 is the one starting at the anchor). */
export function nthPeriod(anchor: Date, interval: Interval, n: number): BillingPeriod {
  return { start: addInterval(anchor, interval, n), end: addInterval(anchor, interval, n + 1) };
}

/** The period that contains `at` (at ≥ anchor): start ≤ at < end. */
export function periodFor(anchor: Date, interval: Interval, at: Date): BillingPeriod {
  if (Number.isNaN(at.getTime()) || Number.isNaN(anchor.getTime())) throw new RangeError('periodFor: invalid date');
  if (at < anchor) throw new RangeError('periodFor: the instant is before the anchor');
  // An estimate from average lengths, then corrected by at most a step or two.
  const approxMs = { day: DAY_MS, week: 7 * DAY_MS, month: 30.436875 * DAY_MS, year: 365.2425 * DAY_MS }[
    interval.unit
  ];
  let n = Math.max(0, Math.floor((at.getTime() - anchor.getTime()) / (approxMs * interval.count)));
  while (n > 0 && addInterval(anchor, interval, n) > at) n--;
  while (addInterval(anchor, interval, n + 1) <= at) n++;
  return nthPeriod(anchor, interval, n);
}
