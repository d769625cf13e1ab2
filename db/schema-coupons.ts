import { bigint, integer, jsonb, numeric, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
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
