import { describe, it, expect } from 'vitest';
import type { Interval } from '@/server/ledger/plan/types';
import { addInterval, nthPeriod, periodFor } from '@/server/ledger/subscription/period';

const utc = (iso: string) => new Date(iso);
const iso = (d: Date) => d.toISOString();

const monthly: Interval = { unit: 'month', count: 1 };
const quarterly: Interval = { unit: 'month', count: 3 };
const yearly: Interval = { unit: 'year', count: 1 };
const everyThreeDays: Interval = { unit: 'day', count: 3 };
const everyTwoWeeks: Interval = { unit: 'week', count: 2 };

/** The ends of periods 0, 1, 2 … n-1 as ISO strings. */
const endsOf = (anchor: Date, interval: Interval, n: number) =>
  Array.from({ length: n }, (_, i) => iso(nthPeriod(anchor, interval, i).end));

describe('monthly periods keep the anchor day, clamped to short months', () => {
  const anchor = utc('2025-01-31T10:00:00.000Z');

  it('anchored Jan 31 2025 10:00Z, periods end Feb 28, Mar 31, Apr 30, May 31 at 10:00Z', () => {
    expect(endsOf(anchor, monthly, 4)).toEqual([
      '2025-02-28T10:00:00.000Z',
      '2025-03-31T10:00:00.000Z',
      '2025-04-30T10:00:00.000Z',
      '2025-05-31T10:00:00.000Z',
    ]);
  });

  it('each period starts where the previous one ended: Feb 28 – Mar 31, then Mar 31 – Apr 30 (no drift to the 28th)', () => {
    const second = nthPeriod(anchor, monthly, 1);
    const third = nthPeriod(anchor, monthly, 2);
    expect(second).toEqual({ start: utc('2025-02-28T10:00:00.000Z'), end: utc('2025-03-31T10:00:00.000Z') });
    expect(third.start).toEqual(second.end);
    expect(iso(third.end)).toBe('2025-04-30T10:00:00.000Z');
  });

  it('period 0 starts at the anchor itself', () => {
    expect(nthPeriod(anchor, monthly, 0)).toEqual({ start: anchor, end: utc('2025-02-28T10:00:00.000Z') });
    expect(addInterval(anchor, monthly, 0)).toEqual(anchor);
  });

  it('in a leap year, anchored Jan 31 2024, the first period ends Feb 29', () => {
    expect(endsOf(utc('2024-01-31T10:00:00.000Z'), monthly, 2)).toEqual([
      '2024-02-29T10:00:00.000Z',
      '2024-03-31T10:00:00.000Z',
    ]);
  });

  it('crosses the year end: anchored Dec 31 2024, periods end Jan 31 and Feb 28 2025', () => {
    expect(endsOf(utc('2024-12-31T00:00:00.000Z'), monthly, 2)).toEqual([
      '2025-01-31T00:00:00.000Z',
      '2025-02-28T00:00:00.000Z',
    ]);
  });

  it('keeps the time to the millisecond: anchored 2025-01-15T23:59:59.999Z ends 2025-02-15T23:59:59.999Z', () => {
    expect(iso(addInterval(utc('2025-01-15T23:59:59.999Z'), monthly, 1))).toBe('2025-02-15T23:59:59.999Z');
  });

  it('quarterly anchored Nov 30 2024 bills Feb 28, May 30, Aug 30 2025', () => {
    expect(endsOf(utc('2024-11-30T00:00:00.000Z'), quarterly, 3)).toEqual([
      '2025-02-28T00:00:00.000Z',
      '2025-05-30T00:00:00.000Z',
      '2025-08-30T00:00:00.000Z',
    ]);
  });
});

describe('yearly periods', () => {
  const leapDay = utc('2024-02-29T00:00:00.000Z');

  it('anchored Feb 29 2024, renews Feb 28 2025, 2026, 2027 and Feb 29 2028', () => {
    expect(endsOf(leapDay, yearly, 4)).toEqual([
      '2025-02-28T00:00:00.000Z',
      '2026-02-28T00:00:00.000Z',
      '2027-02-28T00:00:00.000Z',
      '2028-02-29T00:00:00.000Z',
    ]);
  });

  it('addInterval(Feb 29 2024, yearly, 1) is Feb 28 2025; n = 4 is Feb 29 2028', () => {
    expect(iso(addInterval(leapDay, yearly, 1))).toBe('2025-02-28T00:00:00.000Z');
    expect(iso(addInterval(leapDay, yearly, 4))).toBe('2028-02-29T00:00:00.000Z');
  });
});

