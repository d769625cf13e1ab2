import { z } from 'zod';
import type { Interval } from '../plan/types';
import { invalid } from '../types';
import { addInterval, type BillingPeriod } from './period';

/**
 * Calendar billing and time zones, pure.
 *
 * Anniversary billing (the default) counts periods from the instant the subscription
 * started (period.ts). Calendar billing aligns them to the calendar of the customer's
 * time zone (UTC when it has none): a month starts on the 1st at 00:00, a week on
 * Monday, a year on January 1, a day at midnight; intervals of several units are aligned
 * from the calendar's origin, so a 3-month plan renews on Jan 1, Apr 1, Jul 1 and Oct 1.
 * The first period runs from the start to the next calendar boundary and its in-advance
 * fees are prorated by days (calendarShare).
 *
 * Every boundary is the first instant of a local date (localMidnight), a function of that
 * date alone: the end of one period and the start of the next are the same instant, so
 * however the offsets move (DST), half-open periods [start, end) never overlap and never
 * leave a gap. A New York customer's October runs from 04:00Z on Oct 1 (EDT) to 04:00Z on
 * Nov 1, and its November from there to 05:00Z on Dec 1 (EST).
 */

export const BILLING_CYCLES = ['anniversary', 'calendar'] as const;
export type BillingCycleKind = (typeof BILLING_CYCLES)[number];

const DAY_MS = 86_400_000;
/** 1970-01-05 was a Monday: the day number weeks are counted from. */
const FIRST_MONDAY = 4;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * The IANA name as the runtime spells it ("america/new_york" → "America/New_York"), or
 * null when the runtime knows no such zone.
 */
export function canonicalTimeZone(name: string): string | null {
  if (name.length === 0 || name.length > 64) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** An IANA time zone ("America/New_York", "Europe/Paris", "UTC"), checked with Intl and canonicalised. */
export const timeZoneSchema = z.string().transform((name, ctx) => {
  const tz = canonicalTimeZone(name);
  if (!tz) {
    ctx.addIssue({ code: 'custom', message: `unknown time zone "${name.slice(0, 64)}": expected an IANA name such as "America/New_York"` });
    return z.NEVER;
  }
  return tz;
});

/** The local calendar date of an instant, as a day number (days since 1970-01-01). */
export function localDay(at: Date, timeZone: string | null): number {
  const ms = at.getTime();
  if (!Number.isFinite(ms)) throw invalid('a billing instant is not a valid date');
  return Math.floor((ms + offsetMs(ms, timeZone)) / DAY_MS);
}

/** How far the zone's wall clock is ahead of UTC at `ms` (whole seconds). */
function offsetMs(ms: number, timeZone: string | null): number {
  if (timeZone === null || timeZone === 'UTC') return 0;
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return wall - Math.floor(ms / 1000) * 1000;
}

/**
 * The first instant of local day `day` in the zone. Midnight normally; where a DST change
 * skips midnight (clocks jump from 23:59:59 to 01:00) the day starts at the jump, and
 * where midnight happens twice, at the first. Both offsets around the day are tried and
 * the earliest instant that already reads `day` is the answer.
 */
export function localMidnight(day: number, timeZone: string | null): Date {
  const wall = day * DAY_MS;
  if (timeZone === null || timeZone === 'UTC') return new Date(wall);
  const candidates = [offsetMs(wall - DAY_MS, timeZone), offsetMs(wall + DAY_MS, timeZone), offsetMs(wall, timeZone)]
    .map((o) => wall - o)
    .filter((t) => localDay(new Date(t), timeZone) >= day);
  return new Date(Math.min(...candidates));
}

const mod = (a: number, n: number) => ((a % n) + n) % n;

function monthIndexOfDay(day: number): number {
  const d = new Date(day * DAY_MS);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}
const dayOfMonthIndex = (index: number) => Math.floor(Date.UTC(Math.floor(index / 12), mod(index, 12), 1) / DAY_MS);

/** The local days [start, end) of the calendar period of `interval` that holds local day `day`. */
export function calendarDays(day: number, interval: Interval): { start: number; end: number } {
  const c = interval.count;
  switch (interval.unit) {
    case 'day': {
      const start = day - mod(day, c);
      return { start, end: start + c };
    }
    case 'week': {
      const week = Math.floor((day - FIRST_MONDAY) / 7);
      const start = FIRST_MONDAY + 7 * (week - mod(week, c));
      return { start, end: start + 7 * c };
    }
    case 'month':
    case 'year': {
      const months = interval.unit === 'year' ? 12 * c : c;
      const index = monthIndexOfDay(day);
      const first = index - mod(index, months);
      return { start: dayOfMonthIndex(first), end: dayOfMonthIndex(first + months) };
    }
  }
}

/** The calendar period (in the zone; UTC for null) that contains `at`: start ≤ at < end. */
export function calendarPeriodFor(at: Date, interval: Interval, timeZone: string | null): BillingPeriod {
  const days = calendarDays(localDay(at, timeZone), interval);
  return { start: localMidnight(days.start, timeZone), end: localMidnight(days.end, timeZone) };
}

/**
 * The share of a calendar period's fees that a period starting at `start` (inside it)
 * owes, in local days, the start day included (Lago's rule): 50.00 a month from Aug 10
 * owes 22 of August's 31 days, whatever the hour. `part === whole` for a full period.
 */
export function calendarShare(start: Date, full: BillingPeriod, timeZone: string | null): { part: number; whole: number } {
  const end = localDay(full.end, timeZone);
  return { part: end - localDay(start, timeZone), whole: end - localDay(full.start, timeZone) };
}

/**
 * The period a subscription enters at `start` (its creation, a trial's end, a change of
 * interval) and the full period its fees are priced for. Anniversary: a whole interval
 * from `start`, priced in full. Calendar: from `start` to the next calendar boundary,
 * inside the calendar period `full` (prorated by calendarShare unless it is all of it).
 */
export function periodFrom(start: Date, interval: Interval, cycle: BillingCycleKind, timeZone: string | null): { period: BillingPeriod; full: BillingPeriod } {
  if (cycle === 'anniversary') {
    const period = { start, end: addInterval(start, interval, 1) };
    return { period, full: period };
  }
  const full = calendarPeriodFor(start, interval, timeZone);
  return { period: { start, end: full.end }, full };
}
