import type { OnClock } from '../billing/store';
import type { Currency, CustomerId, InvoiceId, PageRequest, Scope, SubscriptionId } from '../types';
import type { CreditNote, Invoice, InvoiceStatus } from './types';

/** What a collection write expects the invoice to be: its state, and the dunning fields named. */
export type CollectionExpectation = { status: readonly InvoiceStatus[] } & Partial<Pick<Invoice, 'attemptCount' | 'nextPaymentAttemptAt' | 'pastDueAt'>>;
/** What a collection write may change. */
export type CollectionPatch = Partial<Pick<Invoice, 'status' | 'attemptCount' | 'nextPaymentAttemptAt' | 'pastDueAt' | 'markedUncollectibleAt'>> & { updatedAt: Date };

/** Whether an invoice is as a collection write expects it. */
export function matchesCollection(inv: Invoice, e: CollectionExpectation): boolean {
  if (!e.status.includes(inv.status)) return false;
  if (e.attemptCount !== undefined && inv.attemptCount !== e.attemptCount) return false;
  const same = (a: Date | null, b: Date | null | undefined) => b === undefined || (a === null ? b === null : b !== null && a.getTime() === b.getTime());
  return same(inv.nextPaymentAttemptAt, e.nextPaymentAttemptAt) && same(inv.pastDueAt, e.pastDueAt);
}

/** Numbers documents: `INV-000123`. */
export interface Numbering {
  prefix: string;
  digits: number;
  /** An invoice formatter's numbering (InvoiceFormatter.number): the sequence value → the number. */
  format?: (sequence: number) => string;
}

/** The printed number of a sequence value: the formatter's, else prefix + zero-padded digits. */
export const formatNumber = (n: Numbering, value: number) => (n.format ? n.format(value) : `${n.prefix}${String(value).padStart(n.digits, '0')}`);

/**
 * Invoice storage. The invariants the engine relies on are kept here, by the database
 * where there is one: one invoice per subscription, issue instant and reason (a unique
 * key); gap-free numbers (a sequence row taken in the issuing transaction); a finalized
 * invoice never changes but for its state and credited amount (conditional updates).
 */
