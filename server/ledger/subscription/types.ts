import { z } from 'zod';
import { minorUnits, priceSchema, type Price } from '../plan/types';
import { boundedRecord, metadataSchema, requiredText, text } from '../types';
import type { BillingReason, InvoiceBasis, InvoiceLine } from '../invoice/types';
import { BILLING_CYCLES, type BillingCycleKind } from './calendar';
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
  /**
   * Periods are counted from here (the start, or the end of the trial). Calendar billing:
   * where paid service began; its periods follow the calendar (billingCycle).
   */
  billingAnchor: Date;
  /**
   * `anniversary` (default): periods of a whole interval from the anchor instant.
   * `calendar`: periods on calendar boundaries (the 1st of the month, Monday, January 1) in
   * `timeZone`, the first one prorated. Chosen at creation (the subscription's input, else
   * the plan's), kept for the subscription's life.
   */
  billingCycle: BillingCycleKind;
  /**
   * The IANA zone whose calendar a calendar subscription follows: the customer's at the
   * subscription's creation (null: UTC), kept so that a later change of the customer's
   * zone never moves a boundary already billed (no overlap, no gap).
   */
  timeZone: string | null;
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
  /**
   * Proration lines of changes made with `prorationBehavior: 'create_prorations'`, waiting
   * for the subscription's next invoice (its renewal, its cancellation, a change that
   * invoices at once), which takes them and empties this.
   */
  pendingProrations: InvoiceLine[];
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
  /** Replaces the plan's minimum commitment (minor units per period); null: none. */
  minimumCommitment?: number | null;
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
    minimumCommitment: minorUnits.nullable().optional(),
    /** By feature key; at most 100 (a plan has at most 100 features). */
    features: boundedRecord(priceSchema, { keys: 100, keyLength: 63 }).optional(),
  })
  .strict();

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
  /** `anniversary` or `calendar`; the plan's billingCycle when omitted (anniversary by default). */
  billingCycle: z.enum(BILLING_CYCLES).optional(),
  metadata: metadataSchema.default({}),
});
export type CreateSubscriptionInput = z.input<typeof createSubscriptionSchema>;

/** Why a customer cancels, as Stripe's `cancellation_details.feedback`. */
export const CANCELLATION_FEEDBACK = ['customer_service', 'low_quality', 'missing_features', 'other', 'switched_service', 'too_complex', 'too_expensive', 'unused'] as const;
export type CancellationFeedback = (typeof CANCELLATION_FEEDBACK)[number];

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

/**
 * What a mid-period change bills for the rest of the period, as Stripe's
 * `proration_behavior`: `always_invoice` (the default, Ledger's behaviour before the
 * option existed) invoices the proration lines at once; `create_prorations` keeps them
 * for the subscription's next invoice; `none` bills no credit and no charge for the rest
 * of the period.
 */
export const PRORATION_BEHAVIORS = ['always_invoice', 'create_prorations', 'none'] as const;
export type ProrationBehavior = (typeof PRORATION_BEHAVIORS)[number];

export const changePlanSchema = z.object({
  planId: requiredText(100),
  /** Seats on the new plan; the current quantity when omitted. */
  quantity: z.number().int().min(1).max(1_000_000).optional(),
  /**
   * When a downgrade (lower in-advance fees) takes effect: `period_end` or `now`. When
   * omitted, the current plan's `changeRules.downgrade.when` (default: at the period end).
   */
  downgradeAt: z.enum(['now', 'period_end']).optional(),
  /**
   * When an upgrade takes effect: `now` or `period_end`. When omitted, the current plan's
   * `changeRules.upgrade.when` (default: at once).
   */
  upgradeAt: z.enum(['now', 'period_end']).optional(),
  /** Credit and charge the rest of the period (default true); `false` is `prorationBehavior: 'none'`. */
  prorate: z.boolean().default(true),
  /** Overrides `prorate` when given. */
  prorationBehavior: z.enum(PRORATION_BEHAVIORS).optional(),
});
export type ChangePlanInput = z.input<typeof changePlanSchema>;

export const changeSeatsSchema = z.object({
  quantity: z.number().int().min(1).max(1_000_000),
  prorate: z.boolean().default(true),
  /** Overrides `prorate` when given (see changePlanSchema). */
  prorationBehavior: z.enum(PRORATION_BEHAVIORS).optional(),
});
export type ChangeSeatsInput = z.input<typeof changeSeatsSchema>;
