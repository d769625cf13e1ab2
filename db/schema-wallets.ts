import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { scope, ts } from './columns';

/**
 * Prepaid credit wallets (server/ledger/wallet): one per customer and currency. A credit
 * is one minor unit of the wallet's currency. `balance` is Σ remaining of the wallet's
 * live grants, written with every change under the wallet row's lock (SELECT … FOR
 * UPDATE), which serializes everything that moves the balance: two invoices finalizing
 * at once cannot spend the same credits.
 */
export const wallets = pgTable(
  'wallets',
  {
    ...scope,
    id: text('id').notNull(),
    customerId: text('customer_id').notNull(),
    currency: text('currency').notNull(),
    balance: bigint('balance', { mode: 'number' }).notNull().default(0),
    /** { threshold, mode: 'fixed' | 'target', amount }; null: off. */
    autoTopUp: jsonb('auto_top_up'),
    /** Rules granting credits every period: [{ id, amount, interval, nextAt, … }]. */
    recurringGrants: jsonb('recurring_grants').notNull().default([]),
    /** The soonest instant something is due (a grant expiring, a recurring grant); null: nothing. */
    nextDueAt: ts('next_due_at'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.appId, t.id] }),
    uniqueIndex('wallets_customer_currency_key').on(t.tenantId, t.appId, t.customerId, t.currency),
    // The billing cycle's search for wallets with expiries or grants due.
    index('wallets_due_idx').on(t.tenantId, t.appId, t.nextDueAt).where(sql`${t.nextDueAt} is not null`),
    check('wallets_balance_check', sql`${t.balance} >= 0`),
  ],
);

/**
 * Credits put into a wallet: bought (a paid top-up invoice), promotional, or by a
 * recurring rule. `remaining` falls as invoices use them, to 0 at expiry. `key` makes a
 * grant once per source (`top_up:<invoice id>`, `recurring:<rule>:<instant>`, a caller's
 * idempotency key): a webhook that arrives twice grants once.
 */
export const walletGrants = pgTable(
  'wallet_grants',
  {
    ...scope,
    id: text('id').notNull(),
    walletId: text('wallet_id').notNull(),
    key: text('key').notNull(),
    source: text('source').$type<'purchased' | 'promotional' | 'recurring'>().notNull(),
    amount: bigint('amount', { mode: 'number' }).notNull(),
    remaining: bigint('remaining', { mode: 'number' }).notNull(),
    priority: integer('priority').notNull(),
    expiresAt: ts('expires_at'),
    /** Feature keys the credits may pay for; null: any line. */
    featureKeys: jsonb('feature_keys').$type<string[]>(),
    invoiceId: text('invoice_id'),
    description: text('description').notNull(),
    expiredAt: ts('expired_at'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.appId, t.id] }),
    uniqueIndex('wallet_grants_key').on(t.tenantId, t.appId, t.walletId, t.key),
    // The grants a change reads: those with credits left.
    index('wallet_grants_live_idx').on(t.tenantId, t.appId, t.walletId).where(sql`${t.remaining} > 0`),
    check('wallet_grants_remaining_check', sql`${t.remaining} >= 0 and ${t.remaining} <= ${t.amount}`),
  ],
);

/** The wallet's ledger: every grant, top-up, use and expiry, with the balance after it. */
export const walletEntries = pgTable(
  'wallet_entries',
  {
    ...scope,
    id: text('id').notNull(),
    walletId: text('wallet_id').notNull(),
    type: text('type').$type<'grant' | 'top_up' | 'use' | 'expiry' | 'reversal' | 'restore'>().notNull(),
    /** Signed: + credits in, − credits out. */
    amount: bigint('amount', { mode: 'number' }).notNull(),
    balanceAfter: bigint('balance_after', { mode: 'number' }).notNull(),
    grantId: text('grant_id'),
    invoiceId: text('invoice_id'),
    description: text('description').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.appId, t.id] }), index('wallet_entries_wallet_idx').on(t.tenantId, t.appId, t.walletId, t.id)],
);
