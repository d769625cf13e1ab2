import { and, asc, desc, eq, gt, inArray, isNotNull, isNull, lte, sql } from 'drizzle-orm';
import type { Database } from '../../../db/client';
import { creditNotes, customers, documentSequences, invoices } from '../../../db/schema';
import { availableCredit, canRefundCredit, formatNumber, type InvoiceStore, type Numbering } from '../invoice/store';
import { PAYABLE_STATUSES } from '../invoice/listing';
import type { CreditNote, CustomerSnapshot, Invoice, InvoiceBasis, InvoiceLine, InvoiceTaxRate } from '../invoice/types';
import type { CouponId, Currency, CustomerId, InvoiceId, Scope, SubscriptionId } from '../types';
import { customerOnClock } from './postgres-billing';

/** JSON columns hold dates as ISO strings: back to Dates. */
export const reviveLine = (l: InvoiceLine): InvoiceLine => ({ ...l, periodStart: new Date(l.periodStart), periodEnd: new Date(l.periodEnd) });
export function reviveBasis(b: InvoiceBasis): InvoiceBasis {
  return {
    advance: b.advance && { ...b.advance, start: new Date(b.advance.start), end: new Date(b.advance.end) },
    usage: b.usage && { ...b.usage, start: new Date(b.usage.start), end: new Date(b.usage.end) },
    prorations: b.prorations.map(reviveLine),
    couponId: b.couponId,
  };
}

type Row = typeof invoices.$inferSelect;

