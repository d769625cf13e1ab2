import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  numeric,
  pgSequence,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * Every table carries the scope (tenant_id, app_id) and every primary and unique key
 * starts with it: two tenants can never collide, and every index serves scoped queries.
 * Money columns are bigint minor units, read as JS numbers (safe integers, checked in
 * the engine). Timestamps are timestamptz.
 */
import { scope, ts } from './columns';
import { testClocks } from './schema-billing';

export const customers = pgTable(
  'customers',
  {
    ...scope,
    id: text('id').notNull(),
    externalId: text('external_id'),
    email: text('email').notNull(),
    name: text('name').notNull(),
    country: text('country'),
    region: text('region'),
    /** Billing address, copied onto invoices when they are finalized. */
    address: jsonb('address').$type<{ line1: string; line2: string | null; city: string; postalCode: string | null; state: string | null }>(),
    /** taxable, exempt (pays no tax) or reverse_charge (the buyer accounts for it). */
    taxStatus: text('tax_status').$type<'taxable' | 'exempt' | 'reverse_charge'>().notNull().default('taxable'),
    taxId: text('tax_id'),
    metadata: jsonb('metadata').$type<Record<string, string>>().notNull().default({}),
    /** The test clock the customer lives on (test scopes only); set at creation. */
    testClockId: text('test_clock_id'),
    /** How this customer's invoices are collected; null: charged automatically when it has a default payment method, else sent. */
    collectionMethod: text('collection_method').$type<'charge_automatically' | 'send_invoice'>(),
    /** For sent invoices: days until due; null: the scope's setting. */
    daysUntilDue: integer('days_until_due'),
    /** Multi-currency: the currency its subscriptions are priced in (ISO 4217); null until set or fixed by its first subscription. */
    currency: text('currency'),
    /** The customer's IANA time zone; null: UTC. Calendar billing's boundaries are midnight there. */
    timeZone: text('time_zone'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.appId, t.id] }),
    uniqueIndex('customers_external_id_key').on(t.tenantId, t.appId, t.externalId),
    // The customers of a clock (its advance, its deletion, the engine's clock map).
    index('customers_test_clock_idx').on(t.tenantId, t.appId, t.testClockId).where(sql`${t.testClockId} is not null`),
    // A customer is created on a clock that exists, and a clock is deleted after its customers.
    foreignKey({
      name: 'customers_test_clock_fk',
      columns: [t.tenantId, t.appId, t.testClockId],
      foreignColumns: [testClocks.tenantId, testClocks.appId, testClocks.id],
    }),
  ],
);

export const plans = pgTable(
  'plans',
  {
    ...scope,
    id: text('id').notNull(),
    key: text('key').notNull(),
    version: integer('version').notNull(),
    isLatest: boolean('is_latest').notNull(),
    status: text('status').$type<'active' | 'archived'>().notNull(),
    name: text('name').notNull(),
    description: text('description').notNull(),
    currency: text('currency').notNull(),
    intervalUnit: text('interval_unit').notNull(),
    intervalCount: integer('interval_count').notNull(),
    basePrice: bigint('base_price', { mode: 'number' }).notNull(),
    trialDays: integer('trial_days').notNull(),
    // Validated by the engine's zod schema on the way in and on the way out.
    features: jsonb('features').$type<unknown[]>().notNull(),
    /** Minimum spend per period in minor units, before discounts and taxes; null: none. */
    minimumCommitment: bigint('minimum_commitment', { mode: 'number' }),
    /** Multi-currency: the prices in each currency besides `currency` (validated like features). */
    currencyPrices: jsonb('currency_prices').$type<unknown[]>().notNull().default([]),
    /** anniversary or calendar periods for new subscriptions. */
    billingCycle: text('billing_cycle').$type<'anniversary' | 'calendar'>().notNull().default('anniversary'),
    /** How changes away from the plan take effect (validated by the engine); null: the defaults. */
    changeRules: jsonb('change_rules'),
    metadata: jsonb('metadata').$type<Record<string, string>>().notNull().default({}),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.appId, t.id] }),
    uniqueIndex('plans_key_version_key').on(t.tenantId, t.appId, t.key, t.version),
    // Exactly one version of a plan line is the one new subscriptions get.
    uniqueIndex('plans_latest_key').on(t.tenantId, t.appId, t.key).where(sql`${t.isLatest}`),
  ],
);

