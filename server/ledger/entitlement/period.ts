import type { Interval } from '../plan/types';
import { periodFor, type BillingPeriod } from '../subscription/period';
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
  sub: Pick<Subscription, 'trialStart' | 'trialEnd' | 'billingAnchor'>,
  interval: Interval,
  at: Date,
): BillingPeriod | null {
  const t = at.getTime();
  if (sub.trialStart && sub.trialEnd && t < sub.trialEnd.getTime()) {
    return t >= sub.trialStart.getTime() ? { start: sub.trialStart, end: sub.trialEnd } : null;
  }
  if (t < sub.billingAnchor.getTime()) return null;
  return periodFor(sub.billingAnchor, interval, at);
}
