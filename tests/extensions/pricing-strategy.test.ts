import { describe, expect, it } from 'vitest';
import { currency, LedgerError, priceSchema, type PricingStrategies } from '@/server/ledger';
import { priceQuantity } from '@/server/ledger/plan/pricing';

/** A custom price model as pure pricing: the strategy's exact amount, rounded once by the engine. */
const USD = currency('USD');
const strategies: PricingStrategies = {
  // Square-root pricing: √billable × rate, an irrational amount the engine must round.
  sqrt: { price: ({ billable, params }) => billable.sqrt().times(String(params.rate)) },
  negative: { price: () => '-1' },
};
const custom = (strategy: string, params: Record<string, unknown> = {}) => priceSchema.parse({ model: 'custom', strategy, params });

describe('custom price model', () => {
  it('√(110 − 10 included) × 0.5 = 5.00; √(12 − 10) × 0.5 = 0.7071… rounds once to 0.71', () => {
    expect(priceQuantity(custom('sqrt', { rate: '0.5' }), '110', 10, USD, strategies)).toMatchObject({ model: 'custom', billableQuantity: '100', amount: { amount: 500 }, tiers: [] });
    const small = priceQuantity(custom('sqrt', { rate: '0.5' }), '12', 10, USD, strategies);
    expect(small.exactAmount.startsWith('0.70710678')).toBe(true);
    expect(small.amount.amount).toBe(71);
  });

  it('a strategy the engine lacks, or a negative answer, is an invalid error', () => {
    expect(() => priceQuantity(custom('nope'), '1', 0, USD, strategies)).toThrow(/unknown pricing strategy "nope"/);
    expect(() => priceQuantity(custom('negative'), '1', 0, USD, strategies)).toThrow(LedgerError);
    expect(() => priceQuantity(custom('negative'), '1', 0, USD, strategies)).toThrow(/finite, non-negative/);
  });

  it('the schema takes a custom price with a strategy name and defaults params to {}', () => {
    expect(priceSchema.parse({ model: 'custom', strategy: 'p95_tiers' })).toEqual({ model: 'custom', strategy: 'p95_tiers', params: {} });
    expect(priceSchema.safeParse({ model: 'custom', strategy: 'Bad Name' }).success).toBe(false);
  });
});
