import { z } from 'zod';
import { minorUnits, priceSchema, type Price } from '../plan/types';
import { boundedRecord, metadataSchema, requiredText, text } from '../types';
import type { BillingReason, InvoiceBasis } from '../invoice/types';
import type { CouponId, Currency, CustomerId, PlanId, SubscriptionId } from '../types';

/**
 * trialing -> active -> canceled. A subscription on trial is `trialing` until its trial
 * ends; `canceled` is final. Cancelling at period end keeps it active with
 * `cancelAtPeriodEnd` set until the billing cycle reaches that end.
 *
 * Dunning (payments): an automatic charge of its invoice failed, so it is `past_due`
 * while retries are scheduled; after the last one, `unpaid` (its entitlements are
 * refused) or `canceled`, as the scope's final policy says. A later payment makes it
 * `active` again.
 */
export type SubscriptionStatus = 'trialing' | 'active' | 'past_due' | 'unpaid' | 'canceled';

export interface Subscription {
  id: SubscriptionId;
  customerId: CustomerId;
  /** A specific plan version: the prices this subscriber pays. */
  planId: PlanId;
  /** Multi-currency: the currency of its prices and invoices, set when it is made, never changed. */
  currency: Currency;
  status: SubscriptionStatus;
  /** Seats, for licensed features. */
  quantity: number;
  trialStart: Date | null;
  trialEnd: Date | null;
  /** Periods are counted from here (the start, or the end of the trial). */
  billingAnchor: Date;
  /** The current period, half-open: [currentPeriodStart, currentPeriodEnd). */
  currentPeriodStart: Date;
  currentPeriodEnd: Date;
  cancelAtPeriodEnd: boolean;
  canceledAt: Date | null;
  endedAt: Date | null;
  /** Usage from here on is not billed yet: the period's start, or the last mid-period change. */
  unbilledFrom: Date;
  /** The coupon applied by code, and how many invoices it has discounted so far. */
  discount: SubscriptionDiscount | null;
  /** Prices that replace the plan's for this subscriber. */
  priceOverrides: PriceOverrides;
  /** A change applied by the billing cycle at the end of the current period (a downgrade). */
  pendingChange: PendingChange | null;
  /**
   * Invoices owed by changes already made, not yet made: written with the change in one
   * conditional update, then made (once, by key) and removed.
   */
  outbox: OutboxInvoice[];
  /** Raised by every write; the billing cycle writes only if it has not moved. */
  version: number;
  metadata: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

export interface SubscriptionDiscount {
  couponId: CouponId;
  code: string;
  appliedAt: Date;
  /** Invoices discounted so far: `once` applies while 0, `repeating N` while below N. */
  periodsApplied: number;
}

export interface PriceOverrides {
  /** Replaces the plan's base price (minor units per period). */
  basePrice?: number;
  /** Replaces a feature's price, by feature key. */
  features?: Record<string, Price>;
}

export interface OutboxInvoice {
  key: string;
  reason: BillingReason;
  issueAt: Date;
  basis: InvoiceBasis;
}

export interface PendingChange {
  planId: PlanId;
  quantity: number;
}

export const priceOverridesSchema = z
  .object({
    basePrice: minorUnits.optional(),
    /** By feature key; at most 100 (a plan has at most 100 features). */
    features: boundedRecord(priceSchema, { keys: 100, keyLength: 63 }).optional(),
  })
  .strict();
  /** Replaces the plan's minimum commitment (minor units per period); null: none. */
  minimumCommitment?: number | null;

export const createSubscriptionSchema = z.object({
  customerId: requiredText(100),
  planId: requiredText(100),
  quantity: z.number().int().min(1).max(1_000_000).default(1),
  /** Overrides the plan's trial length; 0 for no trial. */
  trialDays: z.number().int().min(0).max(365).optional(),
  /** A coupon code to redeem on the subscription. */
  couponCode: requiredText(100).optional(),
  /** Prices that replace the plan's for this subscriber. */
  priceOverrides: priceOverridesSchema.default({}),
  metadata: metadataSchema.default({}),
});
export type CreateSubscriptionInput = z.input<typeof createSubscriptionSchema>;

/** Why a customer cancels, as Stripe's `cancellation_details.feedback`. */
export const CANCELLATION_FEEDBACK = ['customer_service', 'low_quality', 'missing_features', 'other', 'switched_service', 'too_complex', 'too_expensive', 'unused'] as const;
export type CancellationFeedback = (typeof CANCELLATION_FEEDBACK)[number];

    minimumCommitment: minorUnits.nullable().optional(),
export const cancelSchema = z.object({
  /** `now` ends it at once; `period_end` lets it run to the end of the paid period. */
  at: z.enum(['now', 'period_end']).default('period_end'),
  /**
   * Ending now: credit the unused part of the period's in-advance fees on the final
   * invoice (default false: no refund of the period paid for).
   */
  prorate: z.boolean().default(false),
  /**
   * The customer's reason and words, kept on the subscription's metadata as
   * `cancellation_feedback` and `cancellation_comment` (Stripe's cancellation_details).
   */
  feedback: z.enum(CANCELLATION_FEEDBACK).optional(),
  comment: text(500, { trim: true }).optional(),
});
export type CancelInput = z.input<typeof cancelSchema>;

export const changePlanSchema = z.object({
  planId: requiredText(100),
  /** Seats on the new plan; the current quantity when omitted. */
  quantity: z.number().int().min(1).max(1_000_000).optional(),
  /**
   * When a downgrade (lower in-advance fees) takes effect: `period_end` (default) or
   * `now`. Upgrades always take effect at once.
   */
  downgradeAt: z.enum(['now', 'period_end']).default('period_end'),
  /** Credit and charge the rest of the period (default true). */
  prorate: z.boolean().default(true),
});
export type ChangePlanInput = z.input<typeof changePlanSchema>;

export const changeSeatsSchema = z.object({
  quantity: z.number().int().min(1).max(1_000_000),
  prorate: z.boolean().default(true),
});
export type ChangeSeatsInput = z.input<typeof changeSeatsSchema>;
