import { UsageTally } from '../meter/aggregate';
import type { UsageEvent } from '../meter/types';
import type { Feature, Plan } from '../plan/types';
import type { BillingPeriod } from '../subscription/period';
import type { Subscription } from '../subscription/types';
import type { CustomerId, Scope } from '../types';
import { evaluateFeature } from './evaluate';
import type { EntitlementResult } from './types';

/**
 * What the cache holds for one customer: the live subscription and its plan version,
 * the current usage period, and a ready answer for every feature of the plan. A check
 * that hits the cache is a map lookup; usage metered in this process updates the
 * answers as it is buffered, so they are never recomputed on the hot path.
 */
export type MeteredFeature = Extract<Feature, { kind: 'metered' }>;

export interface MeteredUsage {
  feature: MeteredFeature;
  /** The period's usage: a committed base plus this process's events since. */
  tally: UsageTally;
}

export interface FeatureSlot {
  feature: Feature;
  result: EntitlementResult;
  metered: MeteredUsage | null;
  /** A metered threshold (soft limit or limit) is reached and its hook may be due. */
  alert: boolean;
  /** Threshold hooks this slot has handled (bit 1: soft limit, bit 2: quota). */
  notified: number;
}

export interface Entry {
  readonly key: string;
  readonly scope: Scope;
  readonly customerId: CustomerId;
  /** Null: no subscription grants access now (every answer is `no_subscription`). */
  readonly sub: Subscription | null;
  readonly plan: Plan | null;
  readonly period: BillingPeriod | null;
  /** The entry answers for instants in [startMs, endMs); outside, it is refilled. */
  readonly startMs: number;
  readonly endMs: number;
  readonly slots: Map<string, FeatureSlot>;
  /** When the usage is next re-read from its shared source (Infinity: not needed). */
  refreshAt: number;
  refreshing: boolean;
}

export const meteredFeatures = (plan: Plan): MeteredFeature[] =>
  plan.features.filter((f): f is MeteredFeature => f.kind === 'metered');

/** Usage of one feature read for an entry: the committed base and the uncommitted events. */
export interface UsageRead {
  base: string;
  events: readonly UsageEvent[];
}

export function inPeriod(period: BillingPeriod, event: UsageEvent): boolean {
  const t = event.timestamp.getTime();
  return t >= period.start.getTime() && t < period.end.getTime();
}

export function meteredUsage(feature: MeteredFeature, read: UsageRead, period: BillingPeriod): MeteredUsage {
  const tally = new UsageTally(feature.aggregation, read.base, feature.uniqueProperty);
  for (const e of read.events) if (inPeriod(period, e)) tally.add(e);
  return { feature, tally };
}

/** Recomputes a slot's answer from its usage; says whether a threshold may be due. */
export function settle(slot: FeatureSlot, sub: Subscription, softRatio: number): void {
  const used = slot.metered ? slot.metered.tally.toNumber() : 0;
  slot.result = evaluateFeature(slot.feature, sub, used);
  const limit = slot.feature.kind === 'metered' ? slot.feature.limit : null;
  slot.alert = limit !== null && used >= limit * softRatio;
}

export function buildEntry(args: {
  key: string;
  scope: Scope;
  customerId: CustomerId;
  sub: Subscription;
  plan: Plan;
  period: BillingPeriod;
  usage: Map<string, UsageRead>;
  softRatio: number;
  refreshAt: number;
}): Entry {
  const { sub, plan, period } = args;
  const slots = new Map<string, FeatureSlot>();
  for (const feature of plan.features) {
    const read = args.usage.get(feature.key);
    const metered = feature.kind === 'metered' && read ? meteredUsage(feature, read, period) : null;
    const slot: FeatureSlot = { feature, metered, result: null as unknown as EntitlementResult, alert: false, notified: 0 };
    settle(slot, sub, args.softRatio);
    slots.set(feature.key, slot);
  }
  // Access ends at the period's end, and at the current period's end when cancellation
  // is scheduled for it (the billing cycle then ends the subscription).
  const endMs = Math.min(period.end.getTime(), sub.cancelAtPeriodEnd ? sub.currentPeriodEnd.getTime() : Infinity);
  return {
    key: args.key,
    scope: args.scope,
    customerId: args.customerId,
    sub,
    plan,
    period,
    startMs: period.start.getTime(),
    endMs,
    slots,
    refreshAt: args.refreshAt,
    refreshing: false,
  };
}

/** An entry for a customer whose subscription gives no access; valid until invalidated. */
export function emptyEntry(key: string, scope: Scope, customerId: CustomerId, until = Infinity): Entry {
  return {
    key,
    scope,
    customerId,
    sub: null,
    plan: null,
    period: null,
    startMs: -Infinity,
    endMs: until,
    slots: new Map(),
    refreshAt: Infinity,
    refreshing: false,
  };
}
