import { describe, it, expect } from 'vitest';
import type { z } from 'zod';
import {
  createPlanSchema,
  featureInputSchema,
  priceSchema,
  type CreatePlanInput,
} from '@/server/ledger/plan/types';

/** The issues of a failed parse as "path: message" lines, e.g. "basePrice: must not be negative". */
function issuesOf(result: z.ZodSafeParseResult<unknown>): string[] {
  expect(result.success).toBe(false);
  if (result.success) return [];
  return result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

/** The paths of a failed parse's issues, e.g. ["features.0.price.tiers.1.upTo"]. */
function pathsOf(result: z.ZodSafeParseResult<unknown>): string[] {
  expect(result.success).toBe(false);
  if (result.success) return [];
  return result.error.issues.map((i) => i.path.join('.'));
}

const pro: CreatePlanInput = {
  key: 'pro',
  name: 'Pro',
  currency: 'USD',
  interval: { unit: 'month' },
  basePrice: 4900,
  features: [
    {
      key: 'api_calls',
      name: 'API calls',
      kind: 'metered',
      aggregation: 'sum',
      price: {
        model: 'graduated',
        tiers: [
          { upTo: 100, unitPrice: '0.10' },
          { upTo: null, unitPrice: '0.05' },
        ],
      },
    },
    { key: 'seats', name: 'Seats', kind: 'licensed', price: { model: 'per_unit', unitPrice: '12' } },
    { key: 'sso', name: 'Single sign-on', kind: 'boolean' },
  ],
};

const plan = (overrides: Partial<CreatePlanInput>) => createPlanSchema.safeParse({ ...pro, ...overrides });

const graduated = (tiers: { upTo: number | null; unitPrice: string }[]) =>
  priceSchema.safeParse({ model: 'graduated', tiers });

describe('a valid plan', () => {
  it('Pro at $49.00/month with metered API calls, licensed seats and SSO parses, with defaults filled in', () => {
    const parsed = createPlanSchema.parse(pro);
    expect(parsed).toEqual({
      key: 'pro',
      name: 'Pro',
      description: '',
      currency: 'USD',
      interval: { unit: 'month', count: 1 },
      basePrice: 4900,
      trialDays: 0,
      metadata: {},
      // Issue 11's options, off by default: anniversary periods, today's change rules, one currency.
      billingCycle: 'anniversary',
      changeRules: null,
      currencyPrices: [],
      features: [
        {
          key: 'api_calls',
          name: 'API calls',
          kind: 'metered',
          aggregation: 'sum',
          limit: null,
          includedUnits: 0,
          price: {
            model: 'graduated',
            tiers: [
              { upTo: 100, unitPrice: '0.10', flatFee: 0 },
              { upTo: null, unitPrice: '0.05', flatFee: 0 },
            ],
          },
        },
        {
          key: 'seats',
          name: 'Seats',
          kind: 'licensed',
          includedUnits: 0,
          limit: null,
          price: { model: 'per_unit', unitPrice: '12' },
        },
        { key: 'sso', name: 'Single sign-on', kind: 'boolean', enabled: true },
      ],
    });
  });

  it('a free plan needs no base price and no features: basePrice 0, features []', () => {
    const parsed = createPlanSchema.parse({ key: 'free', name: 'Free', currency: 'EUR', interval: { unit: 'year' } });
    expect(parsed.basePrice).toBe(0);
    expect(parsed.features).toEqual([]);
  });

  it('the currency code is normalised: "usd" becomes "USD"', () => {
    expect(createPlanSchema.parse({ ...pro, currency: 'usd' }).currency).toBe('USD');
  });

  it('a unique_count feature names the property it counts: active users by "user_id"', () => {
    const f = featureInputSchema.parse({
      key: 'active_users',
      name: 'Active users',
      kind: 'metered',
      aggregation: 'unique_count',
      uniqueProperty: 'user_id',
    });
    expect(f).toMatchObject({ aggregation: 'unique_count', uniqueProperty: 'user_id' });
  });

  it('every price model parses: flat $10.00, per unit 0.0004, volume, 1,000-unit packages at 5', () => {
    expect(priceSchema.parse({ model: 'flat', amount: 1000 })).toEqual({ model: 'flat', amount: 1000 });
    expect(priceSchema.parse({ model: 'per_unit', unitPrice: '0.0004' })).toEqual({
      model: 'per_unit',
      unitPrice: '0.0004',
    });
    expect(
      priceSchema.parse({ model: 'volume', tiers: [{ upTo: 1000, unitPrice: '0.01', flatFee: 500 }, { upTo: null, unitPrice: '0.008' }] }),
    ).toMatchObject({ tiers: [{ flatFee: 500 }, { flatFee: 0 }] });
    expect(priceSchema.parse({ model: 'package', size: 1000, packagePrice: '5' })).toEqual({
      model: 'package',
      size: 1000,
      packagePrice: '5',
    });
  });

  it('a single unbounded tier is valid: all units at 0.02', () => {
    expect(graduated([{ upTo: null, unitPrice: '0.02' }]).success).toBe(true);
  });
});

describe('plan fields are rejected with the path of the bad field', () => {
  it('a negative base price (−$1.00)', () => {
    expect(issuesOf(plan({ basePrice: -100 }))).toEqual(['basePrice: must not be negative']);
  });

  it('a base price in fractions of a cent (49.5 cents)', () => {
    expect(issuesOf(plan({ basePrice: 49.5 }))).toEqual([
      'basePrice: must be an integer number of minor units (cents), not a fraction',
    ]);
  });

  it.each(['XXY', 'usd1', 'dollars', ''])('an unknown currency %j', (code) => {
    expect(issuesOf(plan({ currency: code }))).toEqual([
      'currency: unknown currency: expected an ISO 4217 code such as USD',
    ]);
  });

  it('an interval of 0 months', () => {
    expect(pathsOf(plan({ interval: { unit: 'month', count: 0 } }))).toEqual(['interval.count']);
  });

  it('an interval of 37 months (at most 36)', () => {
    expect(pathsOf(plan({ interval: { unit: 'month', count: 37 } }))).toEqual(['interval.count']);
  });

  it('an unknown interval unit ("quarter")', () => {
    // @ts-expect-error "quarter" is not an interval unit
    expect(pathsOf(plan({ interval: { unit: 'quarter' } }))).toEqual(['interval.unit']);
  });

  it('two features with the same key: the second one is flagged', () => {
    const result = plan({
      features: [
        { key: 'sso', name: 'SSO', kind: 'boolean' },
        { key: 'seats', name: 'Seats', kind: 'licensed' },
        { key: 'sso', name: 'SSO again', kind: 'boolean' },
      ],
    });
    expect(issuesOf(result)).toEqual(['features.2.key: duplicate feature key "sso"']);
  });

  it('an error deep in a feature price points at the tier inside the plan', () => {
    const result = plan({
      features: [
        {
          key: 'api_calls',
          name: 'API calls',
          kind: 'metered',
          aggregation: 'sum',
          price: { model: 'graduated', tiers: [{ upTo: 100, unitPrice: '0.10' }, { upTo: 50, unitPrice: '0.05' }, { upTo: null, unitPrice: '0.01' }] },
        },
      ],
    });
    expect(pathsOf(result)).toEqual(['features.0.price.tiers.1.upTo']);
  });
});

describe('tiers must price every quantity from 0 up', () => {
  it('bounds must increase: 0–100, then up to 100 again, is rejected at the second tier', () => {
    const result = graduated([
      { upTo: 100, unitPrice: '0.10' },
      { upTo: 100, unitPrice: '0.05' },
      { upTo: null, unitPrice: '0.01' },
    ]);
    expect(issuesOf(result)).toEqual(['tiers.1.upTo: tier bounds must increase: 100 after 100']);
  });

  it('bounds must increase: 0–1000 then 0–500 is rejected at the second tier', () => {
    const result = priceSchema.safeParse({
      model: 'volume',
      tiers: [
        { upTo: 1000, unitPrice: '0.10' },
        { upTo: 500, unitPrice: '0.05' },
        { upTo: null, unitPrice: '0.01' },
      ],
    });
    expect(issuesOf(result)).toEqual(['tiers.1.upTo: tier bounds must increase: 500 after 1000']);
  });

  it('the last tier must be unbounded: tiers ending at 1,000 leave units above 1,000 unpriced', () => {
    const result = graduated([
      { upTo: 100, unitPrice: '0.10' },
      { upTo: 1000, unitPrice: '0.05' },
    ]);
    expect(issuesOf(result)).toEqual([
      'tiers.1.upTo: the last tier must be unbounded (upTo: null), or units above 1000 have no price',
    ]);
  });

  it('only the last tier may be unbounded: an unbounded first tier followed by another is rejected', () => {
    const result = graduated([
      { upTo: null, unitPrice: '0.10' },
      { upTo: null, unitPrice: '0.05' },
    ]);
    expect(issuesOf(result)).toEqual(['tiers.0.upTo: only the last tier may be unbounded (upTo: null)']);
  });

  it('at least one tier', () => {
    expect(pathsOf(graduated([]))).toEqual(['tiers']);
  });

  it('a tier bound of 0 or 10.5 units is rejected (bounds are positive whole units)', () => {
    expect(pathsOf(graduated([{ upTo: 0, unitPrice: '0.1' }, { upTo: null, unitPrice: '0.05' }]))).toEqual(['tiers.0.upTo']);
    expect(pathsOf(graduated([{ upTo: 10.5, unitPrice: '0.1' }, { upTo: null, unitPrice: '0.05' }]))).toEqual([
      'tiers.0.upTo',
    ]);
  });
});

describe('unit prices are exact, non-negative decimal strings', () => {
  it.each<[string, unknown]>([
    ['a negative price "-1"', '-1'],
    ['exponent notation "1e-3"', '1e-3'],
    ['a number 0.5 instead of the string "0.5"', 0.5],
    ['more than 12 decimals', '0.0000000000001'],
    ['an empty string', ''],
  ])('rejects %s', (_label, unitPrice) => {
    expect(pathsOf(priceSchema.safeParse({ model: 'per_unit', unitPrice }))).toEqual(['unitPrice']);
  });

  it('rejects the same inside a tier, at that tier', () => {
    expect(pathsOf(graduated([{ upTo: 10, unitPrice: '0.1' }, { upTo: null, unitPrice: '-1' }]))).toEqual([
      'tiers.1.unitPrice',
    ]);
  });

  it('accepts "0", "12" and "0.000000000001" (12 decimals)', () => {
    for (const unitPrice of ['0', '12', '0.000000000001']) {
      expect(priceSchema.safeParse({ model: 'per_unit', unitPrice }).success).toBe(true);
    }
  });

  it('a flat fee in fractions of a cent is rejected', () => {
    expect(pathsOf(priceSchema.safeParse({ model: 'flat', amount: 0.5 }))).toEqual(['amount']);
  });
});

describe('features', () => {
  it('a unique_count feature without the property it counts is rejected at uniqueProperty', () => {
    const result = featureInputSchema.safeParse({
      key: 'active_users',
      name: 'Active users',
      kind: 'metered',
      aggregation: 'unique_count',
    });
    expect(issuesOf(result)).toEqual(['uniqueProperty: a unique_count feature names the property it counts']);
  });

  it('a negative metered price is reported at the feature price, not as "no union member matched"', () => {
    const result = featureInputSchema.safeParse({
      key: 'api_calls',
      name: 'API calls',
      kind: 'metered',
      aggregation: 'sum',
      price: { model: 'per_unit', unitPrice: '-1' },
    });
    expect(pathsOf(result)).toEqual(['price.unitPrice']);
  });

  it('a feature key must be a lowercase slug: "API Calls" is rejected', () => {
    expect(pathsOf(featureInputSchema.safeParse({ key: 'API Calls', name: 'API calls', kind: 'boolean' }))).toEqual([
      'key',
    ]);
  });
});
