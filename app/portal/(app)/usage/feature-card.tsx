import Link from 'next/link';
import type { MeteredView, UsagePeriodView } from '@/server/portal/views/usage';
import { textLink } from '../../_components/buttons';
import { Card } from '../../_components/card';
import { Money } from '../../_components/money';
import { StatusBadge } from '../../_components/status-badge';
import { count, unitWord } from './numbers';
import { UsageBar } from './usage-bar';
import { UsageChart } from './usage-chart';

const TONE = {
  ok: null,
  over_included: { label: 'Billed by use', tone: 'info' },
  near_limit: { label: 'Near limit', tone: 'warning' },
  limit_reached: { label: 'Limit reached', tone: 'danger' },
} as const;

const COST_WORDS: Record<MeteredView['cost']['basis'], string> = {
  estimate: 'Cost so far',
  invoiced: 'Billed',
  trial: 'Cost so far',
  included: 'Cost',
  flat: 'Cost',
  voided: 'Billed',
};

/** What the cost figure rests on, under it. */
function CostNote({ feature, period }: { feature: MeteredView; period: UsagePeriodView['period'] }) {
  const c = feature.cost;
  if (c.basis === 'trial') return <>Free during your trial</>;
  if (c.basis === 'included') return <>No charge for use on your plan</>;
  if (c.basis === 'flat') return <>{c.priceText}</>;
  if (c.basis === 'voided') return <>The invoice was voided</>;
  if (c.basis === 'invoiced' && period.invoice)
    return (
      <Link href={`/portal/invoices/${period.invoice.id}`} className={textLink}>
        On invoice {period.invoice.number ?? 'draft'}
      </Link>
    );
  return <>{c.priceText ?? 'At your plan’s prices'}</>;
}

/** One metered feature: used against included and limit, the cost so far, and the daily chart. */
export function FeatureCard({ feature, period }: { feature: MeteredView; period: UsagePeriodView['period'] }) {
  const badge = TONE[feature.tone];
  const empty = feature.used === 0 && feature.series.points.every((p) => !p.value);
  const id = `usage-${feature.key.replace(/[^a-z0-9_-]/g, '-')}`;
  return (
    <Card title={feature.name} titleId={`${id}-title`} action={badge ? <StatusBadge status={badge} /> : undefined}>
      <div data-testid={`usage-${feature.key}`} className="space-y-5">
        <div className="flex flex-wrap items-end justify-between gap-x-8 gap-y-4">
          <div>
            <p className="text-3xl font-semibold tracking-tight text-slate-900 tabular-nums" data-testid="usage-used">
              {count(feature.used)}
              <span className="ml-1.5 text-base font-normal text-slate-500">{unitWord(feature.used, feature.unit)}</span>
            </p>
            <p className="mt-1 text-sm text-slate-600">
              {feature.limit !== null ? (
                <>
                  of {count(feature.limit)} limit
                  {feature.percent !== null && <span className="tabular-nums"> · {feature.percent} %</span>}
                </>
              ) : feature.included > 0 ? (
                <>of {count(feature.included)} included · no limit</>
              ) : (
                <>No limit</>
              )}
            </p>
          </div>
          <div className="text-left sm:text-right">
            <p className="text-xs font-medium uppercase tracking-wide text-slate-500">{COST_WORDS[feature.cost.basis]}</p>
            <p className="mt-0.5 text-2xl font-semibold tracking-tight text-slate-900" data-testid="usage-cost">
              {feature.cost.amount !== null ? (
                <Money amount={feature.cost.amount} currency={feature.cost.currency} />
              ) : feature.cost.basis === 'included' ? (
                <span className="text-lg text-slate-700">Included</span>
              ) : (
                <span className="text-slate-400">—</span>
              )}
            </p>
            <p className="mt-0.5 text-xs text-slate-600">
              <CostNote feature={feature} period={period} />
            </p>
          </div>
        </div>

        {/* With no limit and nothing included there is no bar, and the figure above says it all. */}
        {feature.bar && (
          <>
            <UsageBar feature={feature} />
            <p className="text-sm text-slate-600">{feature.summary}</p>
          </>
        )}

        <div className="border-t border-slate-100 pt-4">
          {empty ? (
            <div className="rounded-lg border border-dashed border-slate-300 px-4 py-6 text-center">
              <p className="text-sm font-medium text-slate-900">No {unitWord(2, feature.unit)} recorded {period.current ? 'yet this period' : 'in this period'}</p>
              <p className="mt-1 text-sm text-slate-600">
                {period.current ? 'Usage shows here within moments of being recorded, day by day.' : 'Nothing was used, so nothing was billed for it.'}
              </p>
            </div>
          ) : (
            <UsageChart feature={feature} titleId={`${id}-chart`} />
          )}
        </div>
      </div>
    </Card>
  );
}
