import type { CustomerId, InvoiceId, PageRequest, PaymentId, PaymentMethodId, RefundId, Scope } from '../types';
import type { WebhookEventRecord, WebhookOutcome } from './events';
import type { Payment, PaymentAttempt, PaymentMethod, PaymentSettings, PaymentStatus, ProviderCustomer, Refund, RefundStatus } from './types';

/**
 * What payments need from storage. Every method takes the scope. The invariants the
 * service relies on are kept here, by the database where there is one: one payment per
 * idempotency key (a unique key), payments move only forward (conditional updates), at
 * most one default method per customer (set in one transaction).
 */
export interface PaymentStore {
  /** The scope's settings as stored; null when it never set any (the defaults apply). */
  getSettings(scope: Scope): Promise<PaymentSettings | null>;
  putSettings(scope: Scope, settings: PaymentSettings): Promise<void>;

  /** Inserts a method; when it is the default, the customer's other methods stop being so. */
  insertMethod(scope: Scope, method: PaymentMethod): Promise<void>;
  getMethod(scope: Scope, id: PaymentMethodId): Promise<PaymentMethod | null>;
  /** The customer's attached methods, oldest first. */
  listMethods(scope: Scope, customerId: CustomerId): Promise<PaymentMethod[]>;
  /** The customer's attached default method, if any. */
  defaultMethod(scope: Scope, customerId: CustomerId): Promise<PaymentMethod | null>;

  /** Throws a `conflict` LedgerError when a payment with the same idempotency key exists. */
  insertPayment(scope: Scope, payment: Payment): Promise<void>;
  getPayment(scope: Scope, id: PaymentId): Promise<Payment | null>;
  /** Oldest first (attempt 1, 2, …). */
  listPaymentsByInvoice(scope: Scope, invoiceId: InvoiceId): Promise<Payment[]>;
  /** Oldest first, `page.limit + 1` rows after `page.cursor`. */
  listPaymentsByCustomer(scope: Scope, customerId: CustomerId, page: PageRequest): Promise<Payment[]>;
  /**
   * Moves a payment from one of `from` to `patch.status`, writing `patch`; null when it
   * was in none of them (another writer moved it first).
   */
  transitionPayment(
    scope: Scope,
    id: PaymentId,
    from: readonly PaymentStatus[],
    patch: Partial<Omit<Payment, 'id' | 'invoiceId' | 'customerId' | 'idempotencyKey' | 'attempt'>> & { status: PaymentStatus; updatedAt: Date },
  ): Promise<Payment | null>;

  /** Throws a `conflict` LedgerError when the payment already has an attempt of that number. */
  insertAttempt(scope: Scope, attempt: PaymentAttempt): Promise<void>;
  /** Oldest first. */
  listAttempts(scope: Scope, paymentId: PaymentId): Promise<PaymentAttempt[]>;

  // --- refunds, disputes, provider customers -----------------------------------------

  /**
   * Raises (or, with a negative `delta`, lowers) the payment's `amountRefunded` only if it
   * stays within 0…amount, in one conditional write: two refunds racing can never refund
   * more than was paid. Null when it would not (or the payment is not in the scope).
   */
  addRefunded(scope: Scope, paymentId: PaymentId, delta: number, updatedAt: Date): Promise<Payment | null>;

  /** Inserts a refund once per idempotency key: `created: false` and the stored one when the key exists. */
  insertRefund(scope: Scope, refund: Refund): Promise<{ refund: Refund; created: boolean }>;
  getRefund(scope: Scope, id: RefundId): Promise<Refund | null>;
  getRefundByKey(scope: Scope, idempotencyKey: string): Promise<Refund | null>;
  findRefundByProviderRef(scope: Scope, provider: string, providerRefundId: string): Promise<Refund | null>;
  /** Oldest first. */
  listRefundsByPayment(scope: Scope, paymentId: PaymentId): Promise<Refund[]>;
  /** Oldest first. */
  listRefundsByInvoice(scope: Scope, invoiceId: InvoiceId): Promise<Refund[]>;
  /** The scope's pending refunds, oldest first (the reconcile pass sends those the provider never answered again). */
  listPendingRefunds(scope: Scope, limit: number): Promise<Refund[]>;
  /**
   * Moves a refund from one of `from` to `patch.status` (or, when `patch.status` is in
   * `from`, rewrites it in place: a pending refund's provider id); null when it was in none.
   */
  transitionRefund(
    scope: Scope,
    id: RefundId,
    from: readonly RefundStatus[],
    patch: Partial<Pick<Refund, 'providerRefundId' | 'failureMessage'>> & { status: RefundStatus; updatedAt: Date },
  ): Promise<Refund | null>;