const toInvoice = (r: Row): Invoice => ({
  id: r.id as InvoiceId,
  number: r.number,
  status: r.status,
  subscriptionId: r.subscriptionId as SubscriptionId,
  customerId: r.customerId as CustomerId,
  currency: r.currency as Currency,
  billingReason: r.billingReason as Invoice['billingReason'],
  key: r.key,
  issueAt: r.issueAt,
  periodStart: r.periodStart,
  periodEnd: r.periodEnd,
  lines: (r.lines as InvoiceLine[]).map(reviveLine),
  subtotal: r.subtotal,
  discount: r.discount,
  tax: r.tax,
  total: r.total,
  creditApplied: r.creditApplied,
  walletApplied: r.walletApplied,
  credited: r.credited,
  amountDue: r.amountDue,
  taxInclusive: r.taxInclusive,
  taxRate: (r.taxRate as InvoiceTaxRate | null) ?? null,
  taxNote: r.taxNote,
  couponId: r.couponId as CouponId | null,
  basis: reviveBasis(r.basis as InvoiceBasis),
  customer: (r.customer as CustomerSnapshot | null) ?? null,
  finalizeAt: r.finalizeAt,
  finalizedAt: r.finalizedAt,
  paidAt: r.paidAt,
  voidedAt: r.voidedAt,
  voidReason: r.voidReason,
  markedUncollectibleAt: r.markedUncollectibleAt,
  collectionMethod: r.collectionMethod,
  dueAt: r.dueAt,
  pastDueAt: r.pastDueAt,
  attemptCount: r.attemptCount,
  nextPaymentAttemptAt: r.nextPaymentAttemptAt,
  creditRefunded: r.creditRefunded,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const toRow = (s: Scope, inv: Invoice): typeof invoices.$inferInsert => ({ ...s, ...inv });

const toNote = (r: typeof creditNotes.$inferSelect): CreditNote => ({
  id: r.id as CreditNote['id'],
  number: r.number,
  invoiceId: r.invoiceId as InvoiceId,
  customerId: r.customerId as CustomerId,
  amount: r.amount,
  currency: r.currency as Currency,
  reason: r.reason as CreditNote['reason'],
  memo: r.memo,
  createdAt: r.createdAt,
});

const inScope = (s: Scope) => and(eq(invoices.tenantId, s.tenantId), eq(invoices.appId, s.appId));

export function createPostgresInvoiceStore(db: Database): InvoiceStore {
  /** The next number of a kind, taken inside the caller's transaction (the row lock serializes). */
  async function nextNumber(tx: Database, s: Scope, kind: 'invoice' | 'credit_note', numbering: Numbering): Promise<string> {
    const [row] = await tx
      .insert(documentSequences)
      .values({ ...s, kind, next: 2 })
      .onConflictDoUpdate({
        target: [documentSequences.tenantId, documentSequences.appId, documentSequences.kind],
        set: { next: sql`${documentSequences.next} + 1` },
      })
      .returning({ n: sql<number>`(${documentSequences.next} - 1)::int` });
    return formatNumber(numbering, row!.n);
  }

  const get = async (tx: Database, s: Scope, id: InvoiceId) => {
    const [r] = await tx.select().from(invoices).where(and(inScope(s), eq(invoices.id, id)));
    return r ? toInvoice(r) : null;
  };

  /** Locks the customer's row (serializing what shares its balance), then reads the balance. */
  async function lockedBalance(tx: Database, s: Scope, customerId: CustomerId, currency: Currency): Promise<number> {
    await tx
      .select({ id: customers.id })
      .from(customers)
      .where(and(eq(customers.tenantId, s.tenantId), eq(customers.appId, s.appId), eq(customers.id, customerId)))
      .for('update');
    return balanceOf(tx, s, customerId, currency);
  }

  async function balanceOf(tx: Database, s: Scope, customerId: CustomerId, currency: Currency): Promise<number> {
    const rows = await tx
      .select()
      .from(invoices)
      .where(
        and(
          inScope(s),
          eq(invoices.customerId, customerId),
          eq(invoices.currency, currency),
          inArray(invoices.status, ['open', 'paid', 'uncollectible']),
        ),
      );
    return availableCredit(rows.map(toInvoice));
  }

  return {
    async insertOnce(s, inv) {
      const inserted = await db.insert(invoices).values(toRow(s, inv)).onConflictDoNothing().returning();
      if (inserted[0]) return { invoice: toInvoice(inserted[0]), created: true };
      const [existing] = await db
        .select()
        .from(invoices)
        .where(
          and(
            inScope(s),
            eq(invoices.subscriptionId, inv.subscriptionId),
            eq(invoices.key, inv.key),
          ),
        );
      if (!existing) throw new Error(`invoice ${inv.id} was neither inserted nor found`);
      return { invoice: toInvoice(existing), created: false };
    },
    get: (s, id) => get(db, s, id),
    async listByCustomer(s, customerId, page) {
      const rows = await db
        .select()
        .from(invoices)
        .where(and(inScope(s), eq(invoices.customerId, customerId), page.cursor ? gt(invoices.id, page.cursor) : undefined))
        .orderBy(asc(invoices.id))
        .limit(page.limit + 1);
      return rows.map(toInvoice);
    },
    async sliceByCustomer(s, customerId, { offset, limit }) {
      const ofCustomer = and(inScope(s), eq(invoices.customerId, customerId));
      // The slice walks invoices_customer_issue_idx backwards and stops after offset +
      // limit rows; the count reads the same index, not the rows.
      const [rows, [count]] = await Promise.all([
        db.select().from(invoices).where(ofCustomer).orderBy(desc(invoices.issueAt), desc(invoices.id)).limit(limit).offset(offset),
        db.select({ n: sql<number>`count(*)::int` }).from(invoices).where(ofCustomer),
      ]);
      return { items: rows.map(toInvoice), total: count?.n ?? 0 };
    },
    async listPayableByCustomer(s, customerId) {
      const rows = await db
        .select()
        .from(invoices)
        .where(and(inScope(s), eq(invoices.customerId, customerId), inArray(invoices.status, [...PAYABLE_STATUSES]), gt(invoices.amountDue, 0)))
        .orderBy(asc(invoices.issueAt), asc(invoices.id));
      return rows.map(toInvoice);
    },
    async listDraftsByCustomer(s, customerId) {
      const rows = await db
        .select()
        .from(invoices)
        .where(and(inScope(s), eq(invoices.customerId, customerId), eq(invoices.status, 'draft')))
        .orderBy(asc(invoices.finalizeAt), asc(invoices.id));
      return rows.map(toInvoice);
    },
    async listBySubscription(s, subscriptionId) {
      const rows = await db
        .select()
        .from(invoices)
        .where(and(inScope(s), eq(invoices.subscriptionId, subscriptionId)))
        .orderBy(asc(invoices.issueAt), asc(invoices.id));
      return rows.map(toInvoice);
    },
    async listDraftsDue(s, at, limit, on) {
      const rows = await db
        .select()
        .from(invoices)
        .where(and(inScope(s), eq(invoices.status, 'draft'), lte(invoices.finalizeAt, at), customerOnClock(invoices, on)))
        .orderBy(asc(invoices.finalizeAt), asc(invoices.id))
        .limit(limit);
      return rows.map(toInvoice);
    },
    async updateDraft(s, inv) {
      const { id, createdAt: _c, ...set } = inv;
      const r = await db
        .update(invoices)
        .set(set)
        .where(and(inScope(s), eq(invoices.id, id), eq(invoices.status, 'draft')))
        .returning({ id: invoices.id });
      return r.length === 1;
    },
    async deleteDraft(s, id) {
      const r = await db
        .delete(invoices)
        .where(and(inScope(s), eq(invoices.id, id), eq(invoices.status, 'draft')))
        .returning({ id: invoices.id });
      return r.length === 1;
    },
    async finalize(s, id, numbering, finish) {
      return db.transaction(async (tx) => {
        // The draft as it is now, locked: a refresh racing this finalization waits, and
        // is not overwritten by what this one read.
        const [row] = await tx.select().from(invoices).where(and(inScope(s), eq(invoices.id, id))).for('update');
        const draft = row ? toInvoice(row) : null;
        if (!draft || draft.status !== 'draft') return null;
        // One finalization (or credit refund) per customer at a time: they share its balance.
        const credit = await lockedBalance(tx as unknown as Database, s, draft.customerId, draft.currency);
        const number = await nextNumber(tx as unknown as Database, s, 'invoice', numbering);
        const done = finish(draft, number, credit);
        const { id: _id, createdAt: _c, ...set } = done;
        const updated = await tx
          .update(invoices)
          .set(set)
          .where(and(inScope(s), eq(invoices.id, id), eq(invoices.status, 'draft')))
          .returning();
        if (!updated[0]) {
          // Finalized meanwhile: give the number back by rolling back.
          tx.rollback();
        }
        return toInvoice(updated[0]!);
      }).catch((e: unknown) => {
        if (e instanceof Error && e.message === 'Rollback') return null;
        throw e;
      });
    },
    creditBalance: (s, customerId, currency) => balanceOf(db, s, customerId, currency),
    async refundCredit(s, id, amount, at) {
      return db.transaction(async (tx) => {
        const inv = await get(tx as unknown as Database, s, id);
        if (!inv) return null;
        const balance = await lockedBalance(tx as unknown as Database, s, inv.customerId, inv.currency);
        // Re-read under the customer's lock: a concurrent refund of the same invoice waited for it.
        const current = await get(tx as unknown as Database, s, id);
        if (!current || !canRefundCredit(current, amount, balance)) return null;
        const [row] = await tx
          .update(invoices)
          .set({ creditRefunded: sql`${invoices.creditRefunded} + ${amount}`, updatedAt: at })
          .where(and(inScope(s), eq(invoices.id, id), eq(invoices.creditRefunded, current.creditRefunded)))
          .returning();
        return row ? toInvoice(row) : null;
      });
    },
    async updateCollection(s, id, expected, patch) {
      const at = (col: typeof invoices.nextPaymentAttemptAt | typeof invoices.pastDueAt, v: Date | null | undefined) =>
        v === undefined ? undefined : v === null ? isNull(col) : eq(col, v);
      const r = await db
        .update(invoices)
        .set(patch)
        .where(
          and(
            inScope(s),
            eq(invoices.id, id),
            inArray(invoices.status, [...expected.status]),
            expected.attemptCount === undefined ? undefined : eq(invoices.attemptCount, expected.attemptCount),
            at(invoices.nextPaymentAttemptAt, expected.nextPaymentAttemptAt),
            at(invoices.pastDueAt, expected.pastDueAt),
          ),
        )
        .returning();
      return r[0] ? toInvoice(r[0]) : null;
    },
    async listRetriesDue(s, at, limit, on) {
      // Served by invoices_retry_idx (partial: a retry planned).
      const rows = await db
        .select()
        .from(invoices)
        .where(and(inScope(s), isNotNull(invoices.nextPaymentAttemptAt), lte(invoices.nextPaymentAttemptAt, at), eq(invoices.status, 'open'), customerOnClock(invoices, on)))
        .orderBy(asc(invoices.nextPaymentAttemptAt), asc(invoices.id))
        .limit(limit);
      return rows.map(toInvoice);
    },
    async listPastDue(s, at, limit, on) {
      // Served by invoices_due_idx (partial: open, not yet past due).
      const rows = await db
        .select()
        .from(invoices)
        .where(
          and(
            inScope(s),
            eq(invoices.status, 'open'),
            isNull(invoices.pastDueAt),
            lte(invoices.dueAt, at),
            eq(invoices.collectionMethod, 'send_invoice'),
            customerOnClock(invoices, on),
          ),
        )
        .orderBy(asc(invoices.dueAt), asc(invoices.id))
        .limit(limit);
      return rows.map(toInvoice);
    },
    async transition(s, id, from, patch) {
      const { id: _id, createdAt: _c, ...set } = patch as Partial<Invoice>;
      const r = await db
        .update(invoices)
        .set(set)
        .where(and(inScope(s), eq(invoices.id, id), inArray(invoices.status, [...from])))
        .returning();
      return r[0] ? toInvoice(r[0]) : null;
    },
    async issueCreditNote(s, note, numbering) {
      return db.transaction(async (tx) => {
        // Lowering the amount due only if the invoice can take it: a conditional update.
        const updated = await tx
          .update(invoices)
          .set({
            credited: sql`${invoices.credited} + ${note.amount}`,
            // A paid invoice owes nothing whatever its credit notes say (they are refunded or settled out of band).
            // Otherwise the note lowers what is owed; beyond it, it gives back prepaid credits (wallet/give-back.ts).
            amountDue: sql`case when ${invoices.status} = 'paid' then 0 else greatest(0, ${invoices.amountDue} - ${note.amount}) end`,
            updatedAt: note.createdAt,
          })
          .where(
            and(
              inScope(s),
              eq(invoices.id, note.invoiceId),
              inArray(invoices.status, ['open', 'paid', 'uncollectible']),
              sql`${invoices.total} - ${invoices.creditApplied} - ${invoices.credited} >= ${note.amount}`,
            ),
          )
          .returning();
        if (!updated[0]) return null;
        const number = await nextNumber(tx as unknown as Database, s, 'credit_note', numbering);
        const [row] = await tx.insert(creditNotes).values({ ...s, ...note, number }).returning();
        return { note: toNote(row!), invoice: toInvoice(updated[0]) };
      });
    },
    async listCreditNotes(s, invoiceId) {
      const rows = await db
        .select()
        .from(creditNotes)
        .where(and(eq(creditNotes.tenantId, s.tenantId), eq(creditNotes.appId, s.appId), eq(creditNotes.invoiceId, invoiceId)))
        .orderBy(asc(creditNotes.number));
      return rows.map(toNote);
    },
  };
}
