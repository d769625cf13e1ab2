import { Money } from '../../_components/money';
import type { ChangePreviewData } from './types';

type Preview = NonNullable<ChangePreviewData['chargeNow']>;

/** An invoice's lines and totals, as the change dialogs show it (credits are negative). */
export function InvoiceLines({ invoice, caption, testId }: { invoice: Preview; caption: string; testId?: string }) {
  const c = invoice.currency;
  return (
    <table className="w-full text-sm" data-testid={testId}>
      <caption className="sr-only">{caption}</caption>
      <thead className="sr-only">
        <tr>
          <th scope="col">Item</th>
          <th scope="col">Amount</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {invoice.lines.map((l, i) => (
          <tr key={i}>
            <td className="py-2 pr-3 text-slate-700">{l.description}</td>
            <td className={`py-2 text-right whitespace-nowrap ${l.amount < 0 ? 'text-emerald-700' : 'text-slate-900'}`}>
              <Money amount={l.amount} currency={c} />
            </td>
          </tr>
        ))}
      </tbody>
      <tfoot className="border-t border-slate-200">
        {invoice.discount > 0 && (
          <tr>
            <th scope="row" className="pt-2 pr-3 text-left font-normal text-slate-600">Discount</th>
            <td className="pt-2 text-right text-emerald-700"><Money amount={-invoice.discount} currency={c} /></td>
          </tr>
        )}
        {invoice.tax !== 0 && (
          <tr>
            <th scope="row" className="pt-2 pr-3 text-left font-normal text-slate-600">Tax</th>
            <td className="pt-2 text-right"><Money amount={invoice.tax} currency={c} /></td>
          </tr>
        )}
        <tr>
          <th scope="row" className="pt-2 pr-3 text-left font-semibold text-slate-900">Total</th>
          <td className="pt-2 text-right font-semibold text-slate-900" data-testid={testId ? `${testId}-total` : undefined}>
            <Money amount={invoice.total} currency={c} />
          </td>
        </tr>
      </tfoot>
    </table>
  );
}
