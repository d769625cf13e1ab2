import { describe, it, expect } from 'vitest';
import { ledgerErrorOf } from '../support/errors';
import fc from 'fast-check';
import { currency, money, multiply } from '@/server/ledger/types/money';
import { nthPeriod } from '@/server/ledger/subscription/period';
import {
  prorate,
  prorationFactor,
  prorationLines,
  prorationSeconds,
} from '@/server/ledger/subscription/proration';

const USD = currency('USD');
const JPY = currency('JPY');
const utc = (iso: string) => new Date(iso);
const usd = (cents: number) => money(cents, USD);
const period = (start: string, end: string) => ({ start: utc(start), end: utc(end) });

const feb2024 = period('2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z'); // 29 days, leap year
const feb2025 = period('2025-02-01T00:00:00Z', '2025-03-01T00:00:00Z'); // 28 days
const apr2025 = period('2025-04-01T00:00:00Z', '2025-05-01T00:00:00Z'); // 30 days
const jan2025 = period('2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z'); // 31 days


describe('the proration factor is the share of the period still to come, in seconds', () => {
  it('periods of 28, 29, 30 and 31 days have that many days of seconds', () => {
    expect(prorationSeconds(feb2025, feb2025.start).periodSeconds).toBe(28 * 86_400);
    expect(prorationSeconds(feb2024, feb2024.start).periodSeconds).toBe(29 * 86_400);
    expect(prorationSeconds(apr2025, apr2025.start).periodSeconds).toBe(30 * 86_400);
    expect(prorationSeconds(jan2025, jan2025.start).periodSeconds).toBe(31 * 86_400);
  });

  it('is 1 exactly at the start and 0 exactly at the end', () => {
    expect(prorationFactor(apr2025, apr2025.start).toString()).toBe('1');
    expect(prorationFactor(apr2025, apr2025.end).toString()).toBe('0');
  });

  it('is clamped: 1 before the start, 0 after the end', () => {
    expect(prorationFactor(apr2025, utc('2025-03-15T00:00:00Z')).toString()).toBe('1');
    expect(prorationFactor(apr2025, utc('2025-06-01T00:00:00Z')).toString()).toBe('0');
  });

  it('on Feb 15: 15 of 29 days left in February 2024, 14 of 28 (exactly half) in February 2025', () => {
    expect(prorationSeconds(feb2024, utc('2024-02-15T00:00:00Z')).remainingSeconds).toBe(15 * 86_400);
    expect(prorationFactor(feb2025, utc('2025-02-15T00:00:00Z')).toString()).toBe('0.5');
  });

  it('Apr 11 leaves 20 of 30 days: 2/3, to 40 significant digits', () => {
    expect(prorationFactor(apr2025, utc('2025-04-11T00:00:00Z')).toString()).toBe(`0.${'6'.repeat(39)}7`);
  });

  it('milliseconds are floored away: 2.999 s into a 10-second period leaves 8 s (0.8)', () => {
    const tenSeconds = period('2025-01-01T00:00:00.900Z', '2025-01-01T00:00:10.000Z');
    expect(prorationSeconds(tenSeconds, utc('2025-01-01T00:00:02.999Z'))).toEqual({
      periodSeconds: 10,
      remainingSeconds: 8,
    });
    expect(prorationFactor(tenSeconds, utc('2025-01-01T00:00:02.999Z')).toString()).toBe('0.8');
  });

  it('a period that does not end after it starts, or an invalid date, is invalid', () => {
    expect(ledgerErrorOf(() => prorationFactor(period('2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z'), utc('2025-01-01T00:00:00Z'))).code).toBe('invalid');
    expect(ledgerErrorOf(() => prorationFactor(period('2025-02-01T00:00:00Z', '2025-01-01T00:00:00Z'), utc('2025-01-15T00:00:00Z'))).code).toBe('invalid');
    // Within the same second: both bounds floor to the same whole second.
    expect(ledgerErrorOf(() => prorationFactor(period('2025-01-01T00:00:00.100Z', '2025-01-01T00:00:00.900Z'), utc('2025-01-01T00:00:00Z'))).code).toBe('invalid');
    expect(ledgerErrorOf(() => prorationFactor(apr2025, new Date(Number.NaN))).message).toBe('proration instant is not a valid date');
  });
});

