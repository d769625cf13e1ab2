import { describe, expect, it } from 'vitest';
import { usagePeriodAt } from '../../server/ledger/entitlement/period';
import { calendarPeriodFor, calendarShare, canonicalTimeZone, localMidnight, periodFrom, timeZoneSchema } from '../../server/ledger/subscription/calendar';
import { creditsAfterCoupon, periodFees } from '../../server/ledger/subscription/fees';
import type { Plan } from '../../server/ledger/plan/types';
import type { InvoiceLine } from '../../server/ledger/invoice/types';
import { currency, type PlanId } from '../../server/ledger/types';

/**
 * Calendar billing as pure rules: calendar periods in a time zone, DST without overlap
 * or gap, the first period's share in local days, and credits under a percent-off coupon.
 */
const at = (iso: string) => new Date(iso);
const iso = (p: { start: Date; end: Date }) => [p.start.toISOString(), p.end.toISOString()];
const month = { unit: 'month' as const, count: 1 };

describe('calendar periods', () => {
  it('UTC months start on the 1st at 00:00Z; weeks on Monday; days at midnight; years on January 1', () => {
    expect(iso(calendarPeriodFor(at('2025-08-10T15:30:00Z'), month, null))).toEqual(['2025-08-01T00:00:00.000Z', '2025-09-01T00:00:00.000Z']);
    expect(iso(calendarPeriodFor(at('2025-03-12T09:00:00Z'), { unit: 'week', count: 1 }, null))).toEqual(['2025-03-10T00:00:00.000Z', '2025-03-17T00:00:00.000Z']);
    expect(iso(calendarPeriodFor(at('2025-03-16T23:59:59Z'), { unit: 'week', count: 1 }, null))).toEqual(['2025-03-10T00:00:00.000Z', '2025-03-17T00:00:00.000Z']);
    expect(iso(calendarPeriodFor(at('2025-03-12T09:00:00Z'), { unit: 'day', count: 1 }, null))).toEqual(['2025-03-12T00:00:00.000Z', '2025-03-13T00:00:00.000Z']);
    expect(iso(calendarPeriodFor(at('2024-02-29T12:00:00Z'), { unit: 'year', count: 1 }, null))).toEqual(['2024-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z']);
  });

  it('several units align to the calendar: quarters on Jan 1, Apr 1, Jul 1, Oct 1', () => {
    expect(iso(calendarPeriodFor(at('2025-05-12T00:00:00Z'), { unit: 'month', count: 3 }, null))).toEqual(['2025-04-01T00:00:00.000Z', '2025-07-01T00:00:00.000Z']);
    expect(iso(calendarPeriodFor(at('2025-12-31T23:59:59Z'), { unit: 'month', count: 3 }, null))).toEqual(['2025-10-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z']);
  });

  it('New York: March from 05:00Z (EST) to April 1 04:00Z (EDT), November to December 1 05:00Z; consecutive months share their boundary', () => {
    const tz = 'America/New_York';
    expect(iso(calendarPeriodFor(at('2025-03-09T06:59:59Z'), month, tz))).toEqual(['2025-03-01T05:00:00.000Z', '2025-04-01T04:00:00.000Z']);
    expect(iso(calendarPeriodFor(at('2025-11-15T00:00:00Z'), month, tz))).toEqual(['2025-11-01T04:00:00.000Z', '2025-12-01T05:00:00.000Z']);
    // The day of the spring change has 23 hours, the autumn one 25.
    expect(iso(calendarPeriodFor(at('2025-03-09T12:00:00Z'), { unit: 'day', count: 1 }, tz))).toEqual(['2025-03-09T05:00:00.000Z', '2025-03-10T04:00:00.000Z']);
    expect(iso(calendarPeriodFor(at('2025-11-02T12:00:00Z'), { unit: 'day', count: 1 }, tz))).toEqual(['2025-11-02T04:00:00.000Z', '2025-11-03T05:00:00.000Z']);
    // A year of months: each ends where the next starts.
    let p = calendarPeriodFor(at('2025-01-15T00:00:00Z'), month, tz);
    for (let i = 0; i < 12; i++) {
      const next = calendarPeriodFor(p.end, month, tz);
      expect(next.start).toEqual(p.end);
      expect(calendarPeriodFor(new Date(p.end.getTime() - 1000), month, tz).end).toEqual(p.end);
      p = next;
    }
  });

  it('where DST skips midnight (Santiago, September 7, 2025: 00:00 → 01:00) the day starts at 01:00 local; where midnight comes twice, at the first', () => {
    expect(localMidnight(Date.UTC(2025, 8, 7) / 86_400_000, 'America/Santiago')).toEqual(at('2025-09-07T04:00:00Z'));
    expect(iso(calendarPeriodFor(at('2025-09-07T12:00:00Z'), { unit: 'day', count: 1 }, 'America/Santiago'))).toEqual(['2025-09-07T04:00:00.000Z', '2025-09-08T03:00:00.000Z']);
    // April 6, 2025: 00:00 (−03) falls back to 23:00 on the 5th; the 6th begins at 00:00 −04.
    expect(localMidnight(Date.UTC(2025, 3, 6) / 86_400_000, 'America/Santiago')).toEqual(at('2025-04-06T04:00:00Z'));
  });

  it('Tokyo (no DST): the year starts at 15:00Z on December 31', () => {
    expect(iso(calendarPeriodFor(at('2025-05-12T00:00:00Z'), { unit: 'year', count: 1 }, 'Asia/Tokyo'))).toEqual(['2024-12-31T15:00:00.000Z', '2025-12-31T15:00:00.000Z']);
  });

  it('periodFrom: anniversary is a whole interval from the instant; calendar runs to the next boundary', () => {
    const anniversary = periodFrom(at('2025-08-10T15:30:00Z'), month, 'anniversary', 'America/New_York');
    expect(iso(anniversary.period)).toEqual(['2025-08-10T15:30:00.000Z', '2025-09-10T15:30:00.000Z']);
    expect(anniversary.full).toEqual(anniversary.period);
    const calendar = periodFrom(at('2025-08-10T15:30:00Z'), month, 'calendar', null);
    expect(iso(calendar.period)).toEqual(['2025-08-10T15:30:00.000Z', '2025-09-01T00:00:00.000Z']);
    expect(iso(calendar.full)).toEqual(['2025-08-01T00:00:00.000Z', '2025-09-01T00:00:00.000Z']);
  });

  it("the first period's share counts local days, the start day included: Aug 10 → 22 of 31; in New York Aug 10 01:00Z is still Aug 9 → 23 of 31", () => {
    const full = calendarPeriodFor(at('2025-08-10T00:00:00Z'), month, null);
    expect(calendarShare(at('2025-08-10T23:59:59Z'), full, null)).toEqual({ part: 22, whole: 31 });
    const ny = calendarPeriodFor(at('2025-08-10T01:00:00Z'), month, 'America/New_York');
    expect(calendarShare(at('2025-08-10T01:00:00Z'), ny, 'America/New_York')).toEqual({ part: 23, whole: 31 });
  });
});

