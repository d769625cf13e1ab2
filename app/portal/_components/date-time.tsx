'use client';

import { useEffect, useState } from 'react';
import { utcPeriodText, utcText } from '@/app/_lib/format';

type Style = 'date' | 'datetime' | 'short';

const OPTIONS: Record<Style, Intl.DateTimeFormatOptions> = {
  date: { dateStyle: 'medium' },
  short: { month: 'short', day: 'numeric' },
  datetime: { dateStyle: 'medium', timeStyle: 'short' },
};

function text(start: Date, end: Date | undefined, style: Style, locale?: string, timeZone?: string): string {
  const f = new Intl.DateTimeFormat(locale, { ...OPTIONS[style], ...(timeZone ? { timeZone } : {}) });
  return end ? f.formatRange(start, end) : f.format(start);
}

/**
 * A date, or a period ("Nov 26 – Dec 26, 2026"), in the viewer's locale and time zone,
 * with the UTC instant (or the half-open UTC period) in a tooltip. The server renders it
 * in UTC (en-US); the browser rewrites it in its own locale and zone once mounted, so
 * the first paint and hydration always agree.
 */
export function DateTime({ value, end, style = 'date', className }: { value: Date | string; end?: Date | string | null; style?: Style; className?: string }) {
  const start = new Date(value);
  const until = end ? new Date(end) : undefined;
  // An ended period's last instant is its end (half-open): "Nov 26 – Dec 26" as Stripe shows it.
  const [shown, setShown] = useState(() => text(start, until, style, 'en-US', 'UTC'));
  const startMs = start.getTime();
  const endMs = until?.getTime();
  useEffect(() => {
    setShown(text(new Date(startMs), endMs === undefined ? undefined : new Date(endMs), style));
  }, [startMs, endMs, style]);
  return (
    <time dateTime={start.toISOString()} title={until ? utcPeriodText(start, until) : utcText(start)} className={className}>
      {shown}
    </time>
  );
}