describe('prorate: the fee × factor, rounded once, half away from zero', () => {
  it('$29.00 on Feb 15 2024 (15 of 29 days left) is exactly $15.00; on Feb 15 2025 (14 of 28) $14.50', () => {
    expect(prorate(usd(2900), feb2024, utc('2024-02-15T00:00:00Z'))).toEqual(usd(1500));
    expect(prorate(usd(2900), feb2025, utc('2025-02-15T00:00:00Z'))).toEqual(usd(1450));
  });

  it('$10.00 on Feb 15: 517 cents in 2024 (5.1724…), 500 cents in 2025', () => {
    expect(prorate(usd(1000), feb2024, utc('2024-02-15T00:00:00Z')).amount).toBe(517);
    expect(prorate(usd(1000), feb2025, utc('2025-02-15T00:00:00Z')).amount).toBe(500);
  });

  it('$10.00 with 20 of 30 days left is 666.67 cents -> $6.67', () => {
    expect(prorate(usd(1000), apr2025, utc('2025-04-11T00:00:00Z')).amount).toBe(667);
  });

  it('$10.00 with 21 of 31 days left is 677.42 cents -> $6.77; with 15.5 of 31 exactly $5.00', () => {
    expect(prorate(usd(1000), jan2025, utc('2025-01-11T00:00:00Z')).amount).toBe(677);
    expect(prorate(usd(1000), jan2025, utc('2025-01-16T12:00:00Z')).amount).toBe(500);
  });

  it('the whole fee at the start, nothing at the end', () => {
    expect(prorate(usd(4999), jan2025, jan2025.start)).toEqual(usd(4999));
    expect(prorate(usd(4999), jan2025, jan2025.end)).toEqual(usd(0));
  });

  it('an exact half rounds away from zero: $3.00 with 3¼ of 30 days left is 32.5 cents -> 33', () => {
    const at = utc('2025-04-27T18:00:00Z'); // 3 days 6 hours = 280,800 s before May 1
    expect(prorationSeconds(apr2025, at).remainingSeconds).toBe(280_800);
    expect(prorate(usd(300), apr2025, at).amount).toBe(33);
    expect(prorate(usd(-300), apr2025, at).amount).toBe(-33);
    // Multiplying by the 40-digit factor (0.108333…3) would give 32.4999… -> 32.
    expect(multiply(usd(300), prorationFactor(apr2025, at)).amount).toBe(32);
  });

  it('keeps the currency: ¥1,000 with 15 of 29 days left is ¥517.24… -> ¥517', () => {
    expect(prorate(money(1000, JPY), feb2024, utc('2024-02-15T00:00:00Z'))).toEqual(money(517, JPY));
  });

  it('works on a period from the billing calendar: anchor Jan 31 2024, period 1 is Feb 29 – Mar 31 (31 days)', () => {
    const p = nthPeriod(utc('2024-01-31T00:00:00Z'), { unit: 'month', count: 1 }, 1);
    expect(prorationSeconds(p, p.start).periodSeconds).toBe(31 * 86_400);
    expect(prorate(usd(3100), p, utc('2024-03-21T00:00:00Z')).amount).toBe(1000);
  });
});