describe('time zones', () => {
  it('IANA names checked with Intl, in the runtime spelling', () => {
    expect(canonicalTimeZone('America/New_York')).toBe('America/New_York');
    expect(canonicalTimeZone('europe/paris')).toBe('Europe/Paris');
    expect(canonicalTimeZone('UTC')).toBe('UTC');
    expect(canonicalTimeZone('Mars/Olympus_Mons')).toBeNull();
    expect(canonicalTimeZone('')).toBeNull();
    expect(timeZoneSchema.safeParse('Nowhere').success).toBe(false);
    expect(timeZoneSchema.parse('asia/tokyo')).toBe('Asia/Tokyo');
  });
});

describe('fees of a period entered', () => {
  const plan = {
    id: 'pln_x' as PlanId,
    name: 'Lago',
    currency: currency('USD'),
    basePrice: 5000,
    features: [{ id: 'fea_1', key: 'seats', name: 'Seats', kind: 'licensed', includedUnits: 0, limit: null, price: { model: 'per_unit', unitPrice: '3' } }],
  } as unknown as Plan;

  it("Lago's example: 50.00 and 3 seats at 3.00 from August 10: 35.48 and 6.39 (22/31), each line rounded half away from zero", () => {
    const fees = periodFees(plan, 3, {}, periodFrom(at('2025-08-10T12:00:00Z'), month, 'calendar', null), null);
    expect(fees.advance).toBeNull();
    expect(fees.prorations.map((l) => [l.kind, l.amount, l.description])).toEqual([
      ['base_fee', 3548, 'Lago plan (22 of 31 days)'],
      ['license', 639, 'Seats × 3 (22 of 31 days)'],
    ]);
  });

  it('a whole period (from a boundary) is billed by `advance`, in full', () => {
    const fees = periodFees(plan, 1, {}, periodFrom(at('2025-09-01T00:00:00Z'), month, 'calendar', null), null);
    expect(fees).toEqual({ advance: { planId: 'pln_x', quantity: 1, overrides: {}, start: at('2025-09-01T00:00:00Z'), end: at('2025-10-01T00:00:00Z') }, prorations: [] });
  });
});

