import { describe, expect, it } from 'vitest';
import { chargeQueries, commitmentIn, commitmentLine, periodFraction, usageLines } from '@/server/ledger/invoice/build';
import { minimumTrueUp, percentageTerms, pricePercentage, priceQuantity } from '@/server/ledger/plan/pricing';
import { createPlanSchema, featureInputSchema, priceSchema, type Feature, type FeatureInput, type Plan, type Price } from '@/server/ledger/plan/types';
import { currency, newId } from '@/server/ledger/types';

/**
 * Minimums and percentage charges as pure billing rules, with concrete cents. The store's
 * per-event sums (SQL) are tested in tests/engine/charges.test.ts on every store.
 */
const USD = currency('USD');
const march = { start: new Date('2025-03-01T00:00:00Z'), end: new Date('2025-04-01T00:00:00Z') };
const feature = (f: FeatureInput): Feature => ({ ...featureInputSchema.parse(f), id: newId('feature') }) as Feature;
const price = (p: unknown): Price => priceSchema.parse(p);

function plan(features: Feature[], more: Partial<Plan> = {}): Plan {
  return {
    id: newId('plan'),
    key: 'usage',
    version: 1,
    isLatest: true,
    status: 'active',
    name: 'Usage',
    description: '',
    currency: USD,
    interval: { unit: 'month', count: 1 },
    basePrice: 0,
    trialDays: 0,
    metadata: {},
    createdAt: march.start,
    updatedAt: march.start,
    features,
    ...more,
  };
}

describe('percentage prices (Lago’s percentage and graduated percentage)', () => {
  it('graduated percentage, Lago’s tiers (0–1,000 at 1 % + $200, 1,000–10,000 at 2 % + $300, above at 3 % + $400): transactions of 500, 550 and 4,000 cost 591.00 for the period', () => {
    const p = price({
      model: 'graduated_percentage',
      tiers: [
        { upTo: 1000, rate: '1', flatFee: 20000 },
        { upTo: 10000, rate: '2', flatFee: 30000 },
        { upTo: null, rate: '3', flatFee: 40000 },
      ],
    });
    // Lago bills 205.00 + 306.00 + 80.00 = 591.00 as the transactions arrive; over the
    // period's sum 5,050: 1,000 × 1 % + 200 = 210.00, 4,050 × 2 % + 300 = 381.00.
    const priced = priceQuantity(p, '5050', 0, USD);
    expect(priced.amount.amount).toBe(59100);
    expect(priced.tiers.map((t) => [t.units, t.exactAmount])).toEqual([
      ['1000', '210'],
      ['4050', '381'],
    ]);
  });

  it('a percentage price’s terms for the store: 2.9 % + 0.30, at least 0.50, at most 5.00 per transaction, in major units', () => {
    const p = price({ model: 'percentage', rate: '2.9', fixedFee: 30, minPerTransaction: 50, maxPerTransaction: 500 });
    expect(percentageTerms(p as Extract<Price, { model: 'percentage' }>, 'amount', USD)).toEqual({ property: 'amount', rate: '0.029', fixed: '0.3', min: '0.5', max: '5' });
    const free = price({ model: 'percentage', rate: '1.2', fixedFee: 10, freeTransactions: 3, freeAmount: 50000 });
    expect(percentageTerms(free as Extract<Price, { model: 'percentage' }>, 'amount', USD)).toMatchObject({ freeTransactions: '3', freeAmount: '500' });
    // No min or max: null, so the store's clamp drops out.
    const bare = price({ model: 'percentage', rate: '1.2' });
    expect(percentageTerms(bare as Extract<Price, { model: 'percentage' }>, 'amount', USD)).toEqual({ property: 'amount', rate: '0.012', fixed: '0', min: null, max: null });
  });

  it('the period’s charge is the store’s exact per-transaction sum rounded once: 6.585 → 6.59', () => {
    const p = price({ model: 'percentage', rate: '2.9', fixedFee: 30 }) as Extract<Price, { model: 'percentage' }>;
    expect(pricePercentage(p, { count: '4', amount: '511', charge: '6.585' }, USD).amount.amount).toBe(659);
    expect(pricePercentage(p, { count: '4', amount: '511', charge: '6.585' }, USD, 'half_even').amount.amount).toBe(658);
  });

  it('a percentage price is never priced from a quantity (it needs each transaction)', () => {
    expect(() => priceQuantity(price({ model: 'percentage', rate: '1' }), '10', 0, USD)).toThrow(/per transaction/);
  });

  it('usage lines: one line with the transactions, their summed amount and the charge', () => {
    const p = plan([
      feature({ key: 'payments', name: 'Card payments', kind: 'metered', aggregation: 'count', amountProperty: 'amount', price: { model: 'percentage', rate: '2.9', fixedFee: 30 } }),
    ]);
    const lines = usageLines(p, {}, march, new Map([['payments', '4']]), {}, { transactions: new Map([['payments', { count: '4', amount: '511', charge: '16.019' }]]) });
    expect(lines).toMatchObject([{ id: 'usage:payments', kind: 'usage', quantity: '511', amount: 1602, description: 'Card payments: 4 transactions, 511 USD at 2.9% + $0.30 each' }]);
    expect(() => usageLines(p, {}, march, new Map(), {})).toThrow(/transactions/);
  });

  it('the store is asked for count, amount and charge of a percentage feature, and the summed amount of a graduated one', () => {
    const p = plan([
      feature({ key: 'payments', name: 'Card payments', kind: 'metered', aggregation: 'count', amountProperty: 'amount', price: { model: 'percentage', rate: '1.2', fixedFee: 10 } }),
      feature({ key: 'volume', name: 'Volume', kind: 'metered', aggregation: 'count', amountProperty: 'value', price: { model: 'graduated_percentage', tiers: [{ upTo: null, rate: '1' }] } }),
      feature({ key: 'calls', name: 'Calls', kind: 'metered', aggregation: 'sum', price: { model: 'per_unit', unitPrice: '0.01' } }),
    ]);
    expect(chargeQueries(p, {}).map((q) => [q.featureKey, q.reads, q.transactions.rate, q.transactions.fixed])).toEqual([
      ['payments', 'count', '0', '1'],
      ['payments', 'amount', '1', '0'],
      ['payments', 'charge', '0.012', '0.1'],
      ['volume', 'value', '1', '0'],
    ]);
  });

  it('bad input is refused by the schema, naming the field', () => {
    const issues = (f: unknown) => featureInputSchema.safeParse(f).error?.issues.map((i) => i.path.join('.'));
    const metered = { key: 'p', name: 'P', kind: 'metered', aggregation: 'count' };
    expect(issues({ ...metered, price: { model: 'percentage', rate: '1' } })).toEqual(['amountProperty']);
    expect(issues({ ...metered, amountProperty: 'amount', includedUnits: 5, price: { model: 'percentage', rate: '1' } })).toEqual(['includedUnits']);
    expect(issues({ ...metered, amountProperty: 'amount', price: { model: 'percentage', rate: '1', minPerTransaction: 500, maxPerTransaction: 100 } })).toEqual(['price.maxPerTransaction']);
    expect(issues({ ...metered, amountProperty: 'amount', price: { model: 'percentage', rate: '-1' } })).toEqual(['price.rate']);
    expect(issues({ key: 's', name: 'Seats', kind: 'licensed', price: { model: 'percentage', rate: '1' } })).toEqual(['price.model']);
    expect(issues({ ...metered, amountProperty: 'amount', price: { model: 'graduated_percentage', tiers: [{ upTo: 100, rate: '1' }] } })).toEqual(['price.tiers.0.upTo']);
    expect(createPlanSchema.safeParse({ key: 'x', name: 'X', currency: 'USD', interval: { unit: 'month' }, minimumCommitment: 99.5 }).error?.issues.map((i) => i.path.join('.'))).toEqual(['minimumCommitment']);
  });
});