describe('prorationLines: credit the unused old fee, charge the new one for the rest', () => {
  it("Stripe's example: 10 → 20 USD at exactly mid-period: credit −5.00, charge +10.00, net +5.00", () => {
    const mid = utc('2025-04-16T00:00:00Z'); // 15 of 30 days left
    const lines = prorationLines(usd(1000), usd(2000), apr2025, mid);
    expect(lines.credit).toEqual(usd(-500));
    expect(lines.charge).toEqual(usd(1000));
    expect(lines.net).toEqual(usd(500));
    expect(lines).toMatchObject({ periodSeconds: 30 * 86_400, remainingSeconds: 15 * 86_400 });
  });

  it('a downgrade nets negative: 20 → 10 USD at mid-period nets −5.00', () => {
    const lines = prorationLines(usd(2000), usd(1000), apr2025, utc('2025-04-16T00:00:00Z'));
    expect([lines.credit.amount, lines.charge.amount, lines.net.amount]).toEqual([-1000, 500, -500]);
  });

  it('each line is rounded on its own: $10 → $20 with 20 of 30 days left: −6.67 + 13.33 = +6.66', () => {
    const lines = prorationLines(usd(1000), usd(2000), apr2025, utc('2025-04-11T00:00:00Z'));
    expect([lines.credit.amount, lines.charge.amount, lines.net.amount]).toEqual([-667, 1333, 666]);
  });

  it('a change at the start credits the whole old fee; at the end nothing happens', () => {
    const atStart = prorationLines(usd(1000), usd(2000), apr2025, apr2025.start);
    expect([atStart.credit.amount, atStart.charge.amount]).toEqual([-1000, 2000]);
    const atEnd = prorationLines(usd(1000), usd(2000), apr2025, apr2025.end);
    expect([atEnd.credit.amount, atEnd.charge.amount, atEnd.net.amount]).toEqual([0, 0, 0]);
    expect(Object.is(atEnd.credit.amount, 0)).toBe(true); // not −0
  });

  it('the old and new fee must be in the same currency', () => {
    expect(ledgerErrorOf(() => prorationLines(usd(1000), money(2000, JPY), apr2025, apr2025.start)).code).toBe('invalid');
  });
});

// ---- properties ---------------------------------------------------------------------

const YEAR_2000 = Date.UTC(2000, 0, 1);
const periodArb = fc
  .record({
    startMs: fc.integer({ min: YEAR_2000, max: YEAR_2000 + 100 * 365 * 86_400_000 }),
    lengthSeconds: fc.integer({ min: 1, max: 400 * 86_400 }),
  })
  .map(({ startMs, lengthSeconds }) => ({ start: new Date(startMs), end: new Date(startMs + lengthSeconds * 1000) }));
/** An instant from a little before the period to a little after it. */
const periodAndInstantArb = periodArb.chain((p) =>
  fc
    .integer({ min: p.start.getTime() - 86_400_000, max: p.end.getTime() + 86_400_000 })
    .map((ms) => ({ p, at: new Date(ms) })),
);
const feeArb = fc.integer({ min: -1_000_000_000_000, max: 1_000_000_000_000 });

/** Independent reference: round(a × r / t) half away from zero, in integers. */
function halfAwayFromZero(a: number, r: number, t: number): number {
  const n = BigInt(Math.abs(a)) * BigInt(r);
  const rounded = Number((2n * n + BigInt(t)) / (2n * BigInt(t)));
  return a < 0 && rounded !== 0 ? -rounded : rounded;
}

describe('proration properties', () => {
  it('upgrade then downgrade at the same instant nets exactly zero', () => {
    fc.assert(
      fc.property(periodAndInstantArb, feeArb, feeArb, ({ p, at }, a, b) => {
        const up = prorationLines(usd(a), usd(b), p, at);
        const down = prorationLines(usd(b), usd(a), p, at);
        expect(up.net.amount + down.net.amount).toBe(0);
        expect(up.credit.amount + down.charge.amount).toBe(0); // the credit mirrors the charge
      }),
    );
  });

  it('prorate is a × remaining / period rounded half away from zero, a safe integer no larger than the fee', () => {
    fc.assert(
      fc.property(periodAndInstantArb, feeArb, ({ p, at }, a) => {
        const { periodSeconds, remainingSeconds } = prorationSeconds(p, at);
        const prorated = prorate(usd(a), p, at).amount;
        expect(Number.isSafeInteger(prorated)).toBe(true);
        expect(prorated).toBe(halfAwayFromZero(a, remainingSeconds, periodSeconds));
        expect(Math.abs(prorated)).toBeLessThanOrEqual(Math.abs(a));
        expect(prorate(usd(-a), p, at).amount).toBe(-prorated || 0);
      }),
    );
  });

  it('the factor stays in [0, 1] and never grows as time passes', () => {
    fc.assert(
      fc.property(periodAndInstantArb, fc.integer({ min: 0, max: 30 * 86_400_000 }), ({ p, at }, laterMs) => {
        const now = prorationFactor(p, at);
        const later = prorationFactor(p, new Date(at.getTime() + laterMs));
        expect(now.gte(0) && now.lte(1)).toBe(true);
        expect(later.lte(now)).toBe(true);
      }),
    );
  });
});
