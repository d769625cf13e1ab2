import Link from 'next/link';
import { AlertBanner } from '../_components/alert-banner';
import { buttonPrimary, buttonSecondary, textLink } from '../_components/buttons';
import { Card } from '../_components/card';
import { DateTime } from '../_components/date-time';
import { Money } from '../_components/money';
import { EmptyState } from '../_components/states';
import { StatusBadge } from '../_components/status-badge';
import { InvoiceTable } from './invoices/invoice-table';
import { portalApi } from './portal-api';

export const metadata = { title: 'Overview' };

const intervalText = ({ unit, count }: { unit: string; count: number }) => (count === 1 ? `per ${unit}` : `every ${count} ${unit}s`);
const BRANDS: Record<string, string> = { visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', discover: 'Discover' };
const brandText = (b: string) => BRANDS[b] ?? (b === 'unknown' ? 'Card' : b[0]!.toUpperCase() + b.slice(1));

/** /portal: the plan and its status, the next invoice, the card on file, and what needs attention. */
export default async function OverviewPage() {
  const api = await portalApi('/portal');
  const o = await api.overview();
  const recent = o.recentInvoices;
  const sub = o.subscription;
  const live = sub && sub.status.status !== 'canceled' ? sub : null;

  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900">Overview</h1>
        <p className="mt-1 text-sm text-slate-600">Your plan, what you will be billed next, and anything that needs your attention.</p>
      </div>

      {(o.alerts.length > 0 || o.toPay) && (
        <section aria-label="Needs attention" className="space-y-3">
          {o.alerts.map((a) => (
            <AlertBanner
              key={`${a.kind}:${a.featureKey ?? ''}`}
              tone={a.tone}
              title={a.title}
              action={
                (a.kind === 'past_due' || a.kind === 'unpaid') && o.toPay ? (
                  o.toPay.payUrl ? (
                    <a href={o.toPay.payUrl} className={buttonPrimary}>
                      Pay <Money amount={o.toPay.amountDue} currency={o.toPay.currency} />
                    </a>
                  ) : (
                    <Link href={`/portal/invoices/${o.toPay.id}`} className={buttonSecondary}>
                      View invoice
                    </Link>
                  )
                ) : undefined
              }
            >
              {a.detail}
              {a.percent !== undefined && (
                // The words above say it; the bar shows it at a glance.
                <span aria-hidden="true" className="mt-2 block h-1.5 w-full max-w-xs overflow-hidden rounded-full bg-white/70 ring-1 ring-inset ring-black/5">
                  <span className={`block h-full rounded-full ${a.tone === 'danger' ? 'bg-rose-500' : 'bg-amber-500'}`} style={{ width: `${Math.min(100, a.percent)}%` }} />
                </span>
              )}
            </AlertBanner>
          ))}
          {o.toPay && !o.alerts.some((a) => a.kind === 'past_due' || a.kind === 'unpaid') && (
            <AlertBanner
              tone="info"
              title={`Invoice ${o.toPay.number ?? ''} is open`}
              action={
                o.toPay.payUrl ? (
                  <a href={o.toPay.payUrl} className={buttonPrimary}>
                    Pay <Money amount={o.toPay.amountDue} currency={o.toPay.currency} />
                  </a>
                ) : (
                  <Link href={`/portal/invoices/${o.toPay.id}`} className={buttonSecondary}>
                    View invoice
                  </Link>
                )
              }
            >
              <Money amount={o.toPay.amountDue} currency={o.toPay.currency} /> is due
              {o.toPay.dueAt && (
                <>
                  {' '}
                  by <DateTime value={o.toPay.dueAt} />
                </>
              )}
              .
            </AlertBanner>
          )}
        </section>
      )}

      <div className="grid items-start gap-6 lg:grid-cols-3">
        <Card title="Current plan" titleId="plan-title" className="lg:col-span-2">
          {sub ? (
            <div data-testid="current-plan">
              <div className="flex flex-wrap items-center gap-x-3 gap-y-2">
                <p className="text-xl font-semibold text-slate-900">{sub.planName}</p>
                <StatusBadge status={sub.status} />
              </div>
              <p className="mt-1 text-sm text-slate-600">
                <Money amount={sub.basePrice} currency={sub.currency} className="font-medium text-slate-900" /> {intervalText(sub.interval)}
                {sub.quantity > 1 && <> · {sub.quantity} seats</>}
              </p>

              {sub.trial && (
                <div className="mt-5 rounded-lg bg-indigo-50 px-4 py-3">
                  <p className="text-sm font-semibold text-indigo-900" data-testid="trial-left">
                    {sub.trial.daysLeft === 0 ? 'Your trial ends today' : `${sub.trial.daysLeft} ${sub.trial.daysLeft === 1 ? 'day' : 'days'} left in your trial`}
                  </p>
                  <p className="mt-0.5 text-sm text-indigo-800">
                    Ends <DateTime value={sub.trial.endsAt} style="datetime" />
                    {sub.cancelsAt ? '; your plan ends with it.' : '; billing starts then.'}
                  </p>
                </div>
              )}
              {sub.cancelsAt && !sub.trial && (
                <div className="mt-5 rounded-lg bg-amber-50 px-4 py-3">
                  <p className="text-sm font-semibold text-amber-900">Cancellation scheduled</p>
                  <p className="mt-0.5 text-sm text-amber-900">
                    Your plan stays active until <DateTime value={sub.cancelsAt} />; nothing is billed after that.
                  </p>
                </div>
              )}
              {sub.endedAt && (
                <p className="mt-4 text-sm text-slate-600">
                  Ended <DateTime value={sub.endedAt} />.
                </p>
              )}

              {live && (
                <dl className="mt-5 grid grid-cols-1 gap-4 border-t border-slate-100 pt-4 text-sm sm:grid-cols-2">
                  <div>
                    <dt className="text-slate-500">{live.trial ? 'Trial period' : 'Current period'}</dt>
                    <dd className="mt-0.5 font-medium text-slate-900">
                      <DateTime value={live.currentPeriod.start} end={live.currentPeriod.end} />
                    </dd>
                  </div>
                  <div>
                    <dt className="text-slate-500">{live.cancelsAt ? 'Ends' : live.trial ? 'Billing starts' : 'Renews'}</dt>
                    <dd className="mt-0.5 font-medium text-slate-900">
                      <DateTime value={live.currentPeriod.end} />
                    </dd>
                  </div>
                </dl>
              )}
            </div>
          ) : (
            <EmptyState
              title="No plan yet"
              action={
                <Link href="/plans" className={buttonPrimary}>
                  See plans
                </Link>
              }
            >
              Choose a plan to start. Your invoices and usage will show here.
            </EmptyState>
          )}
        </Card>

        <div className="space-y-6">
          <Card title="Next invoice" titleId="next-title">
            {o.nextInvoice ? (
              <div data-testid="next-invoice">
                <p className="text-2xl font-semibold tracking-tight text-slate-900">
                  <Money amount={o.nextInvoice.total} currency={o.nextInvoice.currency} />
                </p>
                <p className="mt-1 text-sm text-slate-600">
                  on <DateTime value={o.nextInvoice.issueAt} />
                </p>
                <p className="mt-3 text-xs text-slate-500">An estimate with your usage so far; usage until the end of the period is added.</p>
              </div>
            ) : (
              <p className="text-sm text-slate-600">{sub?.cancelsAt ? 'Nothing more: your plan ends at the period end.' : 'No upcoming invoice.'}</p>
            )}
          </Card>

          <Card title="Payment method" titleId="method-title">
            {o.paymentMethod ? (
              <div className="flex items-center gap-3" data-testid="payment-method">
                <span className="grid h-8 w-12 place-items-center rounded-md bg-slate-800 text-[0.625rem] font-bold uppercase tracking-wider text-white" aria-hidden="true">
                  {o.paymentMethod.brand.slice(0, 4)}
                </span>
                <div className="text-sm">
                  <p className="font-semibold text-slate-900">
                    {brandText(o.paymentMethod.brand)} ending in {o.paymentMethod.last4}
                  </p>
                  <p className={o.paymentMethod.expired ? 'text-rose-700' : 'text-slate-600'}>
                    {o.paymentMethod.expired ? 'Expired' : 'Expires'} {String(o.paymentMethod.expMonth).padStart(2, '0')}/{o.paymentMethod.expYear}
                  </p>
                </div>
              </div>
            ) : (
              <div className="text-sm" data-testid="payment-method">
                <p className="font-semibold text-slate-900">No card on file</p>
                <p className="mt-0.5 text-slate-600">Invoices are emailed to {o.customer.email} to pay by their link.</p>
              </div>
            )}
          </Card>
        </div>
      </div>

      <Card
        title="Recent invoices"
        titleId="recent-title"
        padded={false}
        action={
          recent.total > 0 ? (
            <Link href="/portal/invoices" className={`text-sm ${textLink}`}>
              View all<span className="sr-only"> invoices</span>
            </Link>
          ) : undefined
        }
      >
        {recent.rows.length > 0 ? (
          <InvoiceTable rows={recent.rows} caption="Your three most recent invoices" />
        ) : (
          <EmptyState title="No invoices yet">Your first invoice appears here when your plan bills.</EmptyState>
        )}
      </Card>
    </div>
  );
}
