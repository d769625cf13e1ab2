import Link from 'next/link';
import { buttonPrimary, buttonSecondary, textLink } from '../../../_components/buttons';
import { Card, Field } from '../../../_components/card';
import { DateTime } from '../../../_components/date-time';
import { Money } from '../../../_components/money';
import { StatusBadge, TONE_CLASSES } from '../../../_components/status-badge';
import { orNotFound, portalApi } from '../../portal-api';

export const metadata = { title: 'Invoice' };

const qty = (q: string) => (/^\d+$/.test(q) ? Number(q).toLocaleString('en-US') : q);

/** /portal/invoices/<id>: lines, discount, tax, credit notes, payments, the PDF, and paying it. Another customer's id: not found. */
export default async function InvoicePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const api = await portalApi(`/portal/invoices/${encodeURIComponent(id)}`);
  const inv = await orNotFound(api.invoices.get({ id }));
  const cur = inv.currency;
  const title = inv.number ? `Invoice ${inv.number}` : 'Draft invoice';
  const paid = inv.status.status === 'paid';
  const taxNote = inv.tax ? null : taxNoteText(inv.taxNote);

  return (
    <div className="space-y-6">
      <Link href="/portal/invoices" className={`inline-flex items-center gap-1 text-sm ${textLink}`}>
        <span aria-hidden="true">←</span> All invoices
      </Link>

      <div className="flex flex-col gap-4 sm:flex-row sm:items-end sm:justify-between">
        <div>
          <div className="flex flex-wrap items-center gap-3">
            <h1 className="text-2xl font-semibold tracking-tight text-slate-900">{title}</h1>
            <StatusBadge status={inv.status} />
          </div>
          {paid ? (
            <p className="mt-2 text-3xl font-semibold tracking-tight text-slate-900" data-testid="amount-paid">
              <Money amount={amountPaid(inv)} currency={cur} />
              <span className="ml-2 text-sm font-normal text-slate-600">
                paid
                {inv.paidAt && (
                  <>
                    {' '}
                    on <DateTime value={inv.paidAt} />
                  </>
                )}
              </span>
            </p>
          ) : (
            <p className="mt-2 text-3xl font-semibold tracking-tight text-slate-900" data-testid="amount-due">
              <Money amount={inv.amountDue} currency={cur} />
              <span className="ml-2 text-sm font-normal text-slate-600">
                {inv.amountDue > 0 ? 'due' : 'owed'}
                {inv.dueAt && inv.amountDue > 0 && (inv.status.status === 'due' || inv.status.status === 'past_due') && (
                  <>
                    {' '}
                    by <DateTime value={inv.dueAt} />
                  </>
                )}
              </span>
            </p>
          )}
        </div>
        <div className="flex flex-wrap gap-2">
          {inv.payUrl && (
            <a href={inv.payUrl} className={buttonPrimary} data-testid="pay-invoice">
              Pay <Money amount={inv.amountDue} currency={cur} />
            </a>
          )}
          <a href={inv.pdfUrl} className={buttonSecondary} download>
            <svg viewBox="0 0 20 20" fill="currentColor" className="size-4" aria-hidden="true">
              <path d="M10.75 2.75a.75.75 0 0 0-1.5 0v8.61L6.3 8.4a.75.75 0 1 0-1.1 1.02l4.25 4.5a.75.75 0 0 0 1.1 0l4.25-4.5a.75.75 0 0 0-1.1-1.02l-2.95 2.96V2.75Z" />
              <path d="M3.5 12.75a.75.75 0 0 0-1.5 0v2.5A2.75 2.75 0 0 0 4.75 18h10.5A2.75 2.75 0 0 0 18 15.25v-2.5a.75.75 0 0 0-1.5 0v2.5c0 .69-.56 1.25-1.25 1.25H4.75c-.69 0-1.25-.56-1.25-1.25v-2.5Z" />
            </svg>
            Download PDF
          </a>
        </div>
      </div>

      <div className="grid items-start gap-6 lg:grid-cols-3">
        <Card title="Summary" titleId="lines-title" padded={false} className="lg:col-span-2">
          <table className="w-full text-sm">
            <caption className="sr-only">What this invoice bills</caption>
            <thead className="border-b border-slate-200 bg-slate-50/60 text-left text-xs font-medium uppercase tracking-wide text-slate-500">
              <tr>
                <th scope="col" className="py-2.5 pr-3 pl-5 font-medium sm:pl-6">
                  Description
                </th>
                <th scope="col" className="hidden px-3 py-2.5 text-right font-medium sm:table-cell">
                  Qty
                </th>
                <th scope="col" className="py-2.5 pr-5 pl-3 text-right font-medium sm:pr-6">
                  Amount
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {inv.lines.map((l) => (
                <tr key={l.id}>
                  <td className="py-3 pr-3 pl-5 align-top sm:pl-6">
                    <span className="font-medium text-slate-900">{l.description}</span>
                    <span className="block text-xs text-slate-500">
                      <DateTime value={l.period.start} end={l.period.end} />
                      <span className="sm:hidden"> · Qty {qty(l.quantity)}</span>
                    </span>
                    {l.tiers.length > 0 && (
                      <ul className="mt-1 space-y-0.5 text-xs text-slate-500">
                        {l.tiers.map((t, i) => (
                          <li key={i}>
                            {qty(t.units)} × {t.unitPrice} {cur}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td className="hidden px-3 py-3 text-right align-top text-slate-600 tabular-nums sm:table-cell">{qty(l.quantity)}</td>
                  <td className={`py-3 pr-5 pl-3 text-right align-top sm:pr-6 ${l.isCredit ? 'text-emerald-700' : 'text-slate-900'}`}>
                    <Money amount={l.amount} currency={cur} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <dl className={`space-y-2 border-t border-slate-200 px-5 pt-4 text-sm sm:px-6 ${taxNote ? 'pb-2' : 'pb-4'}`} data-testid="totals">
            <Total label="Subtotal" amount={inv.subtotal} currency={cur} />
            {inv.discount > 0 && <Total label="Discount" amount={-inv.discount} currency={cur} />}
            {inv.tax && <Total label={`${inv.tax.label}${inv.tax.inclusive ? ' (included)' : ''}`} amount={inv.tax.amount} currency={cur} />}
            <Total label="Total" amount={inv.total} currency={cur} strong />
            {inv.creditApplied > 0 && <Total label="Credit from your balance" amount={-inv.creditApplied} currency={cur} />}
            {inv.walletApplied > 0 && <Total label="Prepaid credits" amount={-inv.walletApplied} currency={cur} />}
            {inv.credited > 0 && <Total label="Credit notes" amount={-inv.credited} currency={cur} />}
            <div className="flex items-baseline justify-between gap-4 border-t border-slate-900 pt-2 text-base font-semibold text-slate-900">
              <dt>Amount due</dt>
              <dd>
                <Money amount={inv.amountDue} currency={cur} />
              </dd>
            </div>
          </dl>
          {taxNote && (
            <p className="px-5 pb-4 text-xs text-slate-500 sm:px-6" data-testid="tax-note">
              {taxNote}
            </p>
          )}
        </Card>

        <div className="space-y-6">
          <Card title="Details" titleId="details-title">
            <dl className="grid grid-cols-2 gap-4 lg:grid-cols-1">
              <Field label="Issued">{inv.issuedAt ? <DateTime value={inv.issuedAt} /> : 'Not yet (draft)'}</Field>
              {inv.dueAt && inv.status.status !== 'paid' && (
                <Field label="Due">
                  <DateTime value={inv.dueAt} />
                </Field>
              )}
              {inv.paidAt && (
                <Field label="Paid">
                  <DateTime value={inv.paidAt} />
                </Field>
              )}
              {inv.period && (
                <Field label="Period">
                  <DateTime value={inv.period.start} end={inv.period.end} />
                </Field>
              )}
              {inv.billedTo && (
                <Field label="Billed to">
                  <span className="block">{inv.billedTo.name}</span>
                  <span className="block break-all text-slate-600">{inv.billedTo.email}</span>
                  {inv.billedTo.taxId && <span className="block text-slate-600">Tax id {inv.billedTo.taxId}</span>}
                </Field>
              )}
            </dl>
          </Card>

          <Card title="Payments" titleId="payments-title" padded={false}>
            {inv.payments.length === 0 ? (
              <p className="px-5 py-4 text-sm text-slate-600 sm:px-6">{inv.status.status === 'paid' ? 'Settled without a card payment (credit or balance).' : 'No payment yet.'}</p>
            ) : (
              <ul className="divide-y divide-slate-100" data-testid="payments">
                {inv.payments.map((p) => (
                  <li key={p.id} className="flex items-start justify-between gap-3 px-5 py-3 text-sm sm:px-6">
                    <div className="min-w-0">
                      <p className="font-medium text-slate-900">
                        <Money amount={p.amount} currency={cur} />
                        {p.refunded > 0 && (
                          <span className="ml-1 text-xs font-normal text-slate-600">
                            (<Money amount={p.refunded} currency={cur} /> refunded)
                          </span>
                        )}
                      </p>
                      <p className="text-xs text-slate-500">
                        <DateTime value={p.date} style="datetime" />
                      </p>
                      {p.failure && <p className="mt-1 text-xs text-rose-700">{p.failure}</p>}
                    </div>
                    <span className={`shrink-0 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${TONE_CLASSES[p.tone].badge}`}>{p.label}</span>
                  </li>
                ))}
              </ul>
            )}
          </Card>

          {inv.creditNotes.length > 0 && (
            <Card title="Credit notes" titleId="notes-title" padded={false}>
              <ul className="divide-y divide-slate-100" data-testid="credit-notes">
                {inv.creditNotes.map((n) => (
                  <li key={n.id} className="flex items-start justify-between gap-3 px-5 py-3 text-sm sm:px-6">
                    <div className="min-w-0">
                      <p className="font-medium text-slate-900">{n.number}</p>
                      <p className="text-xs text-slate-500">
                        {n.reason} · <DateTime value={n.date} />
                      </p>
                      {n.memo && <p className="mt-1 text-xs text-slate-600">{n.memo}</p>}
                    </div>
                    <Money amount={-n.amount} currency={cur} className="shrink-0 text-emerald-700" />
                  </li>
                ))}
              </ul>
            </Card>
          )}
        </div>
      </div>
    </div>
  );
}

/**
 * What the customer paid for a paid invoice, as the hosted pay page's receipt says it: its
 * succeeded payments (refunds are listed under Payments); with none (settled from the
 * balance or by credit notes), the total less those credits. Its amount due is 0 once
 * paid, which is not what the headline should say ("$0.00 paid").
 */
function amountPaid(inv: { payments: { status: string; amount: number }[]; total: number; creditApplied: number; walletApplied: number; credited: number }): number {
  const paidByCard = inv.payments.filter((p) => p.status === 'succeeded');
  if (paidByCard.length > 0) return paidByCard.reduce((sum, p) => sum + p.amount, 0);
  return Math.max(0, inv.total - inv.creditApplied - inv.walletApplied - inv.credited);
}

/**
 * Why no tax was charged, as a note under the totals rather than a "$0.00" row that reads
 * like a charge. The engine's reasons stay as they are (the PDF prints them); only "No
 * billing country" is reworded here for the person paying.
 */
function taxNoteText(note: string | null): string | null {
  if (!note) return null;
  return note === 'No billing country' ? 'No tax: no billing country on file' : note;
}

function Total({ label, amount, currency, strong = false }: { label: string; amount: number; currency: string; strong?: boolean }) {
  return (
    <div className={`flex items-baseline justify-between gap-4 ${strong ? 'font-medium text-slate-900' : 'text-slate-600'}`}>
      <dt>{label}</dt>
      <dd>
        <Money amount={amount} currency={currency} />
      </dd>
    </div>
  );
}
