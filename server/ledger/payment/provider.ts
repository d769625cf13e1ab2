import type { Customer } from '../customer/types';
import type { Invoice } from '../invoice/types';
import type { ScopeMode } from '../scope/store';
import type { Scope } from '../types';
import type { PaymentMethod } from './types';

/**
 * A payment provider: the seed's extension point, one adapter per provider (sandbox,
 * Stripe, Paddle, a user's own), passed in `createLedger({ providers })`. The adapter is
 * the only place a provider's SDK is imported; the engine sees only this interface and
 * keeps its own records (payments, methods) from what it answers.
 *
 * Every call carries the scope, so an adapter can put the tenant and app in the
 * provider's metadata (Stripe) or pick per-scope credentials.
 */
export interface PaymentProvider {
  /** `sandbox`, `stripe`, `paddle`, or a custom name; what a scope's settings name. */
  readonly name: string;
  /**
   * The scope modes it may serve. The sandbox serves `test` scopes only, so no live
   * scope "collects" money that never moved; a real provider serves both (with its test
   * keys in test scopes).
   */
  readonly modes: readonly ScopeMode[];
  /**
   * True for a provider whose own checkout takes the payment (Paddle): an invoice of a
   * customer with no saved method is still collected, and the charge answers
   * `requires_action` with the checkout URL. Otherwise a charge needs a saved method.
   */
  readonly collectsAtCheckout?: boolean;
  /**
   * How long the provider remembers an idempotency key (Stripe: 24 hours). Past it, the
   * same key may charge again, so the engine never sends it again: it asks `lookupCharge`
   * what became of the charge instead. Unset: keys are never forgotten (the sandbox; Paddle's
   * adapter finds its transaction by the key itself).
   */
  readonly idempotencyKeyTtlMs?: number;
  /**
   * What became of a charge, without charging: by the provider's id when Ledger has it,
   * else by the idempotency key in the charge's metadata; null when no charge was made.
   * Throws when the provider does not answer.
   */
  lookupCharge?(scope: Scope, charge: { providerPaymentId: string | null; idempotencyKey: string }): Promise<ChargeResult | null>;

  /** Creates or updates the provider's customer; returns its id there (Stripe's `cus_…`). */
  ensureCustomer(scope: Scope, customer: Customer): Promise<{ providerCustomerId: string }>;

  /**
   * Starts a hosted set-up of a payment method (Stripe Checkout in setup mode): the URL
   * the customer is sent to; the method arrives later, by webhook.
   */
  startSetup(scope: Scope, customer: Customer, urls: { successUrl: string; cancelUrl: string }): Promise<{ url: string }>;

  /** The methods the provider holds for the customer, as Ledger records them (ids aside). */
  listMethods(scope: Scope, customer: Customer): Promise<ProviderMethod[]>;
  detachMethod(scope: Scope, method: PaymentMethod): Promise<void>;

  /**
   * Charges the invoice's amount due off-session. The same `idempotencyKey` must give the
   * same charge however often it is sent (Stripe's Idempotency-Key): a call that timed
   * out after the provider charged is sent again and answers the first charge's outcome.
   * Throws only when the outcome is unknown (a timeout, a 500): the payment stays pending.
   */
  charge(scope: Scope, request: ChargeRequest): Promise<ChargeResult>;

  /** Refunds all (`amount` omitted) or part of a succeeded charge. */
  refund(scope: Scope, request: RefundRequest): Promise<RefundResult>;

  /**
   * Checks a webhook's signature over its raw body and turns it into normalized events.
   * Throws an `invalid` LedgerError on a missing or bad signature, a stale timestamp or a
   * malformed body; an event of a type the engine does not act on comes back `ignored`.
   */
  verifyWebhook(rawBody: string, headers: Record<string, string | undefined>): Promise<ProviderEvent[]>;

  /**
   * Optional: the `LEDGER_METADATA` of one of the provider's objects, read from its API,
   * for events whose object carries none (Stripe's disputes and payment methods: the
   * metadata is on the PaymentIntent and the Customer). The inbox then checks the scope
   * it names against the stored ids, as for any event; null when the object is unknown.
   */
  lookupMetadata?(kind: 'payment' | 'customer', id: string): Promise<Record<string, string> | null>;
}

