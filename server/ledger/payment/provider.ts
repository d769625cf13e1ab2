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
   * Throws on a bad signature or a stale timestamp. (The webhook route comes later.)
   */
  verifyWebhook(rawBody: string, headers: Record<string, string | undefined>): Promise<ProviderEvent[]>;
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
  /** Minor units in `invoice.currency`. */
  amount: number;
  method: PaymentMethod;
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

/** A provider's webhook event in Ledger's terms; the raw event stays with the inbox (later). */
export type ProviderEvent =
  | { id: string; type: 'payment.succeeded'; providerPaymentId: string; metadata: Record<string, string> }
  | { id: string; type: 'payment.failed'; providerPaymentId: string; code: string; reason: string; metadata: Record<string, string> }
  | { id: string; type: 'payment.requires_action'; providerPaymentId: string; url: string; metadata: Record<string, string> }
  | { id: string; type: 'refund.updated'; providerRefundId: string; status: string; metadata: Record<string, string> }
  | { id: string; type: 'dispute.created'; providerPaymentId: string; metadata: Record<string, string> }
  | { id: string; type: 'method.attached' | 'method.updated' | 'method.detached'; providerCustomerId: string; method: ProviderMethod; metadata: Record<string, string> }
  | { id: string; type: 'customer.deleted'; providerCustomerId: string; metadata: Record<string, string> }
  | { id: string; type: 'unknown'; providerType: string };

/** The idempotency key of attempt N of an invoice: the same for every call about that attempt. */
export const chargeKey = (invoiceId: string, attempt: number) => `${invoiceId}:attempt:${attempt}`;
