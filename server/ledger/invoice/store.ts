import type { OnClock } from '../billing/store';
import type { CustomerId, InvoiceId, PageRequest, Scope, SubscriptionId } from '../types';
import type { CreditNote, Invoice, InvoiceStatus } from './types';

/** Numbers documents: `INV-000123`. */
export interface Numbering {
  prefix: string;
  digits: number;
}

export const formatNumber = (n: Numbering, value: number) => `${n.prefix}${String(value).padStart(n.digits, '0')}`;

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
  listBySubscription(scope: Scope, subscriptionId: SubscriptionId): Promise<Invoice[]>;
  /** Drafts whose finalizeAt has come, oldest first; with `on`, only those of the customers on that test clock (or on none). */
  listDraftsDue(scope: Scope, at: Date, limit: number, on?: OnClock): Promise<Invoice[]>;
  /** Replaces a draft's content; false when it is no longer a draft. */
  updateDraft(scope: Scope, invoice: Invoice): Promise<boolean>;
  /** Deletes a draft whose change did not happen (the only invoice ever deleted); false if not a draft. */
  deleteDraft(scope: Scope, id: InvoiceId): Promise<boolean>;
  /**
   * draft → open, in one transaction that serializes the subscription's finalizations:
   * computes the credit available to the subscription (credit from its finalized, not
   * void invoices whose totals were negative, less the credit later ones applied),
   * takes the next number, and stores `finish(draft, number, availableCredit)`. Null
   * when the invoice is no longer a draft (another run finalized it).
   */
  finalize(
    scope: Scope,
    id: InvoiceId,
    numbering: Numbering,
    finish: (draft: Invoice, number: string, availableCredit: number) => Invoice,
  ): Promise<Invoice | null>;
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

/** Credit a subscription has from its invoices: Σ max(0, −total) − Σ creditApplied, void excluded. */
export function availableCredit(invoices: readonly Invoice[]): number {
  let credit = 0;
  for (const inv of invoices) {
    if (inv.status === 'draft' || inv.status === 'void') continue;
    credit += Math.max(0, -inv.total) - inv.creditApplied;
  }
  return Math.max(0, credit);
}
