import { z } from 'zod';
import { currencySchema } from '../plan/types';
import { Dec, instant, metadataSchema, requiredText, type CouponId, type Currency } from '../types';

/**
 * A coupon: a discount a customer redeems by its code. It takes either a percentage or a
 * fixed amount of one currency off, for the first billing period (`once`), for N invoices
 * or N months from the redemption (`repeating`) or for as long as the subscription lasts
 * (`forever`). A fixed amount may carry over: what one invoice leaves unused discounts the
 * next ones, until it is used up or the duration ends. It may expire, be capped at a
 * number of redemptions and be restricted to some plans.
 *
 * The discount terms and the duration are fixed once created (a change would silently
 * alter what redeemed customers pay); name, metadata, expiry and the cap may change.
 */
export type Coupon = CouponBase &
  CouponDiscountTerms &
  CouponDuration & {
    /** Months of a `repeating` coupon counted in time from its redemption; null otherwise. */
    durationInMonths: number | null;
    /** Whether the unused part of a fixed amount carries over to the next invoices (false for a percentage). */
    carryOver: boolean;
  };

interface CouponBase {
  id: CouponId;
  /** Unique per scope, stored upper-case: "summer25" is redeemed as "SUMMER25". */
  code: string;
  name: string;
  /** The coupon cannot be redeemed at or after this instant; null never expires. */
  expiresAt: Date | null;
  /** The most times it may be redeemed in all; null for no cap. */
  maxRedemptions: number | null;
  timesRedeemed: number;
  /** Plan keys it may be redeemed on; null for every plan. */
  appliesToPlans: string[] | null;
  status: CouponStatus;
  metadata: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * What is taken off: a percentage ("12.5" is 12.5 %) or minor units of one currency.
 * `carryOver` (amounts only): the amount is one balance per customer, spent over the
 * invoices the duration covers, instead of a fresh amount on each.
 */
export type CouponDiscountTerms =
  | { percentOff: string; amountOff: null; currency: null; carryOver?: false }
  | { percentOff: null; amountOff: number; currency: Currency; carryOver?: boolean };

/**
 * For how long after the redemption the discount applies: a count of invoices
 * (`durationPeriods`), or a span of months in time (`durationInMonths`, Stripe's
 * `duration_in_months`) for `repeating`; see couponApplies (apply.ts).
 */
export type CouponDuration =
  | { duration: 'once' | 'forever'; durationPeriods: null; durationInMonths?: null }
  | { duration: 'repeating'; durationPeriods: number; durationInMonths?: null }
  | { duration: 'repeating'; durationPeriods: null; durationInMonths: number };

export const COUPON_DURATIONS = ['once', 'repeating', 'forever'] as const;
export type CouponDurationKind = (typeof COUPON_DURATIONS)[number];
export const COUPON_STATUSES = ['active', 'archived'] as const;
export type CouponStatus = (typeof COUPON_STATUSES)[number];

const CODE = /^[A-Z0-9_-]{3,40}$/;
const PERCENT = /^\d{1,3}(\.\d{1,4})?$/;

/** A code as stored: trimmed and upper-case. Lookups by code normalise the same way. */
export const normalizeCouponCode = (code: string): string => code.trim().toUpperCase();

export const couponCodeSchema = z
  .string()
  .transform(normalizeCouponCode)
  .pipe(z.string().regex(CODE, '3 to 40 letters, digits, "-" or "_", such as "SUMMER25"'));

/**
 * A percentage as an exact decimal string, 0 < p ≤ 100 with at most 4 decimals, kept in
 * its shortest form ("12.50" -> "12.5"), so it reads back the same from every store.
 */
export const percentOffSchema = z
  .string()
  .trim()
  .regex(PERCENT, 'a decimal string with at most 4 decimals, such as "25" or "12.5"')
  // Only a well-formed decimal is compared (a malformed one has its issue already).
  .refine((p) => !PERCENT.test(p) || (new Dec(p).gt(0) && new Dec(p).lte(100)), 'must be more than 0 and at most 100')
  .transform((p) => new Dec(p).toFixed());

/** The columns are integer (int4): caps beyond it cannot be stored. */
const INT4_MAX = 2_147_483_647;

const planKey = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a plan key: lowercase slug such as "pro"');

const fields = {
  name: requiredText(200, { trim: true }),
  /** RFC 3339 or a Date, in 1970–9999 (the service also wants it in the future). */
  expiresAt: instant.nullable(),
  maxRedemptions: z.number().int().min(1).max(INT4_MAX).nullable(),
  metadata: metadataSchema,
};

export const createCouponSchema = z
  .object({
    code: couponCodeSchema,
    name: fields.name,
    percentOff: percentOffSchema.nullable().default(null),
    /** Minor units of `currency`. */
    amountOff: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).nullable().default(null),
    currency: currencySchema.nullable().default(null),
    duration: z.enum(COUPON_DURATIONS),
    /** Only for `repeating`, or durationInMonths: the number of invoices it discounts. */
    durationPeriods: z.number().int().min(1).max(1200).nullable().default(null),
    /**
     * Only for `repeating`, or durationPeriods: the months from the redemption during
     * which invoices are discounted (Stripe's duration_in_months).
     */
    durationInMonths: z.number().int().min(1).max(1200).nullable().default(null),
    /**
     * Amount-off only: what an invoice leaves unused of the amount discounts the next
     * invoices, until used up or the duration ends (Lago's amount_cents_remaining). With
     * `false` (the default) each discounted invoice gets the amount and the rest is lost.
     */
    carryOver: z.boolean().default(false),
    expiresAt: fields.expiresAt.default(null),
    maxRedemptions: fields.maxRedemptions.default(null),
    /** Null (the default) for every plan; otherwise a non-empty list of plan keys. */
    appliesToPlans: z
      .array(planKey)
      .min(1, 'list at least one plan, or pass null for every plan')
      .max(100)
      .transform((keys) => [...new Set(keys)])
      .nullable()
      .default(null),
    metadata: fields.metadata.default({}),
  })
  .superRefine((c, ctx) => {
    if (c.percentOff === null && c.amountOff === null) {
      ctx.addIssue({ code: 'custom', path: ['percentOff'], message: 'give either percentOff or amountOff' });
    }
    if (c.percentOff !== null && c.amountOff !== null) {
      ctx.addIssue({ code: 'custom', path: ['amountOff'], message: 'give either percentOff or amountOff, not both' });
    }
    if (c.amountOff !== null && c.currency === null) {
      ctx.addIssue({ code: 'custom', path: ['currency'], message: 'an amount-off coupon needs a currency' });
    }
    if (c.amountOff === null && c.currency !== null) {
      ctx.addIssue({ code: 'custom', path: ['currency'], message: 'only an amount-off coupon has a currency' });
    }
    if (c.duration === 'repeating' && c.durationPeriods === null && c.durationInMonths === null) {
      ctx.addIssue({ code: 'custom', path: ['durationPeriods'], message: 'a repeating coupon needs durationPeriods (invoices) or durationInMonths' });
    }
    if (c.duration === 'repeating' && c.durationPeriods !== null && c.durationInMonths !== null) {
      ctx.addIssue({ code: 'custom', path: ['durationInMonths'], message: 'give either durationPeriods or durationInMonths, not both' });
    }
    if (c.duration !== 'repeating' && c.durationPeriods !== null) {
      ctx.addIssue({ code: 'custom', path: ['durationPeriods'], message: `a coupon of duration "${c.duration}" has no durationPeriods` });
    }
    if (c.duration !== 'repeating' && c.durationInMonths !== null) {
      ctx.addIssue({ code: 'custom', path: ['durationInMonths'], message: `a coupon of duration "${c.duration}" has no durationInMonths` });
    }
    if (c.carryOver && c.amountOff === null) {
      ctx.addIssue({ code: 'custom', path: ['carryOver'], message: 'only an amount-off coupon carries an amount over' });
    }
    if (c.carryOver && c.duration === 'once') {
      ctx.addIssue({
        code: 'custom',
        path: ['carryOver'],
        message: 'a once coupon discounts one invoice, so nothing could carry over: use forever (until the amount is used up) or repeating',
      });
    }
  });
