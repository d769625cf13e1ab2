import { isPayable, newestInvoiceFirst, pageWindow, type CreditNote, type Invoice, type InvoiceLine, type NumberedPage, type Payment, type PaymentStatus } from '../../ledger';
import { invoiceStatus, type StatusView } from './status';

/**
 * Invoices as the portal shows them: a row of the list, and the detail page. Money stays
 * integer minor units with its currency; the page formats it.
 */
export interface Period {
  start: Date;
  end: Date;
}

export interface InvoiceRow {
  id: string;
  /** Null for a draft (numbered at finalization). */
  number: string | null;
  /** When it was issued: its finalization, or for a draft the end of the period it closes. */
  date: Date;
  /** What it covers; null when it covers nothing (an empty invoice). */
  period: Period | null;
  currency: string;
  total: number;
  amountDue: number;
  status: StatusView;
}

/**
 * The service period an invoice is for, for people: the period its fees in advance cover
 * (the plan's period it opens), else its lines' span (usage billed in arrears,
 * prorations), else the usage period it closes; null when it covers nothing.
 */
export function coveredPeriod(inv: Pick<Invoice, 'periodStart' | 'periodEnd' | 'lines'>): Period | null {
  const fees = inv.lines.filter((l) => l.kind === 'base_fee' || l.kind === 'license' || l.kind === 'flat_fee');
  const lines = fees.length > 0 ? fees : inv.lines;
  if (lines.length > 0) {
    const start = Math.min(...lines.map((l) => l.periodStart.getTime()));
    const end = Math.max(...lines.map((l) => l.periodEnd.getTime()));
    return { start: new Date(start), end: new Date(end) };
  }
  return inv.periodEnd.getTime() > inv.periodStart.getTime() ? { start: inv.periodStart, end: inv.periodEnd } : null;
}

export function invoiceRow(inv: Invoice): InvoiceRow {
  return {
    id: inv.id,
    number: inv.number,
    date: inv.finalizedAt ?? inv.issueAt,
    period: coveredPeriod(inv),
    currency: inv.currency,
    total: inv.total,
    amountDue: inv.amountDue,
    status: invoiceStatus(inv),
  };
}

export interface InvoicePage {
  rows: InvoiceRow[];
  page: number;
  pageCount: number;
  total: number;
}

/** A page of invoices as the engine read it (`ledger.invoices.pageByCustomer`), as rows. */
export function invoicePageView(p: NumberedPage<Invoice>): InvoicePage {
  return { rows: p.items.map(invoiceRow), page: p.page, pageCount: p.pageCount, total: p.total };
}

/** One page (1-based) of invoices already in hand, newest first; a page past the end is the last (as the engine pages). */
export function invoicePage(all: readonly Invoice[], page: number, perPage: number): InvoicePage {
  const sorted = [...all].sort(newestInvoiceFirst);
  const w = pageWindow(sorted.length, page, perPage);
  return invoicePageView({ items: sorted.slice(w.offset, w.offset + perPage), page: w.page, pageCount: w.pageCount, total: sorted.length });
}

export interface LineView {
  id: string;
  description: string;
  /** Exact decimal: units, seats, "1" for a fee. */
  quantity: string;
  /** Major units, exact, when one unit price applies. */
  unitPrice: string | null;
  amount: number;
  discount: number;
  tax: number;
  period: Period;
  /** Graduated and volume prices: what each tier charged. */
  tiers: { units: string; unitPrice: string }[];
  isCredit: boolean;
}

export interface PaymentView {
  id: string;
  date: Date;
  amount: number;
  refunded: number;
  status: PaymentStatus;
  label: string;
  tone: StatusView['tone'];
  /** Why a failed payment failed, in the provider's words. */
  failure: string | null;
}

const PAYMENT_WORDS: Record<PaymentStatus, [string, StatusView['tone']]> = {
  pending: ['Processing', 'info'],
  requires_action: ['Needs confirmation', 'warning'],
  succeeded: ['Succeeded', 'success'],
  failed: ['Failed', 'danger'],
  canceled: ['Canceled', 'neutral'],
};

export interface InvoiceDetail extends InvoiceRow {
  issuedAt: Date | null;
  dueAt: Date | null;
  paidAt: Date | null;
  billedTo: { name: string; email: string; taxId: string | null } | null;
  lines: LineView[];
  subtotal: number;
  discount: number;
  /** The tax with its rate's name ("CA sales tax 7.25 %"), or why there is none. */
  tax: { amount: number; label: string; inclusive: boolean } | null;
  taxNote: string | null;
  creditApplied: number;
  /** Prepaid credits of the customer's wallet that paid part of it. */
  walletApplied: number;
  credited: number;
  creditNotes: { id: string; number: string; date: Date; amount: number; reason: string; memo: string }[];
  payments: PaymentView[];
  /** The hosted pay page, for an invoice that asks for money, to a user who may pay. */
  payUrl: string | null;
  /** The invoice's PDF (GET /api/invoices/<id>/pdf). */
  pdfUrl: string;
}

const REASONS: Record<string, string> = {
  duplicate: 'Duplicate charge',
  fraudulent: 'Fraudulent',
  order_change: 'Order change',
  product_unsatisfactory: 'Product unsatisfactory',
  billing_error: 'Billing error',
};

function lineView(l: InvoiceLine): LineView {
  return {
    id: l.id,
    description: l.description,
    quantity: l.quantity,
    unitPrice: l.unitPrice,
    amount: l.amount,
    discount: l.discount,
    tax: l.tax,
    period: { start: l.periodStart, end: l.periodEnd },
    tiers: (l.tiers ?? []).map((t) => ({ units: t.units, unitPrice: t.unitPrice })),
    isCredit: l.amount < 0,
  };
}

/** May this invoice be paid now? Open or uncollectible, with something left to pay (the engine's rule, which its stores filter by). */
export { isPayable };

export function invoiceDetail(input: { invoice: Invoice; creditNotes: readonly CreditNote[]; payments: readonly Payment[]; payUrl: string | null }): InvoiceDetail {
  const { invoice: inv } = input;
  return {
    ...invoiceRow(inv),
    issuedAt: inv.finalizedAt,
    dueAt: inv.dueAt,
    paidAt: inv.paidAt,
    billedTo: inv.customer ? { name: inv.customer.name, email: inv.customer.email, taxId: inv.customer.taxId } : null,
    lines: inv.lines.map(lineView),
    subtotal: inv.subtotal,
    discount: inv.discount,
    tax: inv.taxRate ? { amount: inv.tax, label: `${inv.taxRate.displayName} ${inv.taxRate.percentage} %`, inclusive: inv.taxInclusive } : null,
    taxNote: inv.taxNote,
    creditApplied: inv.creditApplied,
    walletApplied: inv.walletApplied ?? 0,
    credited: inv.credited,
    creditNotes: input.creditNotes.map((n) => ({ id: n.id, number: n.number, date: n.createdAt, amount: n.amount, reason: REASONS[n.reason] ?? n.reason, memo: n.memo })),
    payments: [...input.payments]
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map((p) => {
        const [label, tone] = PAYMENT_WORDS[p.status];
        return { id: p.id, date: p.createdAt, amount: p.amount, refunded: p.amountRefunded, status: p.status, label, tone, failure: p.status === 'failed' ? (p.failureMessage ?? p.failureCode) : null };
      }),
    payUrl: isPayable(inv) ? input.payUrl : null,
    pdfUrl: `/api/invoices/${inv.id}/pdf`,
  };
}
