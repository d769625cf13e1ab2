import { describe, expect, it } from 'vitest';
import type { InvoiceLine, Plan, Subscription, UsageSeries } from '@/server/ledger';
import { priceWords, usagePeriods, usagePeriodView } from '@/server/portal/views/usage';

/**
 * The usage page with minimums and percentage prices: a feature's cost includes its
 * minimum's true-up, and percentage prices are put in words.
 */
const APR = new Date('2026-04-01T00:00:00.000Z');
const MAY = new Date('2026-05-01T00:00:00.000Z');
const sub = { id: 'sub_a', customerId: 'cst_a', planId: 'pln_a', status: 'active', quantity: 1, currentPeriodStart: APR, currentPeriodEnd: MAY, priceOverrides: {} } as unknown as Subscription;
const plan = {
  id: 'pln_a',
  name: 'Platform',
  currency: 'USD',
  features: [{ key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', includedUnits: 0, limit: null, unitName: 'call', price: { model: 'per_unit', unitPrice: '0.01', minimum: 5000 } }],
} as unknown as Plan;
const line = (id: string, kind: InvoiceLine['kind'], amount: number) => ({ id, kind, featureKey: 'api_calls', amount }) as InvoiceLine;

describe('usage page: minimums and percentage prices', () => {
  it('1,200 calls (12.00) under a 50.00 minimum: the feature costs 50.00, the usage line and its 38.00 true-up', () => {
    const [current] = usagePeriods({ live: sub, invoices: [] });
    const view = usagePeriodView({
      choice: current!,
      plan,
      asOf: new Date('2026-04-10T00:00:00Z'),
      quantity: 1,
      used: new Map([['api_calls', '1200']]),
      series: new Map<string, UsageSeries>(),
      usageLines: [line('usage:api_calls', 'usage', 1200), line('minimum:api_calls', 'minimum', 3800)],
    });
    expect(view.metered[0]!.cost).toMatchObject({ amount: 5000, basis: 'estimate' });
  });

  it('percentage prices in words: "2.9% of each transaction + $0.30"; graduated: "Graduated percentage, from 1% of the amount"', () => {
    expect(priceWords({ model: 'percentage', rate: '2.9', fixedFee: 30 }, 0, 'payment', 'USD')).toBe('2.9% of each transaction + $0.30');
    expect(priceWords({ model: 'graduated_percentage', tiers: [{ upTo: null, rate: '1', flatFee: 0 }] }, 0, 'payment', 'USD')).toBe('Graduated percentage, from 1% of the amount');
  });
});
