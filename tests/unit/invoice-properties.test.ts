import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { couponDiscount } from '@/server/ledger/coupon/apply';
import { advanceLines, finishLines, usageLines } from '@/server/ledger/invoice/build';
import { featureInputSchema, type Feature, type Plan, type Price } from '@/server/ledger/plan/types';
import { feesChanged } from '@/server/ledger/subscription/changes';
import { currency, newId } from '@/server/ledger/types';

/**
 * Invariants of invoices, for any prices, quantities, usage, coupons and tax rates:
 * the total is the sum of the lines less discounts plus taxes; nothing is negative (but
 * proration credits); every amount is an integer of minor units; an upgrade undone at
 * the same instant nets zero.
 */
const USD = currency('USD');
const period = { start: new Date('2025-02-01T00:00:00Z'), end: new Date('2025-03-01T00:00:00Z') };

const unitPrice = fc.oneof(fc.constantFrom('0', '0.0004', '0.5', '1', '12.345', '99.99'), fc.integer({ min: 0, max: 100_000 }).map(String));
const tiers = fc
  .uniqueArray(fc.integer({ min: 1, max: 100_000 }), { minLength: 0, maxLength: 3 })
  .chain((bounds) =>
    fc.tuple(...[...bounds.sort((a, b) => a - b), null].map((upTo) => fc.record({ upTo: fc.constant(upTo), unitPrice, flatFee: fc.integer({ min: 0, max: 5000 }) }))),
  );
const price: fc.Arbitrary<Price> = fc.oneof(
  fc.record({ model: fc.constant('flat' as const), amount: fc.integer({ min: 0, max: 1_000_000 }) }),
  fc.record({ model: fc.constant('per_unit' as const), unitPrice }),
  fc.record({ model: fc.constant('graduated' as const), tiers }),
  fc.record({ model: fc.constant('volume' as const), tiers }),
  fc.record({ model: fc.constant('package' as const), size: fc.integer({ min: 1, max: 1000 }), packagePrice: unitPrice }),
);

const planArb = fc.record({ base: fc.integer({ min: 0, max: 1_000_000 }), seat: price, calls: price, included: fc.integer({ min: 0, max: 5000 }) }).map(
  ({ base, seat, calls, included }): Plan => ({
    id: newId('plan'),
    key: 'p',
    version: 1,
    isLatest: true,
    status: 'active',
    name: 'P',
    description: '',
    currency: USD,
    interval: { unit: 'month', count: 1 },
    basePrice: base,
    trialDays: 0,
    metadata: {},
    createdAt: period.start,
    updatedAt: period.start,
    features: [
      { ...featureInputSchema.parse({ key: 'seats', name: 'Seats', kind: 'licensed', price: seat }), id: newId('feature') } as Feature,
      { ...featureInputSchema.parse({ key: 'calls', name: 'Calls', kind: 'metered', aggregation: 'sum', includedUnits: included, price: calls }), id: newId('feature') } as Feature,
    ],
  }),
);

const coupon = fc.option(
  fc.oneof(
    fc.integer({ min: 1, max: 100 }).map((p) => ({ percentOff: String(p), amountOff: null, currency: null })),
    fc.integer({ min: 1, max: 10_000_000 }).map((a) => ({ percentOff: null, amountOff: a, currency: USD })),
  ),
  { nil: null },
);
const tax = fc.option(
  fc.record({ percentage: fc.constantFrom('0', '5', '6.45', '7.25', '20', '27'), inclusive: fc.boolean() }).map((r) => ({ id: 'txr_x', displayName: 'Tax', ...r })),
  { nil: null },
);
const usage = fc.oneof(fc.integer({ min: 0, max: 2_000_000 }).map(String), fc.constantFrom('0.5', '12.75', '1234567.125'));

describe('invoice invariants (fast-check)', () => {
  it('total = Σ lines − Σ discounts + Σ taxes (exclusive), or − discounts only (inclusive); no negative amount; integers', () => {
    fc.assert(
      fc.property(planArb, fc.integer({ min: 1, max: 500 }), usage, coupon, tax, (plan, seats, used, c, rate) => {
        const lines = [...usageLines(plan, {}, period, new Map([['calls', used]])), ...advanceLines(plan, seats, {}, period)];
        const f = finishLines(USD, lines, c ? (a) => couponDiscount(c, a) : null, { rate, note: null });
        const sum = (k: 'amount' | 'discount' | 'tax') => f.lines.reduce((a, l) => a + l[k], 0);
        expect(f.subtotal).toBe(sum('amount'));
        expect(f.discount).toBe(sum('discount'));
        expect(f.tax).toBe(sum('tax'));
        expect(f.total).toBe(f.subtotal - f.discount + (rate?.inclusive ? 0 : f.tax));
        for (const l of f.lines) {
          for (const v of [l.amount, l.discount, l.tax]) {
            expect(Number.isSafeInteger(v)).toBe(true);
            expect(v).toBeGreaterThanOrEqual(0);
          }
          expect(l.discount).toBeLessThanOrEqual(l.amount);
        }
        expect(f.total).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });

  it('an upgrade and the downgrade back at the same instant net exactly zero', () => {
    fc.assert(
      fc.property(planArb, planArb, fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 50 }), fc.double({ min: 0, max: 1, noNaN: true }), (a, b, qa, qb, f) => {
        const at = new Date(period.start.getTime() + Math.floor(f * (period.end.getTime() - period.start.getTime())));
        const feesA = advanceLines(a, qa, {}, period);
        const feesB = advanceLines({ ...b, name: 'Q' }, qb, {}, period);
        const up = feesChanged(feesA, feesB, period, at, USD);
        const down = feesChanged(feesB, feesA, period, at, USD);
        expect([...up, ...down].reduce((s, l) => s + l.amount, 0)).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
