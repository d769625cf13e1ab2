import type { Feature } from '../plan/types';
import type { Subscription } from '../subscription/types';
import type { EntitlementReason, EntitlementResult } from './types';

/**
 * The entitlement rules, as pure functions of the subscription, the feature and the
 * usage. Results are frozen: the cache hands the same object to every caller.
 */
const result = (
  allowed: boolean,
  reason: EntitlementReason,
  limit: number | null = null,
  used: number | null = null,
  remaining: number | null = null,
): EntitlementResult => Object.freeze({ allowed, limit, used, remaining, reason });

export const NO_SUBSCRIPTION = result(false, 'no_subscription');
export const NOT_IN_PLAN = result(false, 'feature_not_in_plan');

/**
 * - a subscription `unpaid` (dunning's last retry failed): refused, `past_due`, whatever the kind;
 * - boolean: allowed when enabled;
 * - licensed: allowed, `limit` is the subscription's seats;
 * - metered: allowed while used < limit (always, with no limit); remaining never below 0.
 * `used` is the usage of the current period (metered features only).
 */
export function evaluateFeature(feature: Feature, sub: Pick<Subscription, 'quantity' | 'status'>, used: number): EntitlementResult {
  const answer = byKind(feature, sub, used);
  // Dunning gave up (the final policy `unpaid`): every feature refused until a payment
  // makes the subscription active again. `past_due` (retries still running) keeps access.
  if (sub.status === 'unpaid') return result(false, 'past_due', answer.limit, answer.used, answer.remaining);
  return answer;
}

function byKind(feature: Feature, sub: Pick<Subscription, 'quantity'>, used: number): EntitlementResult {
  switch (feature.kind) {
    case 'boolean':
      return feature.enabled ? result(true, 'enabled') : result(false, 'disabled');
    case 'licensed':
      return result(true, 'seats', sub.quantity);
    case 'metered': {
      if (feature.limit === null) return result(true, 'unlimited', null, used);
      const remaining = Math.max(0, feature.limit - used);
      return used < feature.limit
        ? result(true, 'within_limit', feature.limit, used, remaining)
        : result(false, 'limit_reached', feature.limit, used, 0);
    }
  }
}

/**
 * Whether a subscription gives access at `at`: it is live (trialing or active) and not
 * past a cancellation scheduled for its period end. The billing cycle ends such a
 * subscription; until it runs, the check must not keep granting access.
 */
export function grantsAccessAt(sub: Subscription, at: Date): boolean {
  if (sub.status === 'canceled') return false;
  if (sub.endedAt && sub.endedAt <= at) return false;
  if (sub.cancelAtPeriodEnd && at >= sub.currentPeriodEnd) return false;
  return true;
}
