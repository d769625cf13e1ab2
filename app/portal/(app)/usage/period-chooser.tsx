import Link from 'next/link';
import type { UsagePeriodOption } from '@/server/trpc/routers/portal-usage';
import { DateTime } from '../../_components/date-time';

/** The most recent periods shown as chips; older ones fold into "Earlier periods". */
const SHOWN = 4;

const href = (p: UsagePeriodOption) => (p.current ? '/portal/usage' : `/portal/usage?period=${encodeURIComponent(p.key)}`);

function Chip({ p, selected }: { p: UsagePeriodOption; selected: boolean }) {
  return (
    <Link
      href={href(p)}
      aria-current={selected ? 'page' : undefined}
      className={`inline-flex items-center gap-2 whitespace-nowrap rounded-full px-3.5 py-1.5 text-sm font-medium ring-1 ring-inset transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 ${
        selected ? 'bg-indigo-600 text-white ring-indigo-600' : 'bg-white text-slate-700 ring-slate-300 hover:bg-slate-50'
      }`}
    >
      {p.current && <span className={`size-1.5 rounded-full ${selected ? 'bg-white' : 'bg-emerald-500'}`} aria-hidden="true" />}
      <DateTime value={p.start} end={p.end} />
      {p.current && <span className={selected ? 'text-indigo-100' : 'text-slate-500'}>· current</span>}
    </Link>
  );
}

/**
 * The periods to look at, as links (`?period=<start>`): they work without JavaScript and
 * can be shared. The current period is the page's plain URL.
 */
export function PeriodChooser({ periods, selected }: { periods: UsagePeriodOption[]; selected: string }) {
  if (periods.length <= 1) return null;
  const shown = periods.slice(0, SHOWN);
  const rest = periods.slice(SHOWN);
  const restSelected = rest.some((p) => p.key === selected);
  return (
    <nav aria-label="Billing periods" className="flex flex-wrap items-center gap-2">
      <ul className="flex flex-wrap gap-2">
        {shown.map((p) => (
          <li key={p.key}>
            <Chip p={p} selected={p.key === selected} />
          </li>
        ))}
      </ul>
      {rest.length > 0 && (
        <details className="relative" open={restSelected || undefined}>
          <summary className="cursor-pointer list-none rounded-full px-3 py-1.5 text-sm font-medium text-indigo-700 ring-1 ring-inset ring-slate-300 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600">
            Earlier periods ({rest.length})
          </summary>
          <ul className="mt-2 flex flex-wrap gap-2">
            {rest.map((p) => (
              <li key={p.key}>
                <Chip p={p} selected={p.key === selected} />
              </li>
            ))}
          </ul>
        </details>
      )}
    </nav>
  );
}
