import type { CustomerId, InvoiceId, PageRequest, PaymentId, PaymentMethodId, Scope } from '../types';
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
}
