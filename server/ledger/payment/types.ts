import { z } from 'zod';
import {
  idSchema,
  requiredText,
  type Currency,
  type CustomerId,
  type InvoiceId,
  type PaymentAttemptId,
  type PaymentId,
  type PaymentMethodId,
  type RefundId,
} from '../types';

/**
 * Payments, as Stripe's: money moves forward only.
 *
 *   pending ──▶ requires_action ──▶ succeeded | failed | canceled
 *      └──────▶ succeeded | failed | canceled
 *
 * A payment is one charge of an invoice through a provider: attempt N of the invoice,
 * with the idempotency key of attempt N. A declined charge leaves a `failed` payment and
 * the invoice `open`; the next attempt is a new payment (N + 1) with a new key, while a
 * payment left `pending` (a timeout, a crash) is asked again with its own key, so the
 * provider charges it once.
 */
export const PAYMENT_STATUSES = ['pending', 'requires_action', 'succeeded', 'failed', 'canceled'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/**
 * Where each state may go. `succeeded` and `canceled` go nowhere. `failed` may still
 * become `succeeded`, on the provider's word only (a webhook): a provider can take the
 * money later on the same object (the customer pays a declined Stripe PaymentIntent
 * on-session, Paddle collects a past-due transaction), and money taken must never leave
 * its invoice open for dunning to charge again.
 */
export const PAYMENT_TRANSITIONS: Record<PaymentStatus, readonly PaymentStatus[]> = {
  pending: ['requires_action', 'succeeded', 'failed', 'canceled'],
  requires_action: ['succeeded', 'failed', 'canceled'],
  succeeded: [],
  failed: ['succeeded'],
  canceled: [],
};

/** The states a payment may have been in to move to `to`. */
export const paymentStatesBefore = (to: PaymentStatus): PaymentStatus[] =>
  PAYMENT_STATUSES.filter((s) => PAYMENT_TRANSITIONS[s].includes(to));

export interface Payment {
  id: PaymentId;
  invoiceId: InvoiceId;
  customerId: CustomerId;
  /** Minor units: the invoice's amount due when the charge was asked for. */
  amount: number;
  currency: Currency;
  status: PaymentStatus;
  /** The provider that charged it: `sandbox`, `stripe`, `paddle`, or a custom one's name. */
  provider: string;
  /** 1 for the invoice's first charge, 2 for the next after a failure, … */
  attempt: number;
  /** `<invoice id>:attempt:<N>`: the same for every call about attempt N. */
  idempotencyKey: string;
  paymentMethodId: PaymentMethodId | null;
  /** The provider's id of the charge (a PaymentIntent's `pi_…`), once it answered. */
  providerPaymentId: string | null;
  /** A code a program can branch on, for a failed payment: `card_declined`, `insufficient_funds`. */
  failureCode: string | null;
  failureMessage: string | null;
  /** Where the customer confirms the payment (3-D Secure), while `requires_action`. */
  actionUrl: string | null;
  /**
   * Minor units refunded or being refunded (refunds succeeded or pending); never more
   * than `amount`: the store raises it only while it stays ≤ amount, and a refund that
   * fails gives its amount back.
   */
  amountRefunded: number;
  /** A dispute (chargeback) the provider reported on this payment, if any. */
  dispute: PaymentDispute | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A dispute as the provider reported it (`createdAt`: ISO 8601, when Ledger recorded it). */
export interface PaymentDispute {
  providerDisputeId: string;
  reason: string;
  status: string;
  createdAt: string;
}

/**
 * Refunds, all or part of a succeeded payment, through the provider that charged it:
 *
 *   pending ──▶ succeeded ──▶ failed          (a bank can return a refund after it succeeded)
 *      └──────▶ failed | canceled
 *
 * A refund is sent with its idempotency key (`<credit note id>:refund`, or
 * `<final invoice id>:credit-refund:<payment id>`), so sending it again after a timeout
 * refunds once. Its amount counts in the payment's `amountRefunded` while it is pending
 * or succeeded; a failed or canceled refund gives it back.
 */
export const REFUND_STATUSES = ['pending', 'succeeded', 'failed', 'canceled'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

export const REFUND_TRANSITIONS: Record<RefundStatus, readonly RefundStatus[]> = {
  pending: ['succeeded', 'failed', 'canceled'],
  succeeded: ['failed'],
  failed: [],
  canceled: [],
};

/** The states a refund may have been in to move to `to`. */
export const refundStatesBefore = (to: RefundStatus): RefundStatus[] => REFUND_STATUSES.filter((s) => REFUND_TRANSITIONS[s].includes(to));

export interface Refund {
  id: RefundId;
  paymentId: PaymentId;
  invoiceId: InvoiceId;
  customerId: CustomerId;
  /** The credit note it pays out; null for a final invoice's credit refunded. */
  creditNoteId: string | null;
  /** Minor units in `currency` (the payment's). */
  amount: number;
  currency: Currency;
  status: RefundStatus;
  provider: string;
  /** The provider's id of the refund (Stripe's `re_…`), once it answered. */
  providerRefundId: string | null;
  /** Why: the credit note's reason, or `final_invoice_credit`. */
  reason: string | null;
  idempotencyKey: string;
  failureMessage: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A customer's id at a provider (Stripe's `cus_…`), recorded once when the provider's
 * `ensureCustomer` answers through the engine. A webhook about a provider customer (its
 * payment methods, its deletion) is applied only in the scope whose row names it.
 */
export interface ProviderCustomer {
  customerId: CustomerId;
  provider: string;
  providerCustomerId: string;
  createdAt: Date;
  /** Set when the provider reported the customer deleted. */
  deletedAt: Date | null;
}

/**
 * One call to the provider about a payment, as answered: the history of a payment's
 * tries (a timeout, then the retry that found it charged), and later the dunning log.
 * Recorded once per (payment, try): `number` counts the calls made for the payment.
 */
export interface PaymentAttempt {
  id: PaymentAttemptId;
  paymentId: PaymentId;
  invoiceId: InvoiceId;
  /** The payment's idempotency key, sent on this call. */
  idempotencyKey: string;
  /** 1, 2, … per payment. */
  number: number;
  /** What the provider answered; `error` when the call itself failed (a timeout, a 500). */
  outcome: 'succeeded' | 'failed' | 'requires_action' | 'pending' | 'error';
  failureCode: string | null;
  failureMessage: string | null;
  createdAt: Date;
}

/**
 * A saved way to pay: the provider's reference to it and what a person recognises it by.
 * Never a card number: providers keep those (or, for the sandbox, nobody does).
 */
export interface PaymentMethod {
  id: PaymentMethodId;
  customerId: CustomerId;
  provider: string;
  /** The provider's id: `pm_…` at Stripe, the sandbox's `sandbox_card_<behaviour>_…`. */
  providerRef: string;
  /** `visa`, `mastercard`, `amex`, … */
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  /** The one charged automatically; at most one per customer. */
  isDefault: boolean;
  createdAt: Date;
  /** Set when detached; a detached method is never charged and not listed. */
  detachedAt: Date | null;
}

export const COLLECTION_METHODS = ['charge_automatically', 'send_invoice'] as const;
export type CollectionMethod = (typeof COLLECTION_METHODS)[number];

/** What happens after the last retry of a failed automatic charge (dunning, later). */
export const FINAL_POLICIES = ['unpaid', 'canceled'] as const;
export type FinalPolicy = (typeof FINAL_POLICIES)[number];

/**
 * The credit of a final invoice (cancel now with `prorate`: the unused part of the period
 * credited): `balance` keeps it as the customer's credit for their next invoice;
 * `refund` pays it back through the provider, from the subscription's latest payments.
 */
export const FINAL_INVOICE_CREDIT = ['balance', 'refund'] as const;
export type FinalInvoiceCredit = (typeof FINAL_INVOICE_CREDIT)[number];

/** A scope's payment settings: one deployment serves tenants on different providers. */
export interface PaymentSettings {
  /** The provider's name; null: the engine's default (`sandbox` unless configured). */
  provider: string | null;
  collectionMethod: CollectionMethod;
  /** For `send_invoice`: the invoice is due this many days after finalization. */
  daysUntilDue: number;
  /** Days after the first failure at which a failed automatic charge is retried. */
  retrySchedule: number[];
  finalPolicy: FinalPolicy;
  /** What a final invoice's credit becomes: `balance` (the default) or `refund`. */
  finalInvoiceCredit: FinalInvoiceCredit;
}

export const DEFAULT_PAYMENT_SETTINGS: PaymentSettings = {
  provider: null,
  collectionMethod: 'charge_automatically',
  daysUntilDue: 30,
  retrySchedule: [3, 5, 7],
  finalPolicy: 'unpaid',
  finalInvoiceCredit: 'balance',
};

const providerName = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'a provider name: lowercase letters, digits, "-" and "_"');

export const paymentSettingsSchema = z
  .object({
    provider: providerName.nullable(),
    collectionMethod: z.enum(COLLECTION_METHODS),
    daysUntilDue: z.number().int().min(0).max(365),
    retrySchedule: z
      .array(z.number().int().min(1).max(365))
      .max(10)
      .refine((d) => d.every((v, i) => i === 0 || v > d[i - 1]!), 'retry days must increase'),
    finalPolicy: z.enum(FINAL_POLICIES),
    finalInvoiceCredit: z.enum(FINAL_INVOICE_CREDIT),
  })
  .partial()
  .strict();
export type PaymentSettingsInput = z.input<typeof paymentSettingsSchema>;

/**
 * A card as typed into the sandbox (never stored: only brand, last 4 and expiry are
 * kept). Spaces and dashes in the number are allowed, as people type them.
 */
export const sandboxCardSchema = z
  .object({
    number: requiredText(40).transform((n) => n.replace(/[\s-]/g, '')),
    expMonth: z.number().int().min(1).max(12),
    expYear: z.number().int().min(2000).max(2100),
    /** Make it the customer's default method (the first method always is). */
    makeDefault: z.boolean().default(true),
  })
  .strict();
export type SandboxCardInput = z.input<typeof sandboxCardSchema>;

export const listPaymentsSchema = z
  .object({ invoiceId: idSchema('invoice').optional(), customerId: idSchema('customer').optional() })
  .strict()
  .refine((f) => (f.invoiceId === undefined) !== (f.customerId === undefined), 'name exactly one of invoiceId or customerId');
export type ListPaymentsInput = z.input<typeof listPaymentsSchema>;