export const subscriptions = pgTable(
  'subscriptions',
  {
    ...scope,
    id: text('id').notNull(),
    customerId: text('customer_id').notNull(),
    planId: text('plan_id').notNull(),
    /** Multi-currency: the currency of its prices and invoices, chosen when it was made; never changes. */
    currency: text('currency').notNull(),
    status: text('status').$type<'trialing' | 'active' | 'past_due' | 'unpaid' | 'canceled'>().notNull(),
    quantity: integer('quantity').notNull(),
    trialStart: ts('trial_start'),
    trialEnd: ts('trial_end'),
    billingAnchor: ts('billing_anchor').notNull(),
    currentPeriodStart: ts('current_period_start').notNull(),
    currentPeriodEnd: ts('current_period_end').notNull(),
    cancelAtPeriodEnd: boolean('cancel_at_period_end').notNull().default(false),
    /** anniversary or calendar periods, chosen at creation. */
    billingCycle: text('billing_cycle').$type<'anniversary' | 'calendar'>().notNull().default('anniversary'),
    /** The IANA zone of a calendar subscription's boundaries (the customer's at creation); null: UTC. */
    timeZone: text('time_zone'),
    /** Proration lines waiting for the next invoice (prorationBehavior create_prorations). */
    pendingProrations: jsonb('pending_prorations').notNull().default([]),
    canceledAt: ts('canceled_at'),
    endedAt: ts('ended_at'),
    /** Usage from here on is not billed yet: the period start, or the last mid-period change. */
    unbilledFrom: ts('unbilled_from').notNull(),
    /** A coupon applied by code, and how many invoices it has discounted. */
    discount: jsonb('discount'),
    /** Prices that replace the plan's for this subscriber: base price and per feature. */
    priceOverrides: jsonb('price_overrides').notNull().default({}),
    /** A change the cycle applies at the end of the current period (a downgrade). */
    pendingChange: jsonb('pending_change'),
    /**
     * Invoices owed by changes already made (a plan change, a cancellation now), written
     * with the change in one conditional update and made from here, idempotently, after
     * it: a change and its invoice never exist one without the other.
     */
    outbox: jsonb('outbox').notNull().default([]),
    /** Raised by every write: the billing cycle's writes are conditional on it. */
    version: integer('version').notNull().default(0),
    metadata: jsonb('metadata').$type<Record<string, string>>().notNull().default({}),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.appId, t.id] }),
    // The billing cycle's search: live subscriptions whose period has ended…
    index('subscriptions_due_idx').on(t.tenantId, t.appId, t.currentPeriodEnd).where(sql`${t.status} <> 'canceled'`),
    // …and subscriptions with invoices still owed by their changes.
    index('subscriptions_outbox_idx').on(t.tenantId, t.appId).where(sql`${t.outbox} <> '[]'::jsonb`),
    foreignKey({
      name: 'subscriptions_customer_fk',
      columns: [t.tenantId, t.appId, t.customerId],
      foreignColumns: [customers.tenantId, customers.appId, customers.id],
    }),
    foreignKey({
      name: 'subscriptions_plan_fk',
      columns: [t.tenantId, t.appId, t.planId],
      foreignColumns: [plans.tenantId, plans.appId, plans.id],
    }),
    index('subscriptions_customer_idx').on(t.tenantId, t.appId, t.customerId, t.id),
    // A customer has at most one live subscription per app.
    uniqueIndex('subscriptions_one_live_key')
      .on(t.tenantId, t.appId, t.customerId)
      .where(sql`${t.status} <> 'canceled'`),
  ],
);

/**
 * Scopes (a tenant's app) and their mode. A `live` scope moves real money and lives at
 * the real time; a `test` scope is for rehearsal: its keys read `ldg_test_…`, it may
 * have test clocks, and it never charges a real card. A scope's mode is set once, when
 * its first API key is made (or by the engine), and never changes. A scope with no row
 * is live: the safe default.
 */
export const scopes = pgTable(
  'scopes',
  {
    ...scope,
    mode: text('mode').$type<'live' | 'test'>().notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.appId] }), check('scopes_mode_check', sql`${t.mode} in ('live', 'test')`)],
);

