import type { Interval } from '../plan/types';
import { periodFor, type BillingPeriod } from '../subscription/period';
import { calendarPeriodFor } from '../subscription/calendar';
import type { Subscription } from '../subscription/types';

/**
 * The usage period of a subscription that contains `at`, computed from the clock rather
 * than from the subscription's stored current period, so a check is right across a
 * period end even before the billing cycle renews the subscription:
 * - during the trial (trialStart ≤ at < trialEnd) the period is the trial;
 * - from the billing anchor on, the period of the plan's interval containing `at`;
 * - before the subscription began: null (the instant belongs to no period of it).
 */
export function usagePeriodAt(
  sub: Pick<Subscription, 'trialStart' | 'trialEnd' | 'billingAnchor'> & Partial<Pick<Subscription, 'billingCycle' | 'timeZone'>>,
  interval: Interval,
  at: Date,
): BillingPeriod | null {
  const t = at.getTime();
  if (sub.trialStart && sub.trialEnd && t < sub.trialEnd.getTime()) {
    return t >= sub.trialStart.getTime() ? { start: sub.trialStart, end: sub.trialEnd } : null;
  }
  if (t < sub.billingAnchor.getTime()) return null;
  if (sub.billingCycle === 'calendar') {
    // Calendar billing: the calendar period, the first one cut at the start (subscription/calendar.ts).
    const p = calendarPeriodFor(at, interval, sub.timeZone ?? null);
    return p.start < sub.billingAnchor ? { start: sub.billingAnchor, end: p.end } : p;
  }
  return periodFor(sub.billingAnchor, interval, at);
}
