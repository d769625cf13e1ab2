import Link from 'next/link';
import type { InvoiceRow } from '@/server/portal/views/invoices';
import { DateTime } from '../../_components/date-time';
import { Money } from '../../_components/money';
import { StatusBadge } from '../../_components/status-badge';

/**
 * Invoices as a table: number, date, period, total, amount due, status. On a phone the
 * period and total fold under the number and amount, so nothing scrolls sideways at 360 px.
 */
export function InvoiceTable({ rows, caption }: { rows: InvoiceRow[]; caption: string }) {
  return (
    <table className="w-full text-left text-sm">
      <caption className="sr-only">{caption}</caption>
      <thead className="border-b border-slate-200 bg-slate-50/60 text-xs font-medium uppercase tracking-wide text-slate-500">
        <tr>
          <th scope="col" className="py-2.5 pr-3 pl-5 font-medium sm:pl-6">
            Invoice
          </th>
          <th scope="col" className="hidden px-3 py-2.5 font-medium md:table-cell">
            Period
          </th>
          <th scope="col" className="hidden px-3 py-2.5 text-right font-medium sm:table-cell">
            Total
          </th>
          <th scope="col" className="px-3 py-2.5 text-right font-medium">
            Amount due
          </th>
          <th scope="col" className="py-2.5 pr-5 pl-3 text-right font-medium sm:pr-6">
            Status
          </th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {rows.map((r) => (
          <tr key={r.id} className="group relative hover:bg-slate-50" data-testid="invoice-row">
            <td className="py-3 pr-3 pl-5 align-top sm:pl-6">
              <Link
                href={`/portal/invoices/${r.id}`}
                className="font-medium text-indigo-700 after:absolute after:inset-0 focus-visible:outline-none focus-visible:after:rounded focus-visible:after:outline-2 focus-visible:after:-outline-offset-2 focus-visible:after:outline-indigo-600 group-hover:text-indigo-900 group-hover:underline"
              >
                {r.number ?? 'Draft'}
              </Link>
              <span className="block text-slate-600">
                <DateTime value={r.date} />
              </span>
              {r.period && (
                <span className="block text-xs text-slate-500 md:hidden">
                  <DateTime value={r.period.start} end={r.period.end} style="short" />
                </span>
              )}
            </td>
            <td className="hidden px-3 py-3 align-top text-slate-600 md:table-cell">{r.period ? <DateTime value={r.period.start} end={r.period.end} /> : '—'}</td>
            <td className="hidden px-3 py-3 text-right align-top text-slate-600 sm:table-cell">
              <Money amount={r.total} currency={r.currency} />
            </td>
            <td className="px-3 py-3 text-right align-top font-medium text-slate-900">
              <Money amount={r.amountDue} currency={r.currency} />
            </td>
            <td className="py-3 pr-5 pl-3 text-right align-top sm:pr-6">
              <StatusBadge status={r.status} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
