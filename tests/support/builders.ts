import type { Customer } from '../../server/ledger/customer/types';
import {
  featureInputSchema,
  type CreatePlanInput,
  type Feature,
  type FeatureInput,
  type Plan,
} from '../../server/ledger/plan/types';
import type { Subscription } from '../../server/ledger/subscription/types';
import { currency, newId, type CustomerId, type PlanId } from '../../server/ledger/types';

/**
 * Rows as the engine would hand them to a store, for the store conformance suite. Dates
 * carry milliseconds, so a store that truncates them fails; features are in their parsed
 * form (defaults applied), as the engine stores them.
 */
export const AT = new Date('2025-01-31T12:34:56.789Z');

export function customerRow(overrides: Partial<Customer> = {}): Customer {
  return {
    id: newId('customer'),
    externalId: `ext-${Math.random().toString(36).slice(2, 10)}`,
    email: 'ada@example.com',
    name: 'Ada Lovelace',
    country: 'GB',
    region: null,
    address: { line1: '12 St James Sq', line2: null, city: 'London', postalCode: 'SW1Y 4JH', state: null },
    taxStatus: 'taxable',
    taxId: null,
    metadata: { segment: 'enterprise', 'crm.id': '0012' },
    testClockId: null,
    collectionMethod: null,
    daysUntilDue: null,
    currency: null,
    timeZone: 'Europe/London',
    createdAt: AT,
    updatedAt: AT,
    ...overrides,
  };
}

export const feature = (input: FeatureInput): Feature =>
  ({ ...featureInputSchema.parse(input), id: newId('feature') }) as Feature;

/** Every feature kind and price model, so a round trip through JSON columns is exercised. */
export function allKindsOfFeatures(): Feature[] {
  return [
    feature({
      key: 'api_calls',
      name: 'API calls',
      kind: 'metered',
      aggregation: 'sum',
      includedUnits: 1000,
      unitName: 'call',
      price: {
        model: 'graduated',
        tiers: [
          { upTo: 100, unitPrice: '0.10' },
          { upTo: null, unitPrice: '0.05', flatFee: 500 },
        ],
      },
    }),
    feature({
      key: 'active_users',
      name: 'Active users',
      kind: 'metered',
      aggregation: 'unique_count',
      uniqueProperty: 'user_id',
      limit: 5000,
      price: { model: 'package', size: 1000, packagePrice: '0.0004' },
    }),
    feature({
      key: 'storage_gb',
      name: 'Storage',
      kind: 'metered',
      aggregation: 'max',
      price: { model: 'volume', tiers: [{ upTo: 10, unitPrice: '1' }, { upTo: null, unitPrice: '0.5' }] },
    }),
    feature({
      key: 'seats',
      name: 'Seats',
      kind: 'licensed',
      includedUnits: 1,
      limit: 10,
      price: { model: 'per_unit', unitPrice: '12.50' },
    }),
    feature({ key: 'support', name: 'Support', kind: 'licensed', price: { model: 'flat', amount: 9900 } }),
    feature({ key: 'sso', name: 'Single sign-on', kind: 'boolean' }),
    feature({ key: 'beta', name: 'Beta features', kind: 'boolean', enabled: false }),
  ];
}

export function planRow(overrides: Partial<Plan> = {}): Plan {
  return {
    id: newId('plan'),
    key: 'pro',
    version: 1,
    isLatest: true,
    status: 'active',
    name: 'Pro',
    description: 'For growing teams',
    currency: currency('USD'),
    interval: { unit: 'month', count: 1 },
    basePrice: 4900,
    trialDays: 14,
    features: allKindsOfFeatures(),
    currencyPrices: [],
    billingCycle: 'anniversary',
    changeRules: null,
    metadata: { tier: 'gold', 'sales.owner': 'kim' },
    createdAt: AT,
    updatedAt: AT,
    ...overrides,
  };
}

/** The next version of a plan line, as PlanService.update builds it. */
export function nextVersionOf(previous: Plan, overrides: Partial<Plan> = {}, at = new Date(AT.getTime() + 60_000)): Plan {
  return {
    ...previous,
    id: newId('plan'),
    version: previous.version + 1,
    isLatest: true,
    basePrice: previous.basePrice + 1000,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

export function subscriptionRow(customerId: CustomerId, planId: PlanId, overrides: Partial<Subscription> = {}): Subscription {
  return {
    id: newId('subscription'),
    customerId,
    planId,
    currency: currency('USD'),
    status: 'trialing',
    quantity: 3,
    trialStart: AT,
    trialEnd: new Date('2025-02-14T12:34:56.789Z'),
    billingAnchor: new Date('2025-02-14T12:34:56.789Z'),
    currentPeriodStart: AT,
    currentPeriodEnd: new Date('2025-02-14T12:34:56.789Z'),
    cancelAtPeriodEnd: false,
    billingCycle: 'anniversary',
    timeZone: null,
    pendingProrations: [],
    canceledAt: null,
    endedAt: null,
    unbilledFrom: AT,
    discount: null,
    priceOverrides: { basePrice: 1500, features: { seats: { model: 'per_unit', unitPrice: '7.5' } } },
    pendingChange: null,
    outbox: [],
    version: 2,
    metadata: { source: 'portal' },
    createdAt: AT,
    updatedAt: AT,
    ...overrides,
  };
}

/** A plan as a product team would send it to `plans.create`. */
export function proPlanInput(overrides: Partial<CreatePlanInput> = {}): CreatePlanInput {
  return {
    key: 'pro',
    name: 'Pro',
    description: 'For growing teams',
    currency: 'usd',
    interval: { unit: 'month' },
    basePrice: 4900,
    features: [
      {
        key: 'api_calls',
        name: 'API calls',
        kind: 'metered',
        aggregation: 'sum',
        includedUnits: 1000,
        price: {
          model: 'graduated',
          tiers: [
            { upTo: 100, unitPrice: '0.10' },
            { upTo: null, unitPrice: '0.05' },
          ],
        },
      },
      {
        key: 'seats',
        name: 'Seats',
        kind: 'licensed',
        includedUnits: 1,
        limit: 10,
        price: { model: 'per_unit', unitPrice: '12' },
      },
      { key: 'sso', name: 'Single sign-on', kind: 'boolean' },
    ],
    metadata: { tier: 'gold' },
    ...overrides,
  };
}