export interface ProviderMethod {
  providerRef: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

export interface ChargeRequest {
  invoice: Invoice;
  /** The invoice's customer, as Ledger has it now. */
  customer: Customer;
  /** Minor units in `invoice.currency`. */
  amount: number;
  /** The saved method to charge; null only for a provider that `collectsAtCheckout`. */
  method: PaymentMethod | null;
  /** Stable per invoice and attempt: `<invoice id>:attempt:<N>`. */
  idempotencyKey: string;
}

/** What a charge came to. `pending`: the provider will say later (a webhook, a reconcile). */
export type ChargeResult =
  | { status: 'succeeded'; providerPaymentId: string }
  | { status: 'failed'; providerPaymentId: string | null; code: string; reason: string }
  | { status: 'requires_action'; providerPaymentId: string; url: string }
  | { status: 'pending'; providerPaymentId: string };

export interface RefundRequest {
  providerPaymentId: string;
  /** Minor units; the whole charge when omitted. */
  amount?: number;
  idempotencyKey: string;
}

export type RefundResult = { status: 'succeeded' | 'pending'; providerRefundId: string } | { status: 'failed'; providerRefundId: string | null; reason: string };

/**
 * A provider's webhook event in Ledger's terms: what `verifyWebhook` returns and the webhook
 * inbox processes. Every event has:
 * - `id`: the provider's event id (Stripe's `evt_…`), the inbox's unique key, so a
 *   duplicate or a replay is stored once;
 * - `providerType`: the provider's own type (`payment_intent.succeeded`), for logs;
 * - `mode`: `live` or `test`, as the provider says the event's object is (Stripe's
 *   `livemode`); the inbox applies it only to a scope of that mode;
 * - `metadata`: the object's metadata as the adapter wrote it (`ledger_tenant`,
 *   `ledger_app`, `ledger_customer`, `ledger_invoice`; see LEDGER_METADATA). A claim to
 *   check against the stored provider ids, never trusted alone; `{}` when absent.
 * Types the engine does not act on arrive as `ignored`: stored, answered 200, no effect.
 * The raw event stays with the inbox.
 */
export type ProviderEvent = ProviderEventBase &
  (
    | { type: 'payment.succeeded'; providerPaymentId: string }
    | { type: 'payment.failed'; providerPaymentId: string; code: string; reason: string }
    | { type: 'payment.requires_action'; providerPaymentId: string; url: string }
    /** A refund moved: `status` is the provider's (`succeeded`, `pending`, `failed`, `canceled`). */
    | { type: 'refund.updated'; providerRefundId: string; providerPaymentId: string | null; status: string }
    /** `status`: the provider's (Stripe's `needs_response`, `warning_needs_response`, …). */
    | { type: 'dispute.created'; providerDisputeId: string; providerPaymentId: string | null; reason: string; status?: string }
    /**
     * `providerCustomerId`: the customer the method is (or, detached, was) attached to;
     * null when the provider does not say.
     */
    | { type: 'method.attached' | 'method.updated' | 'method.detached'; providerCustomerId: string | null; method: ProviderMethod }
    | { type: 'customer.deleted'; providerCustomerId: string }
    | { type: 'ignored' }
  );

export interface ProviderEventBase {
  id: string;
  providerType: string;
  mode: ScopeMode;
  metadata: Record<string, string>;
}

export type ProviderEventType = ProviderEvent['type'];

/** The metadata keys an adapter writes on the provider's objects (where it has metadata). */
export const LEDGER_METADATA = {
  tenant: 'ledger_tenant',
  app: 'ledger_app',
  customer: 'ledger_customer',
  invoice: 'ledger_invoice',
} as const;

/** The idempotency key of attempt N of an invoice: the same for every call about that attempt. */
export const chargeKey = (invoiceId: string, attempt: number) => `${invoiceId}:attempt:${attempt}`;
