import type { Coupon, Currency, Customer, Invoice, CustomerSnapshot } from '../ledger';
import type { CreditNote } from '../ledger/invoice/types';
import type { Payment } from '../ledger/payment/types';
import { dateText, moneyText, periodText, printable, quantityText, unitPriceText } from './money';
import { drawableBy, STANDARD_FONTS, type PdfFonts } from './fonts';
import type { Seller } from './seller';

/**
 * What an invoice PDF says, as the strings it prints: built from the invoice's own amounts
 * (never recomputed), so the PDF can only show what the invoice holds. Rendering
 * (render.ts) only places these strings.
 */
export interface InvoiceView {
  title: string;
  /** "INV-000123", or "Draft". */
  number: string;
  draft: boolean;
  /** "Paid on January 15, 2025", "Due February 14, 2025", "Void", "Uncollectible", "Not yet finalized". */
  status: string;
  seller: string[];
  billTo: string[];
  /** [label, value]: issue date, due date, period. */
  facts: [string, string][];
  lines: LineView[];
  /** [label, value], in order: subtotal, discount, tax, total, credit applied, credit notes, amount due. */
  totals: [string, string][];
  /** Why there is no tax ("Reverse charge …"), when there is none. */
  taxNote: string | null;
  payments: [string, string][];
  filename: string;
}

export interface LineView {
  description: string;
  period: string;
  quantity: string;
  unitPrice: string;
  amount: string;
  /** "Discount −$4.90", when the coupon took something off this line. */
  discount: string | null;
}

export interface ViewInput {
  invoice: Invoice;
  /** The customer now: printed on a draft, which has no snapshot yet. */
  customer: Customer | null;
  seller: Seller;
  creditNotes: CreditNote[];
  payments: Payment[];
  coupon: Coupon | null;
  /** What the PDF will be drawn with: the standard fonts cannot draw every currency symbol. */
  fonts?: PdfFonts;
}

/** The currency's symbol when the fonts can draw it ("$", "€", "£", "¥"), else its code ("INR"). */
export const pdfCurrencyDisplay = (cur: Currency, fonts: PdfFonts): 'symbol' | 'code' => (drawableBy(fonts, moneyText(0, cur)) ? 'symbol' : 'code');

export function invoiceView({ invoice: inv, customer, seller, creditNotes, payments, coupon, fonts = STANDARD_FONTS }: ViewInput): InvoiceView {
  const display = pdfCurrencyDisplay(inv.currency, fonts);
  const m = (minor: number) => printable(moneyText(minor, inv.currency, display));
  const minus = (minor: number) => m(-minor);
  const draft = inv.status === 'draft';

  const facts: [string, string][] = [[draft ? 'Issue date' : 'Date of issue', dateText(inv.finalizedAt ?? inv.issueAt)]];
  if (inv.dueAt) facts.push(['Date due', dateText(inv.dueAt)]);
  if (inv.periodEnd > inv.periodStart) facts.push(['Period', printable(periodText(inv.periodStart, inv.periodEnd))]);
  facts.push(['Currency', inv.currency]);

  const lines: LineView[] = inv.lines.map((l) => ({
    description: l.description,
    period: printable(periodText(l.periodStart, l.periodEnd)),
    quantity: quantityText(l.quantity),
    unitPrice: l.unitPrice === null ? '' : printable(unitPriceText(l.unitPrice, inv.currency, display)),
    amount: m(l.amount),
    discount: l.discount > 0 ? `Discount ${minus(l.discount)}` : null,
  }));

  const totals: [string, string][] = [['Subtotal', m(inv.subtotal)]];
  if (inv.discount > 0) totals.push([coupon ? `Discount (${coupon.name})` : 'Discount', minus(inv.discount)]);
  if (inv.taxRate) {
    const r = inv.taxRate;
    totals.push([`${r.displayName} (${r.percentage}% ${r.inclusive ? 'included' : 'exclusive'})`, m(inv.tax)]);
  }
  totals.push(['Total', m(inv.total)]);
  if (inv.creditApplied > 0) totals.push(['Credit applied', minus(inv.creditApplied)]);
  for (const n of creditNotes) totals.push([`Credit note ${n.number}`, minus(n.amount)]);
  totals.push(['Amount due', m(inv.amountDue)]);

  return {
    title: draft ? 'Draft invoice' : 'Invoice',
    number: inv.number ?? 'Draft',
    draft,
    status: statusText(inv),
    seller: [seller.name, ...seller.address, ...(seller.email ? [seller.email] : []), ...(seller.taxId ? [`Tax ID: ${seller.taxId}`] : [])],
    billTo: billedLines(inv.customer ?? (customer ? snapshotOf(customer) : null)),
    facts,
    lines,
    totals,
    taxNote: inv.taxRate ? null : inv.taxNote,
    payments: payments
      .filter((p) => p.status === 'succeeded')
      .map((p) => [
        `${dateText(p.updatedAt)}, ${p.provider} payment${p.amountRefunded > 0 ? ` (${m(p.amountRefunded)} refunded)` : ''}`,
        m(p.amount),
      ]),
    filename: inv.number ? `${inv.number.replace(/[^A-Za-z0-9._-]/g, '_')}.pdf` : `draft-${inv.id}.pdf`,
  };
}

export function statusText(inv: Invoice): string {
  switch (inv.status) {
    case 'draft':
      return 'Not yet finalized';
    case 'paid':
      return `Paid on ${dateText(inv.paidAt ?? inv.updatedAt)}`;
    case 'void':
      return 'Void';
    case 'uncollectible':
      return 'Uncollectible';
    case 'open':
      return `${inv.dueAt ? `Due ${dateText(inv.dueAt)}` : 'Due'}${inv.pastDueAt ? ' (past due)' : ''}`;
  }
}

const snapshotOf = (c: Customer): CustomerSnapshot => ({
  name: c.name,
  email: c.email,
  address: c.address,
  country: c.country,
  region: c.region,
  taxId: c.taxId,
});

function billedLines(c: CustomerSnapshot | null): string[] {
  if (!c) return [];
  const a = c.address;
  const place = [a?.city, [a?.state ?? c.region, a?.postalCode].filter(Boolean).join(' ')].filter(Boolean).join(', ');
  return [
    c.name,
    ...(a ? [a.line1, a.line2] : []),
    place,
    c.country ?? '',
    c.email,
    c.taxId ? `Tax ID: ${c.taxId}` : '',
  ].filter((l): l is string => !!l);
}
