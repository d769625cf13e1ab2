import type { MeteredView } from '@/server/portal/views/usage';
import { BucketDate } from './bucket-date';
import { count, niceCeiling, unitWord, units, utcBucketText } from './numbers';

const PER = { day: 'per day', week: 'per week', month: 'per month' } as const;

/**
 * A feature's usage per UTC day (week, month) over the period, as hand-written SVG bars:
 * one bar per bucket, the days still to come as faint placeholders. For screen readers
 * the SVG is one image with a summary, and the figures are in a table under it.
 */
export function UsageChart({ feature, titleId }: { feature: MeteredView; titleId: string }) {
  const { points, granularity } = feature.series;
  const top = niceCeiling(feature.series.max);
  const n = points.length;
  const slot = 10;
  const H = 100;
  const counted = points.filter((p) => p.value !== null);
  const peak = counted.reduce<(typeof points)[number] | null>((m, p) => (m === null || (p.value ?? 0) > (m.value ?? 0) ? p : m), null);
  const first = points[0];
  const last = points.at(-1);
  const label =
    `${feature.name} ${PER[granularity]} (UTC), ${first ? utcBucketText(first.start, granularity) : ''} to ${last ? utcBucketText(last.start, granularity) : ''}: ` +
    (peak && (peak.value ?? 0) > 0 ? `the most ${units(peak.value ?? 0, feature.unit)} on ${utcBucketText(peak.start, granularity)}.` : 'no usage yet.');
  const column = unitWord(2, feature.unit);

  return (
    <figure aria-labelledby={titleId}>
      <div className="flex items-baseline justify-between gap-2">
        <figcaption id={titleId} className="text-xs font-medium uppercase tracking-wide text-slate-500">
          {feature.aggregation.replace('per day', PER[granularity])}
        </figcaption>
        <span className="text-xs tabular-nums text-slate-500" aria-hidden="true">
          {count(top)}
        </span>
      </div>
      <div className="relative mt-1.5">
        <svg viewBox={`0 0 ${n * slot} ${H}`} preserveAspectRatio="none" role="img" aria-label={label} className="block h-28 w-full overflow-visible sm:h-32">
          {/* Gridlines at the top, half-way and the baseline. */}
          {[0, H / 2].map((y) => (
            <line key={y} x1={0} x2={n * slot} y1={y} y2={y} className="stroke-slate-200" strokeWidth={1} strokeDasharray="3 3" vectorEffect="non-scaling-stroke" />
          ))}
          <line x1={0} x2={n * slot} y1={H} y2={H} className="stroke-slate-300" strokeWidth={1} vectorEffect="non-scaling-stroke" />
          {points.map((p, i) => {
            const x = i * slot + 1.5;
            const w = slot - 3;
            if (p.value === null) return <rect key={i} x={x} y={H - 3} width={w} height={3} rx={1} className="fill-slate-200/60" />;
            const h = p.value > 0 ? Math.max(2.5, (p.value / top) * H) : 1.5;
            return (
              <rect key={i} x={x} y={H - h} width={w} height={h} rx={1.5} className={p.value > 0 ? 'fill-indigo-500 hover:fill-indigo-700' : 'fill-slate-200'}>
                <title>{`${utcBucketText(p.start, granularity)} (UTC): ${units(p.value, feature.unit)}`}</title>
              </rect>
            );
          })}
        </svg>
      </div>
      <div className="mt-1.5 flex justify-between text-xs text-slate-500">
        {first && <BucketDate start={first.start} from={first.from} to={first.to} granularity={granularity} />}
        {last && n > 1 && <BucketDate start={last.start} from={last.from} to={last.to} granularity={granularity} />}
      </div>
      <details className="mt-3 text-sm">
        <summary className="cursor-pointer rounded text-slate-600 hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600">
          Show the figures
        </summary>
        <div className="mt-2 max-h-72 overflow-y-auto rounded-lg ring-1 ring-slate-200">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">
              {feature.name} {PER[granularity]}, UTC
            </caption>
            <thead className="sticky top-0 bg-slate-50 text-xs text-slate-500">
              <tr>
                <th scope="col" className="px-3 py-2 font-medium">
                  {granularity === 'day' ? 'Day' : granularity === 'week' ? 'Week' : 'Month'} (UTC)
                </th>
                <th scope="col" className="px-3 py-2 text-right font-medium">
                  {column[0]!.toUpperCase() + column.slice(1)}
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {counted.map((p) => (
                <tr key={p.start.toISOString()}>
                  <td className="px-3 py-1.5 text-slate-700">
                    <BucketDate start={p.start} from={p.from} to={p.to} granularity={granularity} />
                  </td>
                  <td className="px-3 py-1.5 text-right tabular-nums text-slate-900">{count(p.value ?? 0)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