describe('minimums', () => {
  it('the true-up is max(0, minimum × fraction − charged), rounded once: 100.00 over 22 of 31 days is 70.97; nothing when the charge reaches it', () => {
    expect(minimumTrueUp(10000, 4000)).toBe(6000);
    expect(minimumTrueUp(10000, 12000)).toBe(0);
    expect(minimumTrueUp(10000, 0, periodFraction({ interval: { unit: 'month', count: 1 } }, { start: new Date('2025-08-10T00:00:00Z'), end: new Date('2025-09-01T00:00:00Z') }))).toBe(7097);
    expect(() => minimumTrueUp(10000, 0, '1.5')).toThrow(/fraction/);
  });

  it('period fraction: a whole month 1, a cancellation 5 days into a 31-day month 5/31, a calendar first period from August 10 22/31', () => {
    const monthly = { interval: { unit: 'month' as const, count: 1 } };
    expect(periodFraction(monthly, march).toFixed()).toBe('1');
    expect(periodFraction(monthly, { start: march.start, end: new Date('2025-03-06T00:00:00Z') }).times(31).toDecimalPlaces(20).toFixed()).toBe('5');
    expect(periodFraction(monthly, { start: new Date('2025-08-10T00:00:00Z'), end: new Date('2025-09-01T00:00:00Z') }).times(31).toDecimalPlaces(20).toFixed()).toBe('22');
    // Calendar billing counts the start day whole, as its prorated fees do: from 14:00 on Aug 10 still 22/31.
    expect(periodFraction(monthly, { start: new Date('2025-08-10T14:00:00Z'), end: new Date('2025-09-01T00:00:00Z') }).times(31).toDecimalPlaces(20).toFixed()).toBe('22');
    // In the customer's zone: New York's September starts at 04:00Z; from Aug 10 (local) 22/31.
    expect(periodFraction(monthly, { start: new Date('2025-08-10T16:00:00Z'), end: new Date('2025-09-01T04:00:00Z') }, 'America/New_York').times(31).toDecimalPlaces(20).toFixed()).toBe('22');
    // A short period that does not end on a boundary counts seconds: 2.5 of 31 days.
    expect(periodFraction(monthly, { start: new Date('2025-03-10T00:00:00Z'), end: new Date('2025-03-12T12:00:00Z') }).times(62).toDecimalPlaces(20).toFixed()).toBe('5');
  });

  it('a platform minimum as a first tier’s flat fee bills nothing without usage; the price’s `minimum` bills it: a 50.00 true-up line', () => {
    const tiers = [
      { upTo: 1000, unitPrice: '0', flatFee: 5000 },
      { upTo: null, unitPrice: '0.01' },
    ];
    const asTier = plan([feature({ key: 'calls', name: 'API calls', kind: 'metered', aggregation: 'sum', price: { model: 'graduated', tiers } })]);
    expect(usageLines(asTier, {}, march, new Map([['calls', '0']])).map((l) => [l.id, l.amount])).toEqual([['usage:calls', 0]]);

    const withMinimum = plan([feature({ key: 'calls', name: 'API calls', kind: 'metered', aggregation: 'sum', price: { model: 'per_unit', unitPrice: '0.01', minimum: 5000 } })]);
    expect(usageLines(withMinimum, {}, march, new Map([['calls', '0']])).map((l) => [l.id, l.kind, l.amount, l.description])).toEqual([
      ['usage:calls', 'usage', 0, 'API calls: 0 units'],
      ['minimum:calls', 'minimum', 5000, 'API calls: minimum of $50.00 per period, true-up'],
    ]);
    // 1,200 calls = 12.00: the true-up is 38.00; 6,000 calls = 60.00: none.
    expect(usageLines(withMinimum, {}, march, new Map([['calls', '1200']])).map((l) => l.amount)).toEqual([1200, 3800]);
    expect(usageLines(withMinimum, {}, march, new Map([['calls', '6000']])).map((l) => l.amount)).toEqual([6000]);
    // Prorated with the usage period: 5 of 31 days owe 8.06 (806.45… cents).
    expect(usageLines(withMinimum, {}, march, new Map([['calls', '0']]), {}, { fraction: periodFraction(withMinimum, { start: march.start, end: new Date('2025-03-06T00:00:00Z') }) }).map((l) => l.amount)).toEqual([0, 806]);
  });

  it('a seat price’s minimum: 2 seats at 8.00 with a 25.00 minimum bill 16.00 and a 9.00 true-up', async () => {
    const { advanceLines } = await import('@/server/ledger/invoice/build');
    const p = plan([feature({ key: 'seats', name: 'Seats', kind: 'licensed', price: { model: 'per_unit', unitPrice: '8', minimum: 2500 } })]);
    expect(advanceLines(p, 2, {}, march).map((l) => [l.id, l.amount])).toEqual([
      ['license:seats', 1600],
      ['minimum:seats', 900],
    ]);
  });

  it('minimum commitment 100.00: usage 40.00 and a 20.00 base fee leave a 40.00 true-up; an override of 50.00 leaves none; null removes it', () => {
    const p = plan([], { basePrice: 2000, minimumCommitment: 10000 });
    const usage = [{ id: 'usage:calls', kind: 'usage' as const, description: '', featureKey: 'calls', quantity: '20000', unitPrice: null, amount: 4000, discount: 0, tax: 0, periodStart: march.start, periodEnd: march.end }];
    const fees = [{ ...usage[0]!, id: 'base_fee:plan', kind: 'base_fee' as const, amount: 2000 }];
    expect(commitmentLine(p, {}, march, usage, fees)).toMatchObject({ id: 'minimum:plan', kind: 'minimum', description: 'Minimum commitment true-up', amount: 4000, featureKey: null });
    expect(commitmentLine(p, { minimumCommitment: 5000 }, march, usage, fees)).toBeNull();
    expect(commitmentLine(p, { minimumCommitment: null }, march, usage, fees)).toBeNull();
    // The plan's 31-day month cut after 5 days: 100.00 × 5/31 − 40.00 − 20.00 × 5/31 < 0: none;
    // with no usage: (100.00 − 20.00) × 5/31 = 12.90.
    const five = { start: march.start, end: new Date('2025-03-06T00:00:00Z') };
    expect(commitmentLine(p, {}, five, usage, fees)).toBeNull();
    expect(commitmentLine(p, {}, five, [], fees)?.amount).toBe(1290);
  });

  it('multi-currency: a 100.00 USD commitment is not read as 100.00 EUR; in EUR it is what the EUR set states, else none', () => {
    const main = plan([], { minimumCommitment: 10000, currencyPrices: [{ currency: currency('EUR'), basePrice: 0, features: {} }] });
    const inEur = { ...main, currency: currency('EUR') };
    expect(commitmentIn(main, main).minimumCommitment).toBe(10000);
    expect(commitmentIn(inEur, main).minimumCommitment).toBeNull();
    const stated = { ...main, currencyPrices: [{ currency: currency('EUR'), basePrice: 0, features: {}, minimumCommitment: 9000 }] } as unknown as Plan;
    expect(commitmentIn(inEur, stated).minimumCommitment).toBe(9000);
  });
});