describe('daily and weekly periods are fixed lengths in UTC', () => {
  it('every 3 days anchored Mar 8 2025 12:00Z: Mar 11, 14, 17 at 12:00Z (a US DST change on Mar 9 does not matter)', () => {
    expect(endsOf(utc('2025-03-08T12:00:00.000Z'), everyThreeDays, 3)).toEqual([
      '2025-03-11T12:00:00.000Z',
      '2025-03-14T12:00:00.000Z',
      '2025-03-17T12:00:00.000Z',
    ]);
  });

  it('every 2 weeks anchored Mon Jan 6 2025: Jan 20, Feb 3, Feb 17', () => {
    expect(endsOf(utc('2025-01-06T00:00:00.000Z'), everyTwoWeeks, 3)).toEqual([
      '2025-01-20T00:00:00.000Z',
      '2025-02-03T00:00:00.000Z',
      '2025-02-17T00:00:00.000Z',
    ]);
  });
});

describe('periodFor finds the period containing an instant: start ≤ at < end', () => {
  const anchor = utc('2025-01-31T10:00:00.000Z');

  it('Mar 15 2025 falls in the period Feb 28 – Mar 31', () => {
    const at = utc('2025-03-15T00:00:00.000Z');
    const p = periodFor(anchor, monthly, at);
    expect(p).toEqual({ start: utc('2025-02-28T10:00:00.000Z'), end: utc('2025-03-31T10:00:00.000Z') });
    expect(p.start <= at && at < p.end).toBe(true);
  });

  it('the anchor instant itself is in period 0', () => {
    expect(periodFor(anchor, monthly, anchor)).toEqual(nthPeriod(anchor, monthly, 0));
  });

  it('periods are half-open: exactly at Feb 28 10:00Z is the NEXT period; 1 ms earlier is the first', () => {
    const boundary = utc('2025-02-28T10:00:00.000Z');
    expect(periodFor(anchor, monthly, boundary)).toEqual(nthPeriod(anchor, monthly, 1));
    expect(periodFor(anchor, monthly, new Date(boundary.getTime() - 1))).toEqual(nthPeriod(anchor, monthly, 0));
  });

  it('an instant before the anchor is an error', () => {
    expect(() => periodFor(anchor, monthly, utc('2025-01-31T09:59:59.999Z'))).toThrow(RangeError);
  });

  const cases: [string, Date, Interval, number][] = [
    ['monthly from Jan 31 2025, 10 years', anchor, monthly, 120],
    ['quarterly from Nov 30 2024, 10 years', utc('2024-11-30T00:00:00.000Z'), quarterly, 40],
    ['yearly from Feb 29 2024, 10 years', utc('2024-02-29T00:00:00.000Z'), yearly, 10],
    ['every 3 days from Mar 8 2025, 10 years', utc('2025-03-08T12:00:00.000Z'), everyThreeDays, 1218],
    ['every 2 weeks from Jan 6 2025, 10 years', utc('2025-01-06T00:00:00.000Z'), everyTwoWeeks, 261],
  ];

  it.each(cases)(
    '%s: agrees with nthPeriod at every period start, middle and last millisecond',
    (_label, start, interval, count) => {
      for (let n = 0; n < count; n++) {
        const expected = nthPeriod(start, interval, n);
        const s = expected.start.getTime();
        const e = expected.end.getTime();
        for (const t of [s, Math.floor((s + e) / 2), e - 1]) {
          expect(periodFor(start, interval, new Date(t))).toEqual(expected);
        }
      }
    },
  );

  it('10 years on, May 31 2035 10:00Z starts period 124 (May 31 – Jun 30 2035)', () => {
    const p = periodFor(anchor, monthly, utc('2035-05-31T10:00:00.000Z'));
    expect(p).toEqual(nthPeriod(anchor, monthly, 124));
    expect(p).toEqual({ start: utc('2035-05-31T10:00:00.000Z'), end: utc('2035-06-30T10:00:00.000Z') });
  });
});