describe('credits under a percent-off coupon', () => {
  const line = (amount: number): InvoiceLine =>
    ({ id: 'proration:0', kind: 'proration', description: 'Unused time on Basic plan', featureKey: null, quantity: '1', unitPrice: null, amount, discount: 0, tax: 0, periodStart: at('2025-04-16T00:00:00Z'), periodEnd: at('2025-05-01T00:00:00Z') }) as InvoiceLine;

  it('a credit gives back what was paid: −5.00 at 20 % off is −4.00; 12.5 % off −3.33 is −2.91 (the discount 0.42 rounded as a charge\'s)', () => {
    expect(creditsAfterCoupon([line(-500), line(1000)], '20', currency('USD')).map((l) => l.amount)).toEqual([-400, 1000]);
    expect(creditsAfterCoupon([line(-333)], '12.5', currency('USD'))[0]!.amount).toBe(-291);
  });
});

describe('usage periods of calendar subscriptions (entitlements)', () => {
  it('the first one is cut at the start; then calendar months', () => {
    const sub = { trialStart: null, trialEnd: null, billingAnchor: at('2025-08-10T15:30:00Z'), billingCycle: 'calendar' as const, timeZone: null };
    expect(usagePeriodAt(sub, month, at('2025-08-09T00:00:00Z'))).toBeNull();
    expect(iso(usagePeriodAt(sub, month, at('2025-08-20T00:00:00Z'))!)).toEqual(['2025-08-10T15:30:00.000Z', '2025-09-01T00:00:00.000Z']);
    expect(iso(usagePeriodAt(sub, month, at('2025-09-01T00:00:00Z'))!)).toEqual(['2025-09-01T00:00:00.000Z', '2025-10-01T00:00:00.000Z']);
  });
});

describe('a daily calendar plan', () => {
  it('its first, partial day is billed in full (one of one day), by `advance`', () => {
    const plan = { id: 'pln_d' as PlanId, name: 'Daily', currency: currency('USD'), basePrice: 100, features: [] } as unknown as Plan;
    const fees = periodFees(plan, 1, {}, periodFrom(at('2025-08-10T15:00:00Z'), { unit: 'day', count: 1 }, 'calendar', null), null);
    expect(fees).toEqual({ advance: { planId: 'pln_d', quantity: 1, overrides: {}, start: at('2025-08-10T15:00:00Z'), end: at('2025-08-11T00:00:00Z') }, prorations: [] });
  });
});
