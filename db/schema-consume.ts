import { numeric, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { scope, ts } from './columns';

/**
 * `entitlements.consume`: one row per idempotency key whose consumption was allowed and
 * recorded, with the answer it got, so that a repeat of the key answers the same (and
 * records nothing). Written in the transaction that stores its usage event (the same
 * idempotency key in usage_events); denials are not written (a repeat re-evaluates).
 */
export const entitlementConsumptions = pgTable(
  'entitlement_consumptions',
  {
    ...scope,
    idempotencyKey: text('idempotency_key').notNull(),
    customerId: text('customer_id').notNull(),
    featureKey: text('feature_key').notNull(),
    /** The quantity consumed, exact. */
    quantity: numeric('quantity').notNull(),
    /** The usage event recorded (usage_events.id). */
    eventId: text('event_id').notNull(),
    /** The answer: usage of the period after this consumption, and the limit then (null: unlimited). */
    used: numeric('used').notNull(),
    limit: numeric('limit'),
    periodStart: ts('period_start').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [primaryKey({ name: 'entitlement_consumptions_pkey', columns: [t.tenantId, t.appId, t.idempotencyKey] })],
);
