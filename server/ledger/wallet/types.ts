import { z } from 'zod';
import { currencySchema, intervalSchema, type Interval } from '../plan/types';
import { idSchema, instant, requiredText, text, type Currency, type CustomerId, type Id, type InvoiceId } from '../types';

/**
 * Prepaid credit wallets, as Lago's and Stripe's credit grants: one wallet per customer
 * and currency. **One credit is one minor unit of the wallet's currency** (100 credits
 * = 1.00 USD, 1 credit = ¥1): no rate to convert, so an invoice's amounts and the
 * credits that pay them are the same integers.
 *
 * Credits come in as grants:
 * - `purchased`: a top-up invoice (billing reason `wallet_top_up`) was paid; granted in
 *   the transaction that marks it paid, once (its key is `top_up:<invoice id>`);
 * - `promotional`: given by the product team, with an optional expiry, a priority and
 *   an optional list of feature keys it may pay for;
 * - `recurring`: granted by a rule of the wallet every period (100.00 every month),
 *   expiring at the end of that period unless the rule says otherwise.
 *
 * They go out when an invoice is finalized (`use`: after the customer's credit balance,
 * before anything is charged) and when a grant expires (`expiry`). Every movement is an
 * entry of the wallet's ledger with the balance after it.
 */
export type WalletId = Id<'wallet'>;
export type WalletGrantId = Id<'walletGrant'>;
export type WalletEntryId = Id<'walletEntry'>;

/** Buy credits automatically when an invoice leaves the balance below `threshold`. */
export interface AutoTopUp {
  /** Credits: a top-up starts when the balance falls below this. */
  threshold: number;
  /** `fixed`: buy `amount` credits; `target`: buy what brings the balance up to `amount`. */
  mode: 'fixed' | 'target';
  amount: number;
}

/** A rule granting credits every `interval`, from `nextAt` on. */
export interface RecurringGrant {
  id: string;
  amount: number;
  priority: number;
  featureKeys: string[] | null;
  interval: Interval;
  /** `period_end`: each grant expires when the next one comes; `never`: it stays. */
  expires: 'period_end' | 'never';
  /** The first grant's instant: the n-th comes `n` intervals later (no month-end drift). */
  anchor: Date;
  /** Grants made so far. */
  made: number;
  /** When the next grant is made: anchor + made intervals. */
  nextAt: Date;
  /** No grant at or after this instant; null: for ever. */
  endsAt: Date | null;
  description: string;
}

export interface Wallet {
  id: WalletId;
  customerId: CustomerId;
  currency: Currency;
  /** Credits left in the live grants (what the ledger's last entry says). */
  balance: number;
  autoTopUp: AutoTopUp | null;
  recurringGrants: RecurringGrant[];
  /** The soonest instant the billing cycle has work here (an expiry, a recurring grant). */
  nextDueAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const GRANT_SOURCES = ['purchased', 'promotional', 'recurring'] as const;
export type GrantSource = (typeof GRANT_SOURCES)[number];

export interface WalletGrant {
  id: WalletGrantId;
  walletId: WalletId;
  /** Once per key: `top_up:<invoice id>`, `recurring:<rule>:<instant>`, or the caller's. */
  key: string;
  source: GrantSource;
  amount: number;
  remaining: number;
  /** Lower is used first (0–100). */
  priority: number;
  expiresAt: Date | null;
  /** The features whose invoice lines it may pay; null: any line. */
  featureKeys: string[] | null;
  /** The top-up invoice that bought it. */
  invoiceId: InvoiceId | null;
  description: string;
  /** When what was left of it expired. */
  expiredAt: Date | null;
  createdAt: Date;
}

/**
 * `reversal`: bought credits taken back by a credit note on their top-up invoice (the money
 * goes back instead). `restore`: credits an invoice used, given back to the grant they came
 * from when the invoice is voided or a credit note gives them back (wallet/give-back.ts).
 */
export const ENTRY_TYPES = ['grant', 'top_up', 'use', 'expiry', 'reversal', 'restore'] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

export interface WalletEntry {
  id: WalletEntryId;
  walletId: WalletId;
  type: EntryType;
  /** Signed credits: + in, − out. */
  amount: number;
  balanceAfter: number;
  grantId: WalletGrantId | null;
  invoiceId: InvoiceId | null;
  description: string;
  createdAt: Date;
}

export const DEFAULT_PRIORITY = 50;
/** At most this many credits in one grant or top-up (10^12 minor units: 10 billion USD). */
export const MAX_CREDITS = 1_000_000_000_000;

const credits = z.number().int().positive().max(MAX_CREDITS);
const priority = z.number().int().min(0).max(100).default(DEFAULT_PRIORITY);
const featureKeys = z
  .array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a feature key: lowercase slug such as "api_calls"'))
  .min(1)
  .max(50)
  .nullable()
  .default(null);

export const createWalletSchema = z.object({
  customerId: idSchema('customer'),
  currency: currencySchema,
});
export type CreateWalletInput = z.input<typeof createWalletSchema>;

export const grantSchema = z.object({
  walletId: idSchema('wallet'),
  amount: credits,
  priority,
  expiresAt: instant.nullable().default(null),
  featureKeys,
  description: text(200).default('Promotional credits'),
  /** Grants once per key (a retry after a timeout grants once). */
  idempotencyKey: requiredText(200).optional(),
});
export type GrantInput = z.input<typeof grantSchema>;

export const topUpSchema = z.object({
  walletId: idSchema('wallet'),
  amount: credits,
  /** One top-up invoice per key. */
  idempotencyKey: requiredText(200).optional(),
});
export type TopUpInput = z.input<typeof topUpSchema>;

export const autoTopUpSchema = z
  .object({
    threshold: z.number().int().min(0).max(MAX_CREDITS),
    mode: z.enum(['fixed', 'target']),
    amount: credits,
  })
  .refine((a) => a.mode === 'fixed' || a.amount > a.threshold, { message: 'a target balance must be above the threshold', path: ['amount'] });

export const recurringGrantSchema = z.object({
  walletId: idSchema('wallet'),
  amount: credits,
  priority,
  featureKeys,
  interval: intervalSchema.default({ unit: 'month', count: 1 }),
  expires: z.enum(['period_end', 'never']).default('period_end'),
  /** The first grant; default: now. */
  startsAt: instant.optional(),
  endsAt: instant.nullable().default(null),
  description: text(200).default('Monthly credits'),
});
export type RecurringGrantInput = z.input<typeof recurringGrantSchema>;
