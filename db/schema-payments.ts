import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { scope, ts } from './columns';

/**
 * A scope's payment settings: its provider (null: the engine's default, the sandbox),
 * how invoices are collected, and the dunning schedule. One row per scope, written whole.
 */
export const paymentSettings = pgTable(
  'payment_settings',
  {
    ...scope,
    provider: text('provider'),
    collectionMethod: text('collection_method').$type<'charge_automatically' | 'send_invoice'>().notNull(),
    daysUntilDue: integer('days_until_due').notNull(),
    retrySchedule: jsonb('retry_schedule').$type<number[]>().notNull(),
    finalPolicy: text('final_policy').$type<'unpaid' | 'canceled'>().notNull(),
    /** The credit of a final invoice (cancel now, prorated): kept as the customer's balance, or refunded. */
    finalInvoiceCredit: text('final_invoice_credit').$type<'balance' | 'refund'>().notNull().default('balance'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.appId] })],
);

/**
 * A customer's saved ways to pay: the provider's reference, brand, last 4 and expiry.
 * Never a card number. At most one default per customer (kept by the store, which
 * clears the others in the transaction that sets one).
 */
export const paymentMethods = pgTable(
  'payment_methods',
  {
    ...scope,
    id: text('id').notNull(),
    customerId: text('customer_id').notNull(),
    provider: text('provider').notNull(),
    providerRef: text('provider_ref').notNull(),
    brand: text('brand').notNull(),
    last4: text('last4').notNull(),
    expMonth: integer('exp_month').notNull(),
    expYear: integer('exp_year').notNull(),
    isDefault: boolean('is_default').notNull(),
    createdAt: ts('created_at').notNull(),
    detachedAt: ts('detached_at'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.appId, t.id] }),
    uniqueIndex('payment_methods_provider_ref_key').on(t.tenantId, t.appId, t.provider, t.providerRef),
    index('payment_methods_customer_idx').on(t.tenantId, t.appId, t.customerId),
  ],
);

/**
 * Payments: one charge of an invoice, attempt N, with the idempotency key of attempt N.
 * The unique key on it is what makes a charge recorded once: a second collect of the
 * same attempt cannot make a second payment (and the provider sees the same key).
 */
export const payments = pgTable(
  'payments',
  {
    ...scope,
    id: text('id').notNull(),
    invoiceId: text('invoice_id').notNull(),
    customerId: text('customer_id').notNull(),
    amount: bigint('amount', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    status: text('status').$type<'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled'>().notNull(),
    provider: text('provider').notNull(),
    attempt: integer('attempt').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    paymentMethodId: text('payment_method_id'),
    providerPaymentId: text('provider_payment_id'),
    failureCode: text('failure_code'),
    failureMessage: text('failure_message'),
    actionUrl: text('action_url'),
    /** Minor units refunded so far (refunds succeeded or pending); never more than `amount`. */
    amountRefunded: bigint('amount_refunded', { mode: 'number' }).notNull().default(0),
    /** A dispute (chargeback) the provider reported: its id, reason, status and time. */
    dispute: jsonb('dispute').$type<{ providerDisputeId: string; reason: string; status: string; createdAt: string }>(),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.appId, t.id] }),
    uniqueIndex('payments_idempotency_key').on(t.tenantId, t.appId, t.idempotencyKey),
    index('payments_invoice_idx').on(t.tenantId, t.appId, t.invoiceId),
    index('payments_customer_idx').on(t.tenantId, t.appId, t.customerId, t.id),
    index('payments_provider_ref_idx').on(t.tenantId, t.appId, t.provider, t.providerPaymentId),
    // The reconcile pass: payments left pending or awaiting action.
    index('payments_unsettled_idx').on(t.tenantId, t.appId, t.updatedAt).where(sql`${t.status} in ('pending', 'requires_action')`),
  ],
);

/**
 * Refunds of a payment, all or part, through its provider: from a credit note with
 * `refund: true`, or a final invoice's credit. Keyed by an idempotency key, so a retried
 * refund is sent and recorded once; the payment's `amount_refunded` never exceeds its amount.
 */
export const refunds = pgTable(
  'refunds',
  {
    ...scope,
    id: text('id').notNull(),
    paymentId: text('payment_id').notNull(),
    invoiceId: text('invoice_id').notNull(),
    customerId: text('customer_id').notNull(),
    /** The credit note it pays out, when it came from one. */
    creditNoteId: text('credit_note_id'),
    amount: bigint('amount', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    status: text('status').$type<'pending' | 'succeeded' | 'failed' | 'canceled'>().notNull(),
    provider: text('provider').notNull(),
    providerRefundId: text('provider_refund_id'),
    reason: text('reason'),
    idempotencyKey: text('idempotency_key').notNull(),
    failureMessage: text('failure_message'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.appId, t.id] }),
    uniqueIndex('refunds_idempotency_key').on(t.tenantId, t.appId, t.idempotencyKey),
    index('refunds_payment_idx').on(t.tenantId, t.appId, t.paymentId),
    uniqueIndex('refunds_provider_ref_key').on(t.tenantId, t.appId, t.provider, t.providerRefundId).where(sql`${t.providerRefundId} is not null`),
  ],
);

/**
 * A customer's id at a provider (Stripe's `cus_…`, Paddle's `ctm_…`), made once by
 * `ensureCustomer`. A webhook about a provider customer is applied only to the scope
 * whose row names it. Deleted at the provider: kept, with `deleted_at`.
 */
export const providerCustomers = pgTable(
  'provider_customers',
  {
    ...scope,
    customerId: text('customer_id').notNull(),
    provider: text('provider').notNull(),
    providerCustomerId: text('provider_customer_id').notNull(),
    createdAt: ts('created_at').notNull(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.appId, t.customerId, t.provider] }),
    uniqueIndex('provider_customers_ref_key').on(t.tenantId, t.appId, t.provider, t.providerCustomerId),
  ],
);

/**
 * Each call made to the provider about a payment and what it answered (a timeout, then
 * the retry that found the charge), numbered per payment; every call carries the
 * payment's idempotency key, so (idempotency key, number) is unique.
 */
export const paymentAttempts = pgTable(
  'payment_attempts',
  {
    ...scope,
    id: text('id').notNull(),
    paymentId: text('payment_id').notNull(),
    invoiceId: text('invoice_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    number: integer('number').notNull(),
    outcome: text('outcome').$type<'succeeded' | 'failed' | 'requires_action' | 'pending' | 'error'>().notNull(),
    failureCode: text('failure_code'),
    failureMessage: text('failure_message'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.appId, t.id] }),
    uniqueIndex('payment_attempts_key_number').on(t.tenantId, t.appId, t.idempotencyKey, t.number),
    index('payment_attempts_payment_idx').on(t.tenantId, t.appId, t.paymentId),
  ],
);