/**
 * API keys for product teams. Only a SHA-256 of the key is stored (keys are 190 bits of
 * randomness, so a slow hash adds nothing); `prefix` is the visible part shown in lists
 * and used to find the row. This is the one lookup not made inside a scope: the key is
 * what tells us the scope.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    ...scope,
    id: text('id').notNull(),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    hash: text('hash').notNull(),
    createdAt: ts('created_at').notNull(),
    lastUsedAt: ts('last_used_at'),
    revokedAt: ts('revoked_at'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.appId, t.id] }), index('api_keys_prefix_idx').on(t.prefix)],
);

/**
 * Usage events: append-only, one row per (scope, idempotency key). That primary key is
 * the exactly-once guarantee: an insert of a key already stored does nothing. `seq`
 * orders events that share a timestamp (for `latest`): it is taken from
 * `usage_events_seq` once per batch and scaled, plus the event's position in the batch,
 * so a later event of a batch, or an event of a later batch, has a greater seq.
 * Quantities are exact numerics, read as strings.
 */
export const usageEventsSeq = pgSequence('usage_events_seq');

export const usageEvents = pgTable(
  'usage_events',
  {
    ...scope,
    id: text('id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    customerId: text('customer_id').notNull(),
    featureKey: text('feature_key').notNull(),
    quantity: numeric('quantity').notNull(),
    timestamp: ts('timestamp').notNull(),
    properties: jsonb('properties').$type<Record<string, string | number | boolean | null>>().notNull().default({}),
    distinctValue: text('distinct_value'),
    seq: bigint('seq', { mode: 'bigint' }).notNull(),
    receivedAt: ts('received_at').notNull().defaultNow(),
    /**
     * One customer's feature in one scope, as a 64-bit hash: the raw-event index is
     * (series, timestamp) instead of five wide text columns, which made inserts ~30 %
     * slower. Readers match the hash and then the exact columns (a collision only costs
     * a row read and filtered out). `|` cannot occur in slugs, TypeIDs or feature keys.
     */
    series: bigint('series', { mode: 'bigint' })
      .notNull()
      .generatedAlwaysAs(sql`hashtextextended(tenant_id || '|' || app_id || '|' || customer_id || '|' || feature_key, 0)`),
  },
  (t) => [
    primaryKey({ name: 'usage_events_pkey', columns: [t.tenantId, t.appId, t.idempotencyKey] }),
    // The raw reads: the partial hours at the edges of a range.
    index('usage_events_series_ts_idx').on(t.series, t.timestamp),
  ],
);

/**
 * Hourly rollups of usage_events (UTC hours), maintained by the statement that inserts
 * the events: reads of whole hours never touch raw events. `latest_*` is the event with
 * the greatest (timestamp, seq) of the hour.
 */
export const usageRollups = pgTable(
  'usage_rollups',
  {
    ...scope,
    customerId: text('customer_id').notNull(),
    featureKey: text('feature_key').notNull(),
    hour: ts('hour').notNull(),
    sum: numeric('sum').notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
    max: numeric('max').notNull(),
    latestValue: numeric('latest_value').notNull(),
    latestAt: ts('latest_at').notNull(),
    latestSeq: bigint('latest_seq', { mode: 'bigint' }).notNull(),
  },
  (t) => [primaryKey({ name: 'usage_rollups_pkey', columns: [t.tenantId, t.appId, t.customerId, t.featureKey, t.hour] })],
);

/** The distinct values seen per hour, for unique_count features. */
export const usageDistinct = pgTable(
  'usage_distinct',
  {
    ...scope,
    customerId: text('customer_id').notNull(),
    featureKey: text('feature_key').notNull(),
    hour: ts('hour').notNull(),
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ name: 'usage_distinct_pkey', columns: [t.tenantId, t.appId, t.customerId, t.featureKey, t.hour, t.value] })],
);

// The billing domains keep their tables in files of their own.
export * from './schema-coupons';
export * from './schema-tax';
export * from './schema-billing';
export * from './schema-payments';
export * from './schema-webhooks';
export * from './schema-portal';
export * from './schema-events';
export * from './schema-webhooks-out';
export * from './schema-audit';
export * from './schema-scope-settings';
export * from './schema-consume';
export * from './schema-wallets';
