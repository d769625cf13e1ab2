import Link from 'next/link';
import { AlertBanner } from '../../_components/alert-banner';
import { buttonPrimary, textLink } from '../../_components/buttons';
import { Card } from '../../_components/card';
import { DateTime } from '../../_components/date-time';
import { Money } from '../../_components/money';
import { EmptyState } from '../../_components/states';
import { orNotFound } from '../portal-api';
import { FeatureCard } from './feature-card';
import { count } from './numbers';
import { PeriodChooser } from './period-chooser';
import { usageApi } from './usage-api';

export const metadata = { title: 'Usage' };

type Search = Promise<Record<string, string | string[] | undefined>>;

/**
 * /portal/usage: for a period (the current one, or an earlier one by `?period=<start>`),
 * each metered feature's usage against what the plan includes and its limit, the cost
 * so far, a daily chart; the seats in use and the plan's other features.
 */
export default async function UsagePage({ searchParams }: { searchParams: Search }) {
  const q = await searchParams;
  const start = typeof q.period === 'string' ? q.period : undefined;
  const api = await usageApi(start ? `/portal/usage?period=${encodeURIComponent(start)}` : '/portal/usage');
  // A period that is not the customer's (or no date at all) is this page's not-found.
  const { periods, view } = await orNotFound(api.period(start ? { start } : {}));

  if (!view) {
    return (
      <div className="space-y-6">
        <Header />
        <Card>
          <EmptyState
            title="No usage to show yet"
            action={
              <Link href="/portal/plans" className={buttonPrimary}>
                Choose a plan
              </Link>
            }
          >
            Once you are on a plan, what you use of each feature shows here against what your plan includes, with its cost so far.
          </EmptyState>
        </Card>
      </div>
    );
  }

  const { period } = view;
  const priced = view.metered.some((m) => m.cost.amount !== null);
  return (
    <div className="space-y-6">
      <Header planName={view.planName} />
      <PeriodChooser periods={periods} selected={period.key} />

      <section aria-label="This period" className="grid gap-4 rounded-xl border border-slate-200 bg-white px-5 py-4 shadow-[0_1px_2px_rgba(15,23,42,0.04)] sm:grid-cols-3 sm:px-6">
        <div>
          <p className="text-xs font-medium uppercase tracking-wide text-slate-500">{period.current ? 'Current period' : 'Period'}</p>
          <p className="mt-1 text-sm font-semibold text-slate-900" data-testid="usage-period">
            <DateTime value={period.start} end={period.end} />
          </p>
        </div>
        <div>
          <p className="text-xs font-medium uppercase tracking-wide text-slate-500">{period.current ? 'Usage charges so far' : 'Usage charges billed'}</p>
          <p className="mt-1 text-sm font-semibold text-slate-900" data-testid="usage-total">
            {period.trial ? 'Free during your trial' : priced ? <Money amount={view.totalCost} currency={view.currency} /> : 'None: usage is included'}
          </p>
        </div>
        <div>
          <p className="text-xs font-medium uppercase tracking-wide text-slate-500">{period.current ? 'Counted up to' : 'Invoice'}</p>
          <p className="mt-1 text-sm text-slate-900">
            {period.current ? (
              <DateTime value={period.asOf} style="datetime" />
            ) : period.invoice ? (
              <Link href={`/portal/invoices/${period.invoice.id}`} className={textLink}>
                {period.invoice.number ?? 'Draft invoice'}
              </Link>
            ) : (
              '—'
            )}
          </p>
        </div>
      </section>

      {period.trial && period.current && (
        <AlertBanner tone="info" title="You are on a trial">
          Usage during your trial is free. Limits still apply, and billing by use starts when the trial ends on <DateTime value={period.end} />.
        </AlertBanner>
      )}

      {view.metered.length > 0 ? (
        <div className="space-y-6">
          {view.metered.map((f) => (
            <FeatureCard key={f.key} feature={f} period={period} />
          ))}
        </div>
      ) : (
        <Card>
          <EmptyState title="Nothing on your plan is metered">Your plan has no usage-based features, so there is nothing to count here.</EmptyState>
        </Card>
      )}

      {(view.seats.length > 0 || view.switches.length > 0) && (
        <div className="grid items-start gap-6 md:grid-cols-2">
          {view.seats.map((s) => (
            <Card key={s.key} title={s.name} titleId={`seats-${s.key}`}>
              <div data-testid="usage-seats">
                <p className="text-3xl font-semibold tracking-tight text-slate-900 tabular-nums">
                  {count(s.seats)}
                  <span className="ml-1.5 text-base font-normal text-slate-500">{s.seats === 1 ? 'seat' : 'seats'} in use</span>
                </p>
                <p className="mt-1 text-sm text-slate-600">
                  {[s.included > 0 ? `${count(s.included)} included` : null, s.limit !== null ? `up to ${count(s.limit)}` : null, s.priceText].filter(Boolean).join(' · ') || 'Per seat'}
                </p>
                {s.limit !== null && (
                  <div
                    role="meter"
                    aria-label={`${s.name} in use`}
                    aria-valuemin={0}
                    aria-valuemax={s.limit}
                    aria-valuenow={Math.min(s.seats, s.limit)}
                    className="mt-4 h-2 w-full overflow-hidden rounded-full bg-slate-100"
                  >
                    <span className="block h-full rounded-full bg-indigo-600" style={{ width: `${Math.min(100, s.percent ?? 0)}%` }} />
                  </div>
                )}
                {period.current && (
                  <p className="mt-4 text-sm">
                    <Link href="/portal/plans" className={textLink}>
                      Change seats
                    </Link>
                  </p>
                )}
              </div>
            </Card>
          ))}
          {view.switches.length > 0 && (
            <Card title="Also in your plan" titleId="switches-title">
              <ul className="space-y-2.5 text-sm">
                {view.switches.map((f) => (
                  <li key={f.key} className="flex items-center justify-between gap-3">
                    <span className={f.enabled ? 'text-slate-900' : 'text-slate-500'}>{f.name}</span>
                    <span className={`text-xs font-medium ${f.enabled ? 'text-emerald-700' : 'text-slate-500'}`}>{f.enabled ? 'Included' : 'Not included'}</span>
                  </li>
                ))}
              </ul>
            </Card>
          )}
        </div>
      )}
    </div>
  );
}

function Header({ planName }: { planName?: string }) {
  return (
    <div>
      <h1 className="text-2xl font-semibold tracking-tight text-slate-900">Usage</h1>
      <p className="mt-1 text-sm text-slate-600">
        {planName ? `What you have used on the ${planName} plan, against what it includes, and what it costs so far.` : 'What you use of each feature, against what your plan includes.'}
      </p>
    </div>
  );
}