  getProviderCustomer(scope: Scope, customerId: CustomerId, provider: string): Promise<ProviderCustomer | null>;
  /**
   * Records the customer's id at the provider once: the stored row when the customer has
   * one there already (the first stands), unless that one was deleted at the provider:
   * then the new id replaces it. `conflict` when that provider id belongs to another
   * customer of the scope.
   */
  putProviderCustomer(scope: Scope, row: ProviderCustomer): Promise<ProviderCustomer>;
  findProviderCustomer(scope: Scope, provider: string, providerCustomerId: string): Promise<ProviderCustomer | null>;
  /** Sets `deletedAt` (once: a second call keeps the first time); null when the scope has no such provider customer. */
  markProviderCustomerDeleted(scope: Scope, provider: string, providerCustomerId: string, at: Date): Promise<ProviderCustomer | null>;

  /** A method by the provider's reference, attached or detached. */
  findMethodByProviderRef(scope: Scope, provider: string, providerRef: string): Promise<PaymentMethod | null>;
  /**
   * What a provider's webhook says about a method: new expiry or brand, or detached
   * (a detached method stops being the default). Null when the scope has no such method.
   */
  updateMethodDetails(
    scope: Scope,
    id: PaymentMethodId,
    patch: Partial<Pick<PaymentMethod, 'brand' | 'last4' | 'expMonth' | 'expYear' | 'detachedAt'>>,
  ): Promise<PaymentMethod | null>;

  // --- reconcile ---------------------------------------------------------------------

  /**
   * Deployment-level, like the billing schedule's search for due work: the scopes with a
   * `pending` payment or refund, in (tenant, app) order after `after`, at most `limit`.
   */
  scopesWithPendingWork(limit: number, after?: Scope): Promise<Scope[]>;
  /** The scope's `pending` payments, oldest first (their age is judged at each customer's time). */
  listPendingPayments(scope: Scope, limit: number): Promise<Payment[]>;

  // --- the webhook inbox -------------------------------------------------------------
  // Deployment-level, not per scope (the documented exception, db/schema-webhooks.ts):
  // a provider's event arrives before its scope is known.

  /** Stores the event once by (provider, event id); false when it was stored already (a duplicate or replay). */
  insertWebhookEvent(event: WebhookEventRecord): Promise<boolean>;
  getWebhookEvent(provider: string, eventId: string): Promise<WebhookEventRecord | null>;
  /** Events not processed yet and not held by a processor at `now`, oldest first. */
  listPendingWebhookEvents(now: Date, limit: number): Promise<WebhookEventRecord[]>;
  /**
   * Takes a pending event for processing until `lockedUntil` (attempts + 1); null when it
   * is processed already or another processor holds it. Two instances never both get it.
   */
  claimWebhookEvent(provider: string, eventId: string, now: Date, lockedUntil: Date): Promise<WebhookEventRecord | null>;
  /** Marks a claimed event processed, with what it came to and its scope when known. */
  completeWebhookEvent(provider: string, eventId: string, done: { processedAt: Date; outcome: WebhookOutcome; note: string | null; scope: Scope | null }): Promise<void>;
  /** Records a failed try; the event stays pending (and is tried again once `retryAt` passed). */
  failWebhookEvent(provider: string, eventId: string, error: string, retryAt: Date): Promise<void>;

  // --- choosing and detaching methods (the hosted pages and paymentMethods.*) -------

  /**
   * Makes the method the customer's one default, in one transaction (every other method
   * of the customer stops being so); null, and nothing changed, when the method is not the
   * customer's or is detached.
   */
  setDefaultMethod(scope: Scope, customerId: CustomerId, id: PaymentMethodId): Promise<PaymentMethod | null>;
  /** Marks an attached method detached at `at` (and no longer the default); null when it is unknown or detached already. */
  detachMethod(scope: Scope, id: PaymentMethodId, at: Date): Promise<PaymentMethod | null>;
}