export type CreateCouponInput = z.input<typeof createCouponSchema>;

/** What may change after creation; never the discount terms or the duration. */
export const updateCouponSchema = z
  .object({
    name: fields.name,
    metadata: fields.metadata,
    expiresAt: fields.expiresAt,
    maxRedemptions: fields.maxRedemptions,
  })
  .partial()
  .strict();
export type UpdateCouponInput = z.input<typeof updateCouponSchema>;

/** Where a coupon is being redeemed: the plan subscribed to, its currency and when. */
export interface RedemptionTarget {
  planKey: string;
  currency: Currency;
  at: Date;
  /** Who redeems: given to the coupon validator (createLedger({ couponValidator })). */
  customerId?: string;
  /** The plan version redeemed on; else the latest version of `planKey`. For the validator. */
  planId?: string;
}

/** The discount terms of parsed input, as the union `Coupon` carries. */
export function discountTermsOf(input: {
  percentOff: string | null;
  amountOff: number | null;
  currency: Currency | null;
  carryOver?: boolean;
}): CouponDiscountTerms & { carryOver: boolean } {
  if (input.percentOff !== null) return { percentOff: input.percentOff, amountOff: null, currency: null, carryOver: false };
  if (input.amountOff !== null && input.currency !== null) {
    return { percentOff: null, amountOff: input.amountOff, currency: input.currency, carryOver: input.carryOver ?? false };
  }
  throw new Error('a coupon has either percentOff, or amountOff with a currency');
}

/** The duration of parsed input, as the union `Coupon` carries. */
export function durationOf(input: {
  duration: CouponDurationKind;
  durationPeriods: number | null;
  durationInMonths?: number | null;
}): CouponDuration & { durationInMonths: number | null } {
  if (input.duration !== 'repeating') return { duration: input.duration, durationPeriods: null, durationInMonths: null };
  if (input.durationInMonths != null) return { duration: 'repeating', durationPeriods: null, durationInMonths: input.durationInMonths };
  if (input.durationPeriods === null) throw new Error('a repeating coupon has durationPeriods or durationInMonths');
  return { duration: 'repeating', durationPeriods: input.durationPeriods, durationInMonths: null };
}
