import { availableCredit, canRefundCredit, formatNumber, matchesCollection, type InvoiceStore, type Numbering } from '../invoice/store';
import { isPayable, newestInvoiceFirst, oldestInvoiceFirst, type CreditNote, type Invoice } from '../invoice/types';
import { scopeKey, type Scope } from '../types';
import { ScopedTable } from './memory-table';

/**
 * Invoices in memory, with the SQL store's invariants: every method runs synchronously
 * between awaits, so each is atomic, as the SQL store's transactions are.
 */
export function createMemoryInvoiceStore(clockOf: (scope: Scope, customerId: string) => string | null): {
  store: InvoiceStore;
  all: () => Iterable<[Scope, Invoice]>;
  /** Deletes the customers' invoices and credit notes (a test clock's deletion). */
  forgetCustomers: (scope: Scope, ids: ReadonlySet<string>) => void;
} {
  const invoices = new ScopedTable<Invoice>();
  const notes = new ScopedTable<CreditNote>();
  const sequences = new Map<string, number>();
  /** The next number, taken only once it is formatted: a formatter that throws uses none up (as SQL's rollback). */
  const nextNumber = (key: string, numbering: Numbering) => {
    const n = (sequences.get(key) ?? 0) + 1;
    const number = formatNumber(numbering, n);
    sequences.set(key, n);
    return number;
  };

  const balance = (scope: Scope, customerId: string, currency: string) =>
    availableCredit(invoices.find(scope, (r) => r.customerId === customerId && r.currency === currency));

  const store: InvoiceStore = {
    async insertOnce(scope, inv) {
      const [existing] = invoices.find(
        scope,
        (r) => r.subscriptionId === inv.subscriptionId && r.key === inv.key,
      );
      if (existing) return { invoice: existing, created: false };
      invoices.put(scope, inv);
      return { invoice: invoices.get(scope, inv.id)!, created: true };
    },
    async get(scope, id) {
      return invoices.get(scope, id);
    },
    async listByCustomer(scope, customerId, page) {
      return invoices.page(scope, page, (r) => r.customerId === customerId);
    },
    async sliceByCustomer(scope, customerId, { offset, limit }) {
      const all = invoices.find(scope, (r) => r.customerId === customerId).sort(newestInvoiceFirst);
      return { items: all.slice(offset, offset + limit), total: all.length };
    },
    async listPayableByCustomer(scope, customerId) {
      return invoices.find(scope, (r) => r.customerId === customerId && isPayable(r)).sort(oldestInvoiceFirst);
    },
    async listDraftsByCustomer(scope, customerId) {
      return invoices
        .find(scope, (r) => r.customerId === customerId && r.status === 'draft')
        .sort((a, b) => a.finalizeAt.getTime() - b.finalizeAt.getTime() || (a.id < b.id ? -1 : 1));
    },
    async listBySubscription(scope, subscriptionId) {
      return invoices.find(scope, (r) => r.subscriptionId === subscriptionId).sort((a, b) => a.issueAt.getTime() - b.issueAt.getTime());
    },
    async listDraftsDue(scope, at, limit, on) {
      return invoices
        .find(scope, (r) => r.status === 'draft' && r.finalizeAt <= at && (!on || clockOf(scope, r.customerId) === on.testClockId))
        .sort((a, b) => a.finalizeAt.getTime() - b.finalizeAt.getTime() || (a.id < b.id ? -1 : 1))
        .slice(0, limit);
    },
    async updateDraft(scope, inv) {
      const current = invoices.get(scope, inv.id);
      if (!current || current.status !== 'draft') return false;
      invoices.put(scope, inv);
      return true;
    },
    async deleteDraft(scope, id) {
      const current = invoices.get(scope, id);
      if (!current || current.status !== 'draft') return false;
      invoices.rows(scope).delete(id);
      return true;
    },
    async finalize(scope, id, numbering, finish) {
      const draft = invoices.get(scope, id);
      if (!draft || draft.status !== 'draft') return null;
      const credit = balance(scope, draft.customerId, draft.currency);
      const number = nextNumber(`${scopeKey(scope)}\u0000invoice`, numbering);
      const done = finish(draft, number, credit);
      invoices.put(scope, done);
      return invoices.get(scope, id);
    },
    async creditBalance(scope, customerId, currency) {
      return balance(scope, customerId, currency);
    },
    async refundCredit(scope, id, amount, at) {
      const inv = invoices.get(scope, id);
      if (!inv || !canRefundCredit(inv, amount, balance(scope, inv.customerId, inv.currency))) return null;
      invoices.put(scope, { ...inv, creditRefunded: inv.creditRefunded + amount, updatedAt: at });
      return invoices.get(scope, id);
    },
    async updateCollection(scope, id, expected, patch) {
      const current = invoices.get(scope, id);
      if (!current || !matchesCollection(current, expected)) return null;
      invoices.put(scope, { ...current, ...patch });
      return invoices.get(scope, id);
    },
    async listRetriesDue(scope, at, limit, on) {
      return invoices
        .find(scope, (r) => r.status === 'open' && r.nextPaymentAttemptAt !== null && r.nextPaymentAttemptAt <= at && (!on || clockOf(scope, r.customerId) === on.testClockId))
        .sort((a, b) => a.nextPaymentAttemptAt!.getTime() - b.nextPaymentAttemptAt!.getTime() || (a.id < b.id ? -1 : 1))
        .slice(0, limit);
    },
    async listPastDue(scope, at, limit, on) {
      return invoices
        .find(
          scope,
          (r) =>
            r.status === 'open' && r.collectionMethod === 'send_invoice' && r.pastDueAt === null && r.dueAt !== null && r.dueAt <= at &&
            (!on || clockOf(scope, r.customerId) === on.testClockId),
        )
        .sort((a, b) => a.dueAt!.getTime() - b.dueAt!.getTime() || (a.id < b.id ? -1 : 1))
        .slice(0, limit);
    },
    async transition(scope, id, from, patch) {
      const current = invoices.get(scope, id);
      if (!current || !from.includes(current.status)) return null;
      invoices.put(scope, { ...current, ...patch });
      return invoices.get(scope, id);
    },
    async issueCreditNote(scope, note, numbering) {
      const inv = invoices.get(scope, note.invoiceId);
      if (!inv || !['open', 'paid', 'uncollectible'].includes(inv.status)) return null;
      if (note.amount > inv.total - inv.creditApplied - inv.credited) return null;
      const number = nextNumber(`${scopeKey(scope)}\u0000credit_note`, numbering);
      const stored: CreditNote = { ...note, number };
      notes.put(scope, stored);
      const credited = inv.credited + note.amount;
      const updated: Invoice = {
        ...inv,
        credited,
        // A paid invoice owes nothing whatever its credit notes say (they are refunded or settled out of band).
        // Otherwise the note lowers what is owed; beyond it, it gives back prepaid credits (wallet/give-back.ts).
        amountDue: inv.status === 'paid' ? 0 : Math.max(0, inv.amountDue - note.amount),
        updatedAt: note.createdAt,
      };
      invoices.put(scope, updated);
      return { note: notes.get(scope, stored.id)!, invoice: invoices.get(scope, inv.id)! };
    },
    async listCreditNotes(scope, invoiceId) {
      return notes.find(scope, (n) => n.invoiceId === invoiceId).sort((a, b) => (a.number < b.number ? -1 : 1));
    },
  };
  return {
    store,
    all: () => invoices.all(),
    forgetCustomers(scope, ids) {
      invoices.delete(scope, (r) => ids.has(r.customerId));
      notes.delete(scope, (n) => ids.has(n.customerId));
    },
  };
}
