import type { CustomerId, InvoiceId, PageRequest, PaymentId, PaymentMethodId, Scope } from '../types';
import type { WebhookEventRecord, WebhookOutcome } from './events';
import type { Payment, PaymentAttempt, PaymentMethod, PaymentSettings, PaymentStatus } from './types';

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
