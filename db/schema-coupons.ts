import { sql } from 'drizzle-orm';
import { bigint, boolean, check, integer, jsonb, numeric, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { scope, ts } from './columns';

/**
 * Coupons: a percentage (exact decimal) or a fixed amount in one currency's minor units,
 * for one period, N periods or forever; optional expiry, redemption cap and plan list.
 * Codes are unique per scope (stored upper-case). `times_redeemed` is raised by a
 * conditional UPDATE, so concurrent redemptions never pass `max_redemptions`.
 */
export const coupons = pgTable(
  'coupons',
  {
    ...scope,
    id: text('id').notNull(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    percentOff: numeric('percent_off'),
    amountOff: bigint('amount_off', { mode: 'number' }),
    currency: text('currency'),
    duration: text('duration').$type<'once' | 'repeating' | 'forever'>().notNull(),
    durationPeriods: integer('duration_periods'),
    /** `repeating` counted in months from the redemption (Stripe's duration_in_months), instead of duration_periods. */
    durationInMonths: integer('duration_in_months'),
    /** An amount-off coupon whose unused part carries over to the next invoices (coupon_balances). */
    carryOver: boolean('carry_over').notNull().default(false),
    expiresAt: ts('expires_at'),
    maxRedemptions: integer('max_redemptions'),
    timesRedeemed: integer('times_redeemed').notNull().default(0),
    /** Plan keys the coupon is restricted to; null for every plan. */
    appliesToPlans: jsonb('applies_to_plans').$type<string[]>(),
    status: text('status').$type<'active' | 'archived'>().notNull(),
    metadata: jsonb('metadata').$type<Record<string, string>>().notNull().default({}),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.appId, t.id] }), uniqueIndex('coupons_code_key').on(t.tenantId, t.appId, t.code)],
);

/**
 * What is left of a carried-over coupon amount, per customer and coupon: made at the
 * first spend with the coupon's amount_off, lowered by one conditional UPDATE per
 * finalized invoice (`amount_remaining >= spend`), so concurrent finalizations queue on
 * the row and never take it below zero (the check says so too).
 */
export const couponBalances = pgTable(
  'coupon_balances',
  {
    ...scope,
    customerId: text('customer_id').notNull(),
    couponId: text('coupon_id').notNull(),
    currency: text('currency').notNull(),
    amountRemaining: bigint('amount_remaining', { mode: 'number' }).notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.appId, t.customerId, t.couponId] }),
    check('coupon_balances_remaining_check', sql`${t.amountRemaining} >= 0`),
  ],
);

/**
 * Each finalized invoice's spend of a carried-over amount, one per invoice (the key): a
 * finalization made twice (a race, a retry) spends once.
 */
export const couponSpends = pgTable(
  'coupon_spends',
  {
    ...scope,
    invoiceId: text('invoice_id').notNull(),
    customerId: text('customer_id').notNull(),
    couponId: text('coupon_id').notNull(),
    amount: bigint('amount', { mode: 'number' }).notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.appId, t.invoiceId] }), check('coupon_spends_amount_check', sql`${t.amount} > 0`)],
);
