import { createApiKey } from './auth/api-keys';
import type { CreatePlanInput } from './ledger';
import type { Runtime } from './runtime';

/**
 * Demo data for the embedded default: three plans, a sales tax rate for California, a
 * welcome coupon, one customer on a trial, and an API key. Seeding is idempotent (a scope that has plans is left alone); a fresh demo key is
 * issued at every start, since keys are shown only once.
 */
export const DEMO_PLANS: CreatePlanInput[] = [
  {
    key: 'free',
    name: 'Free',
    description: 'For side projects and trying things out.',
    currency: 'USD',
    interval: { unit: 'month', count: 1 },
    basePrice: 0,
    features: [
      { key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', limit: 10_000, unitName: 'call' },
      { key: 'seats', name: 'Seats', kind: 'licensed', includedUnits: 1, limit: 1 },
    ],
  },
  {
    key: 'starter',
    name: 'Starter',
    description: 'For small teams shipping to production.',
    currency: 'USD',
    interval: { unit: 'month', count: 1 },
    basePrice: 1900,
    trialDays: 14,
    features: [
      {
        key: 'api_calls',
        name: 'API calls',
        kind: 'metered',
        aggregation: 'sum',
        includedUnits: 100_000,
        unitName: 'call',
        price: {
          model: 'graduated',
          tiers: [
            { upTo: 1_000_000, unitPrice: '0.0004' },
            { upTo: null, unitPrice: '0.0002' },
          ],
        },
      },
      { key: 'seats', name: 'Seats', kind: 'licensed', includedUnits: 3, price: { model: 'per_unit', unitPrice: '8' } },
      { key: 'sso', name: 'Single sign-on', kind: 'boolean', enabled: false },
    ],
  },
  {
    key: 'pro',
    name: 'Pro',
    description: 'For companies that bill at scale.',
    currency: 'USD',
    interval: { unit: 'month', count: 1 },
    basePrice: 9900,
    trialDays: 14,
    features: [
      {
        key: 'api_calls',
        name: 'API calls',
        kind: 'metered',
        aggregation: 'sum',
        includedUnits: 1_000_000,
        unitName: 'call',
        price: {
          model: 'volume',
          tiers: [
            { upTo: 10_000_000, unitPrice: '0.0002' },
            { upTo: null, unitPrice: '0.0001' },
          ],
        },
      },
      {
        key: 'active_users',
        name: 'Active users',
        kind: 'metered',
        aggregation: 'unique_count',
        uniqueProperty: 'user_id',
        unitName: 'user',
        price: { model: 'package', size: 100, packagePrice: '5' },
      },
      { key: 'seats', name: 'Seats', kind: 'licensed', includedUnits: 10, price: { model: 'per_unit', unitPrice: '6' } },
      { key: 'sso', name: 'Single sign-on', kind: 'boolean', enabled: true },
    ],
  },
];

export async function seedDemo(rt: Runtime): Promise<{ apiKey: string; seeded: boolean }> {
  const { ledger, portalScope: s } = rt;
  const existing = await ledger.plans.list(s, { limit: 1, includeArchived: true });
  let seeded = false;
  if (existing.items.length === 0) {
    const plans = [];
    for (const p of DEMO_PLANS) plans.push(await ledger.plans.create(s, p));
    await ledger.taxRates.create(s, { displayName: 'CA sales tax', country: 'US', region: 'CA', percentage: '7.25' });
    await ledger.coupons.create(s, { code: 'WELCOME20', name: 'Welcome: 20 % off for 3 months', percentOff: '20', duration: 'repeating', durationPeriods: 3 });
    const customer = await ledger.customers.create(s, {
      email: 'demo@example.com',
      name: 'Demo Customer',
      externalId: 'demo-customer',
      country: 'US',
      region: 'CA',
    });
    await ledger.subscriptions.create(s, { customerId: customer.id, planId: plans[1]!.id, quantity: 3 });
    seeded = true;
  }
  const { key } = await createApiKey(rt.database.db, s, 'demo', { mode: 'test', presetKey: rt.env.LEDGER_DEMO_API_KEY });
  return { apiKey: key, seeded };
}
