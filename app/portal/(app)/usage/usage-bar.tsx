import type { MeteredView } from '@/server/portal/views/usage';
import { count } from './numbers';

const FILL: Record<MeteredView['tone'], string> = {
  ok: 'bg-indigo-600',
  over_included: 'bg-indigo-600',
  near_limit: 'bg-amber-500',
  limit_reached: 'bg-rose-600',
};

/**
 * Used against the limit (or the included units when there is no limit): the part within
 * the included units in the feature's colour, the part billed above them lighter, and a
 * tick where the included units end. A meter for assistive technology, with the words.
 */
export function UsageBar({ feature }: { feature: MeteredView }) {
  const bar = feature.bar;
  if (!bar) return null;
  const within = bar.includedAt === null ? bar.fill : Math.min(bar.fill, bar.includedAt);
  const above = bar.includedAt === null ? 0 : Math.max(0, bar.fill - bar.includedAt);
  const max = feature.limit ?? feature.included;
  return (
    <div>
      <div
        role="meter"
        aria-label={`${feature.name} used`}
        aria-valuemin={0}
        aria-valuemax={bar.scale}
        aria-valuenow={Math.min(feature.used, bar.scale)}
        aria-valuetext={feature.summary}
        className="relative h-3 w-full rounded-full bg-slate-100 ring-1 ring-inset ring-slate-200/70"
      >
        <span className={`absolute inset-y-0 left-0 rounded-l-full ${within >= 99.5 && above === 0 ? 'rounded-r-full' : ''} ${FILL[feature.tone]}`} style={{ width: `${within}%` }} />
        {above > 0 && (
          <span
            className={`absolute inset-y-0 ${bar.fill >= 99.5 ? 'rounded-r-full' : ''} ${feature.tone === 'ok' || feature.tone === 'over_included' ? 'bg-sky-400' : FILL[feature.tone]} bg-[repeating-linear-gradient(135deg,transparent_0_4px,rgba(255,255,255,0.35)_4px_7px)]`}
            style={{ left: `${bar.includedAt}%`, width: `${above}%` }}
          />
        )}
        {bar.includedAt !== null && <span aria-hidden="true" className="absolute -inset-y-1 w-0.5 rounded bg-slate-700" style={{ left: `calc(${bar.includedAt}% - 1px)` }} />}
      </div>
      <div className="mt-2 flex flex-wrap items-center gap-x-4 gap-y-1 text-xs text-slate-600" aria-hidden="true">
        {feature.included > 0 && (
          <span className="inline-flex items-center gap-1.5">
            <span className="h-2.5 w-2.5 rounded-sm bg-indigo-600" />
            Included: {count(feature.included)}
          </span>
        )}
        {feature.included > 0 && feature.cost.basis !== 'included' && (
          <span className="inline-flex items-center gap-1.5">
            <span className="h-2.5 w-2.5 rounded-sm bg-sky-400" />
            Billed by use above it
          </span>
        )}
        <span className="ml-auto tabular-nums">{feature.limit !== null ? `Limit ${count(feature.limit)}` : max > 0 ? 'No limit' : ''}</span>
      </div>
    </div>
  );
}
