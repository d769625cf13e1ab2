'use client';

import { useEffect, useState } from 'react';
import { utcPeriodText } from '@/app/_lib/format';
import type { SeriesGranularity } from '@/server/ledger';

const OPTIONS: Record<SeriesGranularity, Intl.DateTimeFormatOptions> = {
  day: { month: 'short', day: 'numeric' },
  week: { month: 'short', day: 'numeric' },
  month: { month: 'short', year: 'numeric' },
};

function text(start: Date, g: SeriesGranularity, locale?: string): string {
  // Buckets are UTC calendar days (weeks, months): shown as that day in the viewer's
  // language, never shifted into their time zone (a UTC day is not a local day).
  const f = new Intl.DateTimeFormat(locale, { ...OPTIONS[g], timeZone: 'UTC' });
  return g === 'week' ? `${f.format(start)} wk` : f.format(start);
}

/** A chart bucket's label ("Jan 16"), in the viewer's locale, with the UTC range it covers in a tooltip. */
export function BucketDate({ start, from, to, granularity }: { start: Date | string; from: Date | string; to: Date | string; granularity: SeriesGranularity }) {
  const s = new Date(start);
  const [shown, setShown] = useState(() => text(s, granularity, 'en-US'));
  const ms = s.getTime();
  useEffect(() => setShown(text(new Date(ms), granularity)), [ms, granularity]);
  return (
    <time dateTime={s.toISOString().slice(0, 10)} title={utcPeriodText(new Date(from), new Date(to))}>
      {shown}
    </time>
  );
}
