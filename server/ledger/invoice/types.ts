import { z } from 'zod';
import type { Address } from '../customer/types';
import type { CollectionMethod } from '../payment/types';
import type { TierCharge } from '../plan/pricing';
import type { PriceOverrides } from '../subscription/types';
import { requiredText, text, type CouponId, type Currency, type CustomerId, type Id, type InvoiceId, type PlanId, type SubscriptionId } from '../types';

/**
 * Invoices, as Stripe's: a state machine of named states with explicit transitions.
 *
 *   draft ──finalize──▶ open ──pay──▶ paid
 *     │                  │  └──void──▶ void
 *     │                  └──mark uncollectible──▶ uncollectible ──pay / void──▶ …
 *     └──finalize, nothing due (a credit, or paid by the balance)──▶ paid
 *
 * A draft is refreshed with late usage until it is finalized (after the grace period);
 * finalizing numbers it and copies the customer's details onto it, and from then on its
 * lines and amounts never change: corrections are credit notes.
 */
export const INVOICE_STATUSES = ['draft', 'open', 'paid', 'void', 'uncollectible'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/** The transitions allowed from each state (finalize is draft → open). */
export const TRANSITIONS: Record<InvoiceStatus, readonly InvoiceStatus[]> = {
  draft: ['open', 'paid'],
  open: ['paid', 'void', 'uncollectible'],
  uncollectible: ['paid', 'void'],
  paid: [],
  void: [],
};

/**
 * Why an invoice was made: the first period's fees (`subscription_create`), a period
 * boundary or a trial's end (`subscription_cycle`), a mid-period plan or seat change
 * (`subscription_update`), or the end of a subscription (`subscription_cancel`).
 */
export type BillingReason = 'subscription_create' | 'subscription_cycle' | 'subscription_update' | 'subscription_cancel' | 'wallet_top_up';

export type LineKind = 'base_fee' | 'license' | 'flat_fee' | 'usage' | 'proration' | 'credits' | 'minimum';

export interface InvoiceLine {
  /** Stable within the invoice: "usage:api_calls", "license:seats", "proration:3". */
  id: string;
  kind: LineKind;
  description: string;
  featureKey: string | null;
  /** Exact decimal: units, seats, or "1" for a fee. */
  quantity: string;
  /** Exact decimal in major units when one unit price applies; null for tiers and packages. */
  unitPrice: string | null;
  /** Minor units, before discount. Negative only for proration credits. */
  amount: number;
  /** Minor units taken off by the coupon (0 ≤ discount ≤ amount). */
  discount: number;
  /**
   * A proration held for a later invoice (`create_prorations`) keeps the discount of the
   * period it prorates, fixed when the change was made: that invoice's own coupon does not
   * discount it again (or fail to).
   */
  heldDiscount?: number;
  /** Minor units of tax on (amount − discount), rounded per line. */
  tax: number;
  /** The line's tax as a tax service named it ("CA State Tax"), when lines differ; absent with the rate table. */
  taxName?: string;
  /**
   * The service period the line covers, half-open: the coming period for a fee in
   * advance, the ended period for usage, the rest of the period for a proration.
   */
  periodStart: Date;
  periodEnd: Date;
  /** Per tier, for graduated and volume prices. */
  tiers?: TierCharge[];
}

export interface InvoiceTaxRate {
  id: string;
  displayName: string;
  percentage: string;
  inclusive: boolean;
}

/** The customer as billed, copied at finalization. */
export interface CustomerSnapshot {
  name: string;
  email: string;
  address: Address | null;
  country: string | null;
  region: string | null;
  taxId: string | null;
}

/** What an invoice is computed from, kept so a draft can be recomputed with late usage. */
export interface InvoiceBasis {
  /** Fees billed in advance for a coming period. */
  advance: { planId: PlanId; quantity: number; overrides: PriceOverrides; start: Date; end: Date } | null;
  /** Metered usage billed in arrears (free during a trial). */
  usage: {
    planId: PlanId;
    overrides: PriceOverrides;
    start: Date;
    end: Date;
    trial: boolean;
    /** The seats in force in the usage period (its minimum commitment counts their fees); absent on older invoices. */
    quantity?: number;
    /** The subscription's time zone, which its calendar periods follow; absent on older invoices. */
    timeZone?: string | null;
  } | null;
  /** Proration lines, fixed when the change happened. */
  prorations: InvoiceLine[];
  /** The coupon that discounts this invoice, if it applies. */
  couponId: CouponId | null;
}

export interface Invoice {
  id: InvoiceId;
  number: string | null;
  status: InvoiceStatus;
  subscriptionId: SubscriptionId;
  customerId: CustomerId;
  currency: Currency;
  billingReason: BillingReason;
  /**
   * What this invoice is the one invoice of, unique per subscription: `create`,
   * `cycle:<period start ISO>`, `cancel`, or `update:<subscription version changed>`.
   */
  key: string;
  issueAt: Date;
  /**
   * The invoice's period, half-open: the usage period it closes, billed in arrears (the
   * period that ended at `issueAt`, a trial's included). Consecutive invoices' periods
   * never overlap. Empty, [issueAt, issueAt), when it closes none (the first invoice, a
   * mid-period change). The fees it bills in advance carry their own service period on
   * each line. See invoicePeriod (build.ts).
   */
  periodStart: Date;
  periodEnd: Date;
  /** Each with its own service period (`periodStart`, `periodEnd`). */
  lines: InvoiceLine[];
  /** Σ line amounts. */
  subtotal: number;
  /** Σ line discounts. */
  discount: number;
  /** Σ line taxes. */
  tax: number;
  /** subtotal − discount + tax (exclusive tax); subtotal − discount when the tax is included. */
  total: number;
  /**
   * The customer's credit balance (in this currency) taken off this one at finalization:
   * credit left by earlier invoices with negative totals (a final invoice after "cancel
   * now with prorate", a downgrade's prorations), of any of the customer's subscriptions.
   */
  creditApplied: number;
  /**
   * Prepaid credits of the customer's wallet in this currency used at finalization, after
   * the credit balance (server/ledger/wallet). A top-up invoice (`wallet_top_up`, whose
   * `subscriptionId` is the wallet's id) takes none. Absent: 0.
   */
  walletApplied?: number;
  /** Σ credit notes. */
  credited: number;
  /** What the customer owes: max(0, total − creditApplied − walletApplied − credited). */
  amountDue: number;
  taxInclusive: boolean;
  taxRate: InvoiceTaxRate | null;
  /** Why there is no tax, when there is none: "Tax exempt", "Reverse charge …". */
  taxNote: string | null;
  couponId: CouponId | null;
  basis: InvoiceBasis;
  /** Null until finalized. */
  customer: CustomerSnapshot | null;
  /** A draft is finalized by the billing cycle from this instant (issue + grace). */
  finalizeAt: Date;
  finalizedAt: Date | null;
  paidAt: Date | null;
  voidedAt: Date | null;
  voidReason: string | null;
  markedUncollectibleAt: Date | null;
  /**
   * How it is collected, decided at finalization: `charge_automatically` (the customer's
   * default payment method is charged at once, and retried by dunning) or `send_invoice`
   * (the customer pays it by `dueAt`). A draft says `charge_automatically` until then.
   */
  collectionMethod: CollectionMethod;
  /** When payment is due: the finalization for automatic charges, N days after it for sent invoices. */
  dueAt: Date | null;
  /**
   * When it was found past due, once: a sent invoice whose due date passed unpaid, or an
   * automatic charge's first failure (dunning's retries are counted from it).
   */
  pastDueAt: Date | null;
  /** Automatic charges that failed so far (manual collections are not counted): dunning's position. */
  attemptCount: number;
  /** When dunning charges it next; null: no automatic charge planned. */
  nextPaymentAttemptAt: Date | null;
  /**
   * Of a credit invoice (a negative total), the part refunded through the provider
   * instead of being kept as the customer's balance (recordCreditRefund).
   */
  creditRefunded: number;
  createdAt: Date;
  updatedAt: Date;
}

export type CreditNoteId = Id<'creditNote'>;

export interface CreditNote {
  id: CreditNoteId;
  number: string;
  invoiceId: InvoiceId;
  customerId: CustomerId;
  amount: number;
  currency: Currency;
  reason: CreditNoteReason;
  memo: string;
  createdAt: Date;
}

export const CREDIT_NOTE_REASONS = ['duplicate', 'fraudulent', 'order_change', 'product_unsatisfactory', 'billing_error'] as const;
export type CreditNoteReason = (typeof CREDIT_NOTE_REASONS)[number];

export const creditNoteSchema = z.object({
  /** Minor units, > 0 and at most what the invoice still asks for. */
  amount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  reason: z.enum(CREDIT_NOTE_REASONS),
  memo: text(500).default(''),
});
export type CreditNoteInput = z.input<typeof creditNoteSchema>;

export const voidSchema = z.object({ reason: requiredText(500, { trim: true }).default('voided') });

export interface InvoiceConfig {
  /** Invoice numbers: prefix + a zero-padded sequence per tenant and app ("INV-000123"). */
  numberPrefix: string;
  creditNotePrefix: string;
  numberDigits: number;
  /** How long a draft waits for late usage before the cycle finalizes it (default 1 hour). */
  finalizeGraceMs: number;
}

export const DEFAULT_INVOICE_CONFIG: InvoiceConfig = {
  numberPrefix: 'INV-',
  creditNotePrefix: 'CN-',
  numberDigits: 6,
  finalizeGraceMs: 3_600_000,
};

export * from './listing';
