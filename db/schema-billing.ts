import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { scope, ts } from './columns';

/**
 * Invoices. One per subscription and key: the billing cycle's invoice of a period
 * (`cycle:<period start>`) exists once however often, or however concurrently, the
 * cycle runs; a mid-period change's invoice is keyed by the subscription version it
 * changed (`update:<version>`). Lines, the tax rate, the customer snapshot and the inputs a draft is refreshed
 * from are JSON documents of the invoice: an invoice is read and written whole, and once
 * finalized it never changes (only its state and credited amount move).
 */
export const invoices = pgTable(
  'invoices',
  {
    ...scope,
    id: text('id').notNull(),
    /** Null while draft; `INV-000123` from finalization on, per tenant and app, gap-free. */
    number: text('number'),
    status: text('status').$type<'draft' | 'open' | 'paid' | 'void' | 'uncollectible'>().notNull(),
    subscriptionId: text('subscription_id').notNull(),
    customerId: text('customer_id').notNull(),
    currency: text('currency').notNull(),
    billingReason: text('billing_reason').notNull(),
    /** Unique per subscription: what this invoice is the one invoice of. */
    key: text('key').notNull(),
    /** The instant the invoice bills at: a period boundary, or the moment of a change. */
    issueAt: ts('issue_at').notNull(),
    periodStart: ts('period_start').notNull(),
    periodEnd: ts('period_end').notNull(),
    lines: jsonb('lines').notNull(),
    subtotal: bigint('subtotal', { mode: 'number' }).notNull(),
    discount: bigint('discount', { mode: 'number' }).notNull(),
    tax: bigint('tax', { mode: 'number' }).notNull(),
    total: bigint('total', { mode: 'number' }).notNull(),
    creditApplied: bigint('credit_applied', { mode: 'number' }).notNull(),
    /** Prepaid credits of the customer's wallet used at finalization (server/ledger/wallet). */
    walletApplied: bigint('wallet_applied', { mode: 'number' }).notNull().default(0),
    credited: bigint('credited', { mode: 'number' }).notNull().default(0),
    amountDue: bigint('amount_due', { mode: 'number' }).notNull(),
    taxInclusive: boolean('tax_inclusive').notNull(),
    taxRate: jsonb('tax_rate'),
    taxNote: text('tax_note'),
    couponId: text('coupon_id'),
    basis: jsonb('basis').notNull(),
    customer: jsonb('customer'),
    finalizeAt: ts('finalize_at').notNull(),
    finalizedAt: ts('finalized_at'),
    paidAt: ts('paid_at'),
    voidedAt: ts('voided_at'),
    voidReason: text('void_reason'),
    markedUncollectibleAt: ts('marked_uncollectible_at'),
    /**
     * How the invoice is collected, decided at finalization: charged to the customer's
     * default method, or sent and paid by the customer by `due_at`.
     */
    collectionMethod: text('collection_method').$type<'charge_automatically' | 'send_invoice'>().notNull().default('charge_automatically'),
    /** When payment is due (set at finalization); past it, the invoice is past due. */
    dueAt: ts('due_at'),
    /** When the invoice was found past due (onInvoicePastDue fired once, then). */
    pastDueAt: ts('past_due_at'),
    /** Automatic charges tried so far (Stripe's attempt_count): the dunning position. */
    attemptCount: integer('attempt_count').notNull().default(0),
    /** When dunning charges it next (Stripe's next_payment_attempt); null: no retry planned. */
    nextPaymentAttemptAt: ts('next_payment_attempt_at'),
    /**
     * Of a credit invoice (a negative total: a final invoice's proration credit), the part
     * refunded through the provider instead of being kept as the customer's balance.
     */
    creditRefunded: bigint('credit_refunded', { mode: 'number' }).notNull().default(0),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.appId, t.id] }),
    uniqueIndex('invoices_subscription_key').on(t.tenantId, t.appId, t.subscriptionId, t.key),
    uniqueIndex('invoices_number_key').on(t.tenantId, t.appId, t.number).where(sql`${t.number} is not null`),
    index('invoices_customer_idx').on(t.tenantId, t.appId, t.customerId, t.id),
    // A customer's invoices newest first, in numbered pages (the portal's list): walked
    // backwards, a page reads its own rows only, not every invoice of the customer.
    index('invoices_customer_issue_idx').on(t.tenantId, t.appId, t.customerId, t.issueAt, t.id),
    index('invoices_drafts_idx').on(t.tenantId, t.appId, t.finalizeAt).where(sql`${t.status} = 'draft'`),
    // A customer's drafts: what its prepaid credits will pay next (every consumption limited by credits reads them).
    index('invoices_customer_drafts_idx').on(t.tenantId, t.appId, t.customerId, t.finalizeAt).where(sql`${t.status} = 'draft'`),
    // Dunning's search: open invoices whose next automatic charge is due…
    index('invoices_retry_idx').on(t.tenantId, t.appId, t.nextPaymentAttemptAt).where(sql`${t.nextPaymentAttemptAt} is not null`),
    // …and open invoices not yet found past their due date.
    index('invoices_due_idx').on(t.tenantId, t.appId, t.dueAt).where(sql`${t.status} = 'open' and ${t.pastDueAt} is null`),
  ],
);

/** Credit notes: numbered documents that lower what an issued invoice asks for. */
export const creditNotes = pgTable(
  'credit_notes',
  {
    ...scope,
    id: text('id').notNull(),
    number: text('number').notNull(),
    invoiceId: text('invoice_id').notNull(),
    customerId: text('customer_id').notNull(),
    amount: bigint('amount', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    reason: text('reason').notNull(),
    memo: text('memo').notNull().default(''),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.appId, t.id] }),
    uniqueIndex('credit_notes_number_key').on(t.tenantId, t.appId, t.number),
    index('credit_notes_invoice_idx').on(t.tenantId, t.appId, t.invoiceId),
  ],
);

/**
 * The next number of each numbered document, per scope. Taken by an UPDATE … RETURNING
 * in the transaction that issues the document: the row lock serializes issuers, and a
 * rolled-back issue gives its number back, so numbers have no gaps and no duplicates.
 */
export const documentSequences = pgTable(
  'document_sequences',
  {
    ...scope,
    kind: text('kind').$type<'invoice' | 'credit_note'>().notNull(),
    next: bigint('next', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.appId, t.kind] })],
);

/**
 * Test clocks (test scopes only): a frozen time for the customers created on one
 * (`customers.test_clock_id`). Advancing a clock moves only those customers; it only
 * moves forward. Several per scope, each with an optional name.
 */
export const testClocks = pgTable(
  'test_clocks',
  {
    ...scope,
    id: text('id').notNull(),
    name: text('name'),
    now: ts('now').notNull(),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
    version: integer('version').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.appId, t.id] })],
);
