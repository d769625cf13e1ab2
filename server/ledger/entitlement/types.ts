import type { UsageObserver } from '../meter/observer';
import type { UsageEvent } from '../meter/types';
import type { Aggregation, Feature } from '../plan/types';
import type { SubscriptionStatus } from '../subscription/types';
import type { CustomerId, Scope } from '../types';

/**
 * Entitlements: may this customer use this feature right now?
 *
 * The answer comes from the customer's live subscription (trialing, active, past_due or unpaid) and its
 * plan version:
 * - boolean feature: allowed when enabled (`enabled` / `disabled`);
 * - licensed feature: allowed, `limit` is the subscription's seat quantity (`seats`);
 * - metered feature: `used` is the usage of the current period; with no limit it is
 *   allowed (`unlimited`), below the limit allowed (`within_limit`), at or above it denied
 *   (`limit_reached`: used ≥ limit).
 * No live subscription: `no_subscription`; a feature the plan lacks: `feature_not_in_plan`.
 * A subscription `unpaid` (dunning's retries all failed, the final policy `unpaid`):
 * every feature refused with `past_due`, until a payment makes it active again; while
 * retries run (`past_due`) access stays.
 */
export type EntitlementReason =
  | 'no_subscription'
  | 'feature_not_in_plan'
  | 'disabled'
  | 'enabled'
  | 'seats'
  | 'unlimited'
  | 'within_limit'
  | 'limit_reached'
  /** entitlements.consume of a feature limited by credits: the wallet cannot pay for it. */
  | 'insufficient_credits'
  | 'past_due';

export interface EntitlementResult {
  readonly allowed: boolean;
  /** Metered: usage allowed per period (null: unlimited). Licensed: the seats. Else null. */
  readonly limit: number | null;
  /** Metered: usage of the current period. Else null. */
  readonly used: number | null;
  /** Metered with a limit: limit − used, never below 0. Else null. */
  readonly remaining: number | null;
  readonly reason: EntitlementReason;
}

/** The payload of onEntitlementChecked, onQuotaExceeded and onSoftLimitReached. */
export interface EntitlementCheck {
  customerId: string;
  featureKey: string;
  result: EntitlementResult;
  /** The usage period, for metered features. */
  period?: UsagePeriod;
  /** onEntitlementChecked: `hit` answered from the cache; `miss` the customer's entry was read first. */
  cache?: 'hit' | 'miss';
  /** onEntitlementChecked, of a miss: ms from the call to the answer (reads included). Hits are not timed (two clock reads would cost a hit a third more). */
  elapsedMs?: number;
}

/** A half-open usage period [start, end). */
export interface UsagePeriod {
  start: Date;
  end: Date;
}

/** One feature of the customer's plan, with its usage in the current period. */
export interface FeatureUsage {
  featureKey: string;
  name: string;
  kind: Feature['kind'];
  /** Metered features only. */
  aggregation?: Aggregation;
  unitName?: string;
  /** As in EntitlementResult: usage for metered features, else null. */
  used: number | null;
  limit: number | null;
  remaining: number | null;
  allowed: boolean;
  reason: EntitlementReason;
  /** The current period (the trial while trialing). */
  period: UsagePeriod;
}

export interface UsageSummary {
  customerId: string;
  /** Null when the customer has no live subscription (then `features` is empty). */
  subscriptionId: string | null;
  status: SubscriptionStatus | null;
  planId: string | null;
  planKey: string | null;
  planName: string | null;
  /** Every feature of the plan, in the plan's order. */
  features: FeatureUsage[];
}

/**
 * What entitlements need from metering (MeterService satisfies it): in-process events as
 * they are buffered and committed, and the usage held but not yet committed.
 */
export interface MeterTap {
  observe(observer: UsageObserver): void;
  uncommitted(scope: Scope, customerId: CustomerId, featureKey: string): { buffered: UsageEvent[]; writing: boolean };
}

export interface EntitlementCacheOptions {
  /** Most customers cached (default 10,000). */
  max?: number;
  /** How long a customer's entry lives, in ms (default 60,000). */
  ttlMs?: number;
}

export const DEFAULT_CACHE = { max: 10_000, ttlMs: 60_000 } as const;

/** Share of a limit at which onSoftLimitReached fires, once per customer, feature and period. */
export const DEFAULT_SOFT_LIMIT_RATIO = 0.8;