export interface InvoiceStore {
  /** Inserts the invoice unless its (subscription, key) exists: then the stored one. */
  insertOnce(scope: Scope, invoice: Invoice): Promise<{ invoice: Invoice; created: boolean }>;
  get(scope: Scope, id: InvoiceId): Promise<Invoice | null>;
  listByCustomer(scope: Scope, customerId: CustomerId, page: PageRequest): Promise<Invoice[]>;
  /**
   * `limit` of the customer's invoices from `offset`, newest first (newestInvoiceFirst:
   * issue instant, then id, both descending), and how many it has in all. Reads only
   * the slice, not every invoice of the customer.
   */
  sliceByCustomer(scope: Scope, customerId: CustomerId, slice: { offset: number; limit: number }): Promise<{ items: Invoice[]; total: number }>;
  /** The customer's invoices still asking for money (isPayable: open or uncollectible, amount due > 0), oldest first. */
  listPayableByCustomer(scope: Scope, customerId: CustomerId): Promise<Invoice[]>;
  listBySubscription(scope: Scope, subscriptionId: SubscriptionId): Promise<Invoice[]>;
  /** The customer's drafts, the soonest finalized first: what prepaid credits will pay next (wallet/usage-cover.ts). */
  listDraftsByCustomer(scope: Scope, customerId: CustomerId): Promise<Invoice[]>;
  /** Drafts whose finalizeAt has come, oldest first; with `on`, only those of the customers on that test clock (or on none). */
  listDraftsDue(scope: Scope, at: Date, limit: number, on?: OnClock): Promise<Invoice[]>;
  /** Replaces a draft's content; false when it is no longer a draft. */
  updateDraft(scope: Scope, invoice: Invoice): Promise<boolean>;
  /** Deletes a draft whose change did not happen (the only invoice ever deleted); false if not a draft. */
  deleteDraft(scope: Scope, id: InvoiceId): Promise<boolean>;
  /**
   * draft → issued, in one transaction that serializes the customer's finalizations and
   * credit refunds (they share its balance): computes the customer's credit balance in
   * the draft's currency (creditBalance), takes the next number, and stores
   * `finish(draft, number, availableCredit)`. Null when the invoice is no longer a draft
   * (another run finalized it).
   */
  finalize(
    scope: Scope,
    id: InvoiceId,
    numbering: Numbering,
    finish: (draft: Invoice, number: string, availableCredit: number) => Invoice,
  ): Promise<Invoice | null>;
  /**
   * The customer's credit balance in `currency`: over its issued (not draft, not void)
   * invoices of every subscription, Σ max(0, −total) − Σ creditRefunded − Σ creditApplied.
   */
  creditBalance(scope: Scope, customerId: CustomerId, currency: Currency): Promise<number>;
  /**
   * Records that `amount` of a credit invoice's credit was refunded through the provider
   * (so it no longer counts in the customer's balance), in one transaction with the
   * customer's finalizations: only if creditRefunded + amount stays within the invoice's
   * own credit (−total) and `amount` within the customer's balance in its currency;
   * else null and nothing changes.
   */
  refundCredit(scope: Scope, id: InvoiceId, amount: number, at: Date): Promise<Invoice | null>;
  /**
   * Writes an issued invoice's collection state (dunning), only if it is in one of
   * `expected.status` and each other field of `expected` has the value given (null: is
   * null): a conditional update, so of two runs charging or marking the same invoice one
   * wins. Null when the invoice did not match.
   */
  updateCollection(scope: Scope, id: InvoiceId, expected: CollectionExpectation, patch: CollectionPatch): Promise<Invoice | null>;
  /**
   * Open invoices whose next automatic charge is due by `at` (nextPaymentAttemptAt ≤ at),
   * soonest first; with `on`, only those of the customers on that test clock (or on none).
   */
  listRetriesDue(scope: Scope, at: Date, limit: number, on?: OnClock): Promise<Invoice[]>;
  /**
   * Open `send_invoice` invoices not yet found past due whose due date has come
   * (dueAt ≤ at), soonest first; `on` as above.
   */
  listPastDue(scope: Scope, at: Date, limit: number, on?: OnClock): Promise<Invoice[]>;
  /** Moves an invoice from one of `from` to `patch.status`, writing `patch`; null when it was in none of them. */
  transition(scope: Scope, id: InvoiceId, from: readonly InvoiceStatus[], patch: Partial<Invoice> & { status: InvoiceStatus; updatedAt: Date }): Promise<Invoice | null>;
  /**
   * Issues a credit note against an open, paid or uncollectible invoice: numbers it and
   * raises the invoice's credited amount (lowering its amount due), in one transaction;
   * null when the invoice cannot take that much (the amount exceeds total − credit applied − credited).
   */
  issueCreditNote(scope: Scope, note: Omit<CreditNote, 'number'>, numbering: Numbering): Promise<{ note: CreditNote; invoice: Invoice } | null>;
  listCreditNotes(scope: Scope, invoiceId: InvoiceId): Promise<CreditNote[]>;
}

/**
 * A customer's credit balance from its invoices (all of one currency): what invoices with
 * negative totals credited, less what was refunded of it and what later invoices applied;
 * drafts and void invoices excluded. Σ max(0, −total) − Σ creditRefunded − Σ creditApplied.
 */
export function availableCredit(invoices: readonly Invoice[]): number {
  let credit = 0;
  for (const inv of invoices) {
    if (inv.status === 'draft' || inv.status === 'void') continue;
    credit += Math.max(0, -inv.total) - inv.creditRefunded - inv.creditApplied;
  }
  return Math.max(0, credit);
}

/** Whether `amount` more of a credit invoice's credit may be refunded, given the customer's balance. */
export function canRefundCredit(inv: Invoice, amount: number, balance: number): boolean {
  if (inv.status === 'draft' || inv.status === 'void') return false;
  return amount > 0 && inv.creditRefunded + amount <= Math.max(0, -inv.total) && amount <= balance;
}
