import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, type Invoice } from '@/server/ledger';
import { checkCurrencyPrices, planCurrencies, pricesIn } from '@/server/ledger/plan/currency-prices';
import { createPlanSchema, type CreatePlanInput, type Plan } from '@/server/ledger/plan/types';
import { upcomingInvoice } from '@/server/ledger/invoice/upcoming';
import { format, money } from '@/server/ledger/types';
import { createCaller } from '@/server/trpc/root';
import { rejectsWith } from '../support/engine';
import { codeOf, portalContext } from '../support/trpc';
import { createMemoryStore } from '@/server/ledger/store/memory';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * Multi-currency, as a specification with concrete numbers. Plan "Global", monthly:
 *
 * |                  | USD (main) | EUR    | JPY   | KWD     |
 * | base fee         | 20.00      | 18.00  | 3000  | 6.125   |
 * | seat (1 incl.)   | 10.00      | 9.00   | 1500  | 3.075   |
 * | API call (1,000 incl.) | 0.002 | 0.0018 | 0.3 | 0.0006 |
 * | storage GB: first 100 a flat fee, then per GB | 5.00 + 0.05 | 4.50 + 0.045 | 750 + 7 | 1.500 + 0.015 |
 *
 * Amounts are minor units of their own currency: 20.00 USD is 2000, 3000 JPY is 3000,
 * 6.125 KWD is 6125 (JPY has no decimals, KWD three).
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const HOUR = 3_600_000;

const global: CreatePlanInput = {
  key: 'global',
  name: 'Global',
  currency: 'USD',
  interval: { unit: 'month' },
  basePrice: 2000,
  features: [
    { key: 'seats', name: 'Seats', kind: 'licensed', includedUnits: 1, price: { model: 'per_unit', unitPrice: '10' } },
    { key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', includedUnits: 1000, price: { model: 'per_unit', unitPrice: '0.002' } },
    {
      key: 'storage',
      name: 'Storage',
      kind: 'metered',
      aggregation: 'max',
      price: { model: 'graduated', tiers: [{ upTo: 100, unitPrice: '0', flatFee: 500 }, { upTo: null, unitPrice: '0.05' }] },
    },
    { key: 'sso', name: 'Single sign-on', kind: 'boolean' },
  ],
  currencyPrices: [
    {
      currency: 'EUR',
      basePrice: 1800,
      features: {
        seats: { model: 'per_unit', unitPrice: '9' },
        api_calls: { model: 'per_unit', unitPrice: '0.0018' },
        storage: { model: 'graduated', tiers: [{ upTo: 100, unitPrice: '0', flatFee: 450 }, { upTo: null, unitPrice: '0.045' }] },
      },
    },
    {
      currency: 'jpy',
      basePrice: 3000,
      features: {
        seats: { model: 'per_unit', unitPrice: '1500' },
        api_calls: { model: 'per_unit', unitPrice: '0.3' },
        storage: { model: 'graduated', tiers: [{ upTo: 100, unitPrice: '0', flatFee: 750 }, { upTo: null, unitPrice: '7' }] },
      },
    },
    {
      currency: 'KWD',
      basePrice: 6125,
      features: {
        seats: { model: 'per_unit', unitPrice: '3.075' },
        api_calls: { model: 'per_unit', unitPrice: '0.0006' },
        storage: { model: 'graduated', tiers: [{ upTo: 100, unitPrice: '0', flatFee: 1500 }, { upTo: null, unitPrice: '0.015' }] },
      },
    },
  ],
};

/** A USD-only plan, to show what a plan not offered in a currency does. */
const usdOnly: CreatePlanInput = { key: 'local', name: 'Local', currency: 'USD', interval: { unit: 'month' }, basePrice: 1000 };

const lines = (inv: Invoice) => inv.lines.map((l) => [l.id, l.amount]);

describe('pricesIn and checkCurrencyPrices (pure)', () => {
  const plan = { ...createPlanSchema.parse(global), id: 'pln_x', features: createPlanSchema.parse(global).features.map((f, i) => ({ ...f, id: `fea_${i}` })) } as unknown as Plan;

  it('offers USD (main), EUR, JPY, KWD; codes are stored upper case', () => {
    expect(planCurrencies(plan)).toEqual(['USD', 'EUR', 'JPY', 'KWD']);
  });

  it('in JPY: the base fee 3000, each priced feature its JPY price; features, limits and included units unchanged', () => {
    const jpy = pricesIn(plan, 'JPY');
    expect(jpy).toMatchObject({ currency: 'JPY', basePrice: 3000, interval: plan.interval, key: 'global' });
    expect(jpy.features.map((f) => [f.key, f.kind === 'boolean' ? null : f.price])).toEqual([
      ['seats', { model: 'per_unit', unitPrice: '1500' }],
      ['api_calls', { model: 'per_unit', unitPrice: '0.3' }],
      ['storage', { model: 'graduated', tiers: [{ upTo: 100, unitPrice: '0', flatFee: 750 }, { upTo: null, unitPrice: '7', flatFee: 0 }] }],
      ['sso', null],
    ]);
    expect(jpy.features.map((f) => f.kind !== 'boolean' && f.includedUnits)).toEqual([1, 1000, 0, false]);
  });

  it('in the main currency (or none: a subscription stored before multi-currency) it is the plan itself', () => {
    expect(pricesIn(plan, 'USD')).toBe(plan);
    expect(pricesIn(plan, null)).toBe(plan);
  });

  it('a currency the plan is not offered in is invalid, naming the ones it is', () => {
    expect(() => pricesIn(plan, 'GBP')).toThrow('plan "global" is not offered in GBP: it is offered in USD, EUR, JPY, KWD');
  });

  it('6.125 KWD is 6125 minor units, printed with three decimals', () => {
    expect(format(money(pricesIn(plan, 'KWD').basePrice, 'KWD'))).toBe('KWD\u00a06.125');
    expect(format(money(pricesIn(plan, 'JPY').basePrice, 'JPY'))).toBe('¥3,000');
  });

  it('names every problem: a missing price, a feature the plan does not price, another model, other tier bounds, the main currency again, a currency twice', () => {
    const bad = {
      currency: 'USD',
      features: plan.features,
      currencyPrices: [
        { currency: 'EUR', basePrice: 1800, features: { seats: { model: 'flat', amount: 900 }, api_calls: { model: 'per_unit', unitPrice: '0.0018' }, sso: { model: 'flat', amount: 1 } } },
        { currency: 'JPY', basePrice: 3000, features: { seats: { model: 'per_unit', unitPrice: '1500' }, api_calls: { model: 'per_unit', unitPrice: '0.3' }, storage: { model: 'graduated', tiers: [{ upTo: 50, unitPrice: '0', flatFee: 750 }, { upTo: null, unitPrice: '7' }] } } },
        { currency: 'USD', basePrice: 2000, features: {} },
        { currency: 'JPY', basePrice: 3000, features: {} },
      ],
    } as unknown as Parameters<typeof checkCurrencyPrices>[0];
    let issues: { path: string; message: string }[] = [];
    try {
      checkCurrencyPrices(bad);
    } catch (e) {
      issues = (e as { issues: { path: string; message: string }[] }).issues;
    }
    expect(issues.map((i) => i.path)).toEqual([
      'currencyPrices.0.features.seats',
      'currencyPrices.0.features.storage',
      'currencyPrices.0.features.sso',
      'currencyPrices.1.features.storage',
      'currencyPrices.2.currency',
      'currencyPrices.2.features.seats',
      'currencyPrices.2.features.api_calls',
      'currencyPrices.2.features.storage',
      'currencyPrices.3.currency',
      'currencyPrices.3.features.seats',
      'currencyPrices.3.features.api_calls',
      'currencyPrices.3.features.storage',
    ]);
    expect(issues[0]!.message).toBe('feature "seats" in EUR: the price model is "per_unit" in the main currency, not "flat"');
    expect(issues[3]!.message).toBe('feature "storage" in JPY: tiers up to 50, ∞; the main currency\'s are up to 100, ∞');
    expect(issues[4]!.message).toMatch(/USD is the plan's main currency/);
    expect(issues[8]!.message).toBe('JPY is priced twice');
  });
});

describe.each(storeFactories())('multi-currency on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function setup(customerCurrency: string | null = null) {
    const clock = new ManualClock(T0);
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger, invoices: { finalizeGraceMs: HOUR } });
    const scope = uniqueScope();
    const plan = await ledger.plans.create(scope, global);
    const customer = await ledger.customers.create(scope, { email: 'k@example.com', name: 'Kenji', currency: customerCurrency });
    const meter = (key: string, featureKey: string, quantity: number) =>
      ledger.meter.meterDurable(scope, [{ idempotencyKey: key, customerId: customer.id, featureKey, quantity, timestamp: clock.now().toISOString() }]);
    const invoices = async () =>
      (await ledger.invoices.listByCustomer(scope, customer.id, { limit: 100 })).items.sort((a, b) => a.issueAt.getTime() - b.issueAt.getTime() || (a.id < b.id ? -1 : 1));
    return { ledger, clock, scope, plan, customer, meter, invoices };
  }

  it('a plan keeps its currency prices through the store, and a new version when they change', async () => {
    const { ledger, scope, plan } = await setup();
    expect(plan.currencyPrices!.map((s) => [s.currency, s.basePrice])).toEqual([['EUR', 1800], ['JPY', 3000], ['KWD', 6125]]);
    expect(await ledger.plans.get(scope, plan.id)).toEqual(plan);
    const v2 = await ledger.plans.update(scope, plan.id, {
      currencyPrices: plan.currencyPrices!.map((s) => (s.currency === 'JPY' ? { ...s, basePrice: 3300 } : s)),
    });
    expect(v2).toMatchObject({ version: 2, basePrice: 2000 });
    expect(pricesIn(v2, 'JPY').basePrice).toBe(3300);
    expect(pricesIn(await ledger.plans.get(scope, plan.id), 'JPY').basePrice).toBe(3000);
  });

  it('a plan whose currency set misses a priced feature is refused as invalid and not stored', async () => {
    const { ledger, scope } = await setup();
    const missing = { ...global, key: 'broken', currencyPrices: [{ currency: 'EUR', basePrice: 1800, features: { seats: { model: 'per_unit' as const, unitPrice: '9' } } }] };
    const e = await rejectsWith(ledger.plans.create(scope, missing), 'invalid');
    expect(e.issues.map((i) => i.path)).toEqual(['currencyPrices.0.features.api_calls', 'currencyPrices.0.features.storage']);
    // 6.125 given as a fraction, not as 6125 minor units
    await rejectsWith(ledger.plans.create(scope, { ...global, key: 'broken', currencyPrices: [{ ...global.currencyPrices![2]!, basePrice: 6.125 }] }), 'invalid');
    await rejectsWith(ledger.plans.getByKey(scope, 'broken'), 'not_found');
  });

  it('a JPY customer: its subscription is in JPY, its invoices are in JPY with usage priced in JPY', async () => {
    const { ledger, clock, scope, plan, customer, meter, invoices } = await setup('jpy');
    expect(customer.currency).toBe('JPY');
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: 3 });
    expect(sub.currency).toBe('JPY');
    expect((await ledger.subscriptions.get(scope, sub.id)).currency).toBe('JPY');

    // The first period's fees in advance: 3000 + 2 paid seats × 1500 = 6000 JPY.
    const [first] = await invoices();
    expect(first).toMatchObject({ currency: 'JPY', subtotal: 6000, total: 6000, amountDue: 6000 });
    expect(lines(first!)).toEqual([['base_fee:plan', 3000], ['license:seats', 3000]]);
    expect(first!.lines[0]!.unitPrice).toBe('3000');

    // 6,000 API calls (5,000 above the 1,000 included × 0.3 = 1500) and 150 GB of storage
    // (first 100: the flat 750; 50 more × 7 = 350): 2600 of usage, plus next month's 6000.
    clock.set('2025-02-01T00:00:00Z');
    await meter('c1', 'api_calls', 6000);
    await meter('s1', 'storage', 150);
    clock.set('2025-02-01T01:00:00Z');
    const preview = (await upcomingInvoice({ billing: ledger.billing, invoices: ledger.invoices, now: (s, c) => ledger.now(s, c) }, scope, sub)).invoice;
    expect(preview).toMatchObject({ currency: 'JPY', total: 8600 });
    clock.set('2025-02-15T10:00:00Z');
    await ledger.billing.run(scope);
    const [, cycle] = await invoices();
    expect(cycle).toMatchObject({ currency: 'JPY', subtotal: 8600, total: 8600 });
    expect(lines(cycle!)).toEqual([['usage:api_calls', 1500], ['usage:storage', 1100], ['base_fee:plan', 3000], ['license:seats', 3000]]);
    expect(cycle!.lines.find((l) => l.id === 'usage:storage')!.tiers!.map((t) => [t.flatFee, t.exactAmount])).toEqual([
      [{ amount: 750, currency: 'JPY' }, '750'],
      [{ amount: 0, currency: 'JPY' }, '350'],
    ]);
  });

  it('a KWD customer: 6.125 KWD is 6125 fils; 2 paid seats × 3.075 = 6150; 12275 in all', async () => {
    const { ledger, scope, plan, customer, invoices } = await setup('KWD');
    await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: 3 });
    const [first] = await invoices();
    expect(first).toMatchObject({ currency: 'KWD', total: 12275 });
    expect(first!.lines.map((l) => [l.id, l.unitPrice, l.amount])).toEqual([
      ['base_fee:plan', '6.125', 6125],
      ['license:seats', '3.075', 6150],
    ]);
  });

  it('a customer with no currency subscribes in the plan\'s main currency (20.00 + 10.00 USD) and keeps USD from then on', async () => {
    const { ledger, scope, plan, customer, invoices } = await setup(null);
    expect(customer.currency).toBeNull();
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: 2 });
    expect(sub.currency).toBe('USD');
    expect((await invoices())[0]).toMatchObject({ currency: 'USD', total: 3000 });
    expect((await ledger.customers.get(scope, customer.id)).currency).toBe('USD');
  });

  it('a GBP customer is refused a plan not offered in GBP, with the currencies it is offered in; nothing is made', async () => {
    const { ledger, scope, plan, customer, invoices } = await setup('GBP');
    const e = await rejectsWith(ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id }), 'invalid');
    expect(e.message).toBe(`plan "global" is not offered in GBP, the currency of customer ${customer.id}: it is offered in USD, EUR, JPY, KWD`);
    expect((await ledger.subscriptions.listByCustomer(scope, customer.id)).items).toEqual([]);
    expect(await invoices()).toEqual([]);
    expect((await ledger.customers.get(scope, customer.id)).currency).toBe('GBP');
  });

  it('a plan change must stay in the subscription\'s currency: to a USD-only plan it is refused, to another JPY plan it prorates in JPY', async () => {
    const { ledger, clock, scope, plan, customer, invoices } = await setup('JPY');
    const local = await ledger.plans.create(scope, usdOnly);
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: 1 });
    const e = await rejectsWith(ledger.subscriptions.changePlan(scope, sub.id, { planId: local.id }), 'invalid');
    expect(e.message).toBe('a subscription cannot change currency: it is in JPY, and plan "local" is offered in USD');
    expect((await ledger.subscriptions.get(scope, sub.id)).planId).toBe(plan.id);

    // "Global Plus": 6000 JPY (40.00 USD). Mid-period (Jan 30 10:00 of Jan 15 – Feb 15, 16 of
    // 31 days left): −3000 × 16/31 = −1548, +6000 × 16/31 = 3097 JPY.
    const plus = await ledger.plans.create(scope, {
      ...global,
      key: 'plus',
      basePrice: 4000,
      currencyPrices: global.currencyPrices!.map((s) => (s.currency.toUpperCase() === 'JPY' ? { ...s, basePrice: 6000 } : s)),
    });
    clock.set('2025-01-30T10:00:00Z');
    await ledger.subscriptions.changePlan(scope, sub.id, { planId: plus.id });
    const [, change] = await invoices();
    expect(change).toMatchObject({ currency: 'JPY', billingReason: 'subscription_update' });
    expect(change!.lines.map((l) => l.amount)).toEqual([-1548, 3097]);
    expect(change!.total).toBe(1549);
  });

  it('a customer\'s currency cannot change under a live subscription in another; after it ends it can', async () => {
    const { ledger, scope, plan, customer } = await setup('JPY');
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    await rejectsWith(ledger.customers.update(scope, customer.id, { currency: 'EUR' }), 'illegal_state');
    expect((await ledger.customers.get(scope, customer.id)).currency).toBe('JPY');
    await ledger.subscriptions.cancel(scope, sub.id, { at: 'now' });
    expect((await ledger.customers.update(scope, customer.id, { currency: 'eur' })).currency).toBe('EUR');
    await rejectsWith(ledger.customers.update(scope, customer.id, { currency: 'XYZ' }), 'invalid');
  });

  it('a fixed-amount coupon must be in the subscription\'s currency: 5.00 USD off is refused on JPY, 500 JPY off takes 500 off 6000', async () => {
    const { ledger, scope, plan, customer, invoices } = await setup('JPY');
    await ledger.coupons.create(scope, { code: 'USD5', name: '5 off', amountOff: 500, currency: 'USD', duration: 'once' });
    await ledger.coupons.create(scope, { code: 'JPY500', name: '500 off', amountOff: 500, currency: 'JPY', duration: 'once' });
    await rejectsWith(ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: 3, couponCode: 'USD5' }), 'invalid');
    await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: 3, couponCode: 'JPY500' });
    expect((await invoices())[0]).toMatchObject({ currency: 'JPY', subtotal: 6000, discount: 500, total: 5500 });
  });
});

describe.each(storeFactories())('the portal in the customer\'s currency on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function setup(customerCurrency: string | null) {
    const clock = new ManualClock(T0);
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger });
    const scope = uniqueScope();
    await ledger.scopes.register(scope, 'test');
    const plan = await ledger.plans.create(scope, global);
    await ledger.plans.create(scope, usdOnly);
    const customer = await ledger.customers.create(scope, { email: 'k@example.com', name: 'Kenji', currency: customerCurrency, collectionMethod: 'send_invoice' });
    const portal = createCaller({ ledger, auth: { kind: 'portal', scope, portal: portalContext(scope, customer.id, 'owner') } });
    return { ledger, clock, scope, plan, customer, portal };
  }

  it('a JPY customer\'s plans page lists the plans offered in JPY at their JPY prices (3000 JPY, 1500 a seat); the USD-only plan is not offered', async () => {
    const { portal } = await setup('JPY');
    const { plans } = await portal.accountPlans.list();
    expect(plans.map((p) => [p.key, p.basePrice, p.currency])).toEqual([['global', 3000, 'JPY']]);
    expect(plans[0]!.features.find((f) => f.key === 'seats')!.text).toBe('1 seat included, ¥1,500 a seat above that');
  });

  it('with no currency, every plan in its main currency; once subscribed, the subscription\'s currency', async () => {
    const { portal, ledger, scope, plan, customer } = await setup(null);
    expect((await portal.accountPlans.list()).plans.map((p) => [p.key, p.basePrice, p.currency])).toEqual([['local', 1000, 'USD'], ['global', 2000, 'USD']]);
    await ledger.customers.update(scope, customer.id, { currency: 'KWD' });
    await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: 2 });
    const after = await portal.accountPlans.list();
    expect(after.plans.map((p) => [p.key, p.basePrice, p.currency, p.current])).toEqual([['global', 6125, 'KWD', true]]);
    // Cancelling now (Jan 30 10:00, 16 of 31 days left) credits 16/31 of 6.125 + 3.075 KWD: 3161 + 1587 fils.
    const now = new Date('2025-01-30T10:00:00.000Z');
    (ledger.clock as ManualClock).set(now);
    expect(await portal.accountPlans.previewCancel()).toMatchObject({ credit: 3161 + 1587, currency: 'KWD' });
  });
});

describe('the API (tRPC) on memory', () => {
  it('plans.create takes the currency prices, customers.create and update a currency; a bad one is BAD_REQUEST and changes nothing', async () => {
    const ledger = await createLedger({ store: createMemoryStore(), clock: new ManualClock(T0), logger: silentLogger });
    const scope = uniqueScope();
    const api = createCaller({ ledger, auth: { kind: 'api_key', scope, keyId: 'key_h6' } });
    const plan = await api.plans.create(global);
    expect(planCurrencies(plan)).toEqual(['USD', 'EUR', 'JPY', 'KWD']);
    const c = await api.customers.create({ email: 'e@example.com', name: 'Eve', currency: 'eur' });
    expect(c.currency).toBe('EUR');
    expect(await codeOf(api.customers.update({ id: c.id, patch: { currency: 'EURO' } }))).toBe('BAD_REQUEST');
    expect(await codeOf(api.plans.update({ id: plan.id, patch: { currencyPrices: [{ currency: 'GBP', basePrice: 1600 }] } }))).toBe('BAD_REQUEST');
    expect((await api.customers.get({ id: c.id })).currency).toBe('EUR');
    expect((await api.plans.getByKey({ key: 'global' })).version).toBe(1);
    const sub = await api.subscriptions.create({ customerId: c.id, planId: plan.id });
    expect(sub.currency).toBe('EUR');
    expect(await api.invoices.preview({ subscriptionId: sub.id })).toMatchObject({ currency: 'EUR', total: 1800 });
  });
});

describe('custom prices in other currencies (memory)', () => {
  it("a custom strategy checks each currency's params: a EUR price of a negative rate is refused, a JPY one priced by the strategy in JPY", async () => {
    // "flat_rate": billable × params.rate, in the currency asked.
    const flatRate = {
      price: ({ billable, params }: { billable: import('@/server/ledger/types').Dec; params: Record<string, unknown> }) => billable.times(String(params.rate)),
      validate: (params: Record<string, unknown>) => (Number(params.rate) >= 0 ? null : 'rate must not be negative'),
    };
    const clock = new ManualClock(T0);
    const ledger = await createLedger({ store: createMemoryStore(), clock, logger: silentLogger, pricing: { strategies: { flat_rate: flatRate } } });
    const scope = uniqueScope();
    const base: CreatePlanInput = {
      key: 'gpu',
      name: 'GPU',
      currency: 'USD',
      interval: { unit: 'month' },
      features: [{ key: 'gpu_s', name: 'GPU seconds', kind: 'metered', aggregation: 'sum', price: { model: 'custom', strategy: 'flat_rate', params: { rate: '0.01' } } }],
    };
    const refused = await rejectsWith(
      ledger.plans.create(scope, { ...base, currencyPrices: [{ currency: 'EUR', features: { gpu_s: { model: 'custom', strategy: 'flat_rate', params: { rate: '-1' } } } }] }),
      'invalid',
    );
    expect(refused.message).toBe('feature "gpu_s": rate must not be negative');
    const plan = await ledger.plans.create(scope, { ...base, currencyPrices: [{ currency: 'JPY', features: { gpu_s: { model: 'custom', strategy: 'flat_rate', params: { rate: '1.5' } } } }] });
    const customer = await ledger.customers.create(scope, { email: 'g@example.com', name: 'G', currency: 'JPY' });
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    clock.set('2025-01-20T00:00:00Z');
    await ledger.meter.meterDurable(scope, [{ idempotencyKey: 'g1', customerId: customer.id, featureKey: 'gpu_s', quantity: 1001, timestamp: clock.now().toISOString() }]);
    clock.set('2025-01-21T00:00:00Z');
    // 1,001 s × 1.5 JPY = 1501.5 -> 1502 JPY (rounded once, half away from zero).
    const preview = (await upcomingInvoice({ billing: ledger.billing, invoices: ledger.invoices, now: (s, c) => ledger.now(s, c) }, scope, sub)).invoice;
    expect(preview.lines.map((l) => [l.id, l.amount])).toEqual([['usage:gpu_s', 1502]]);
    expect(preview.currency).toBe('JPY');
  });
});

describe.each(storeFactories())('minimums in other currencies on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  const commit: CreatePlanInput = {
    key: 'commit',
    name: 'Commit',
    currency: 'USD',
    interval: { unit: 'month' },
    basePrice: 2000,
    minimumCommitment: 10000,
    features: [{ key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', price: { model: 'per_unit', unitPrice: '0.002', minimum: 500 } }],
    currencyPrices: [{ currency: 'JPY', basePrice: 3000, minimumCommitment: 15000, features: { api_calls: { model: 'per_unit', unitPrice: '0.3', minimum: 750 } } }],
  };

  it('a commitment and a per-charge minimum are stated in every currency, or the plan is refused', async () => {
    const ledger = await createLedger({ store: store(), clock: new ManualClock(T0), logger: silentLogger });
    const scope = uniqueScope();
    const e = await rejectsWith(
      ledger.plans.create(scope, { ...commit, currencyPrices: [{ currency: 'JPY', basePrice: 3000, features: { api_calls: { model: 'per_unit', unitPrice: '0.3' } } }] }),
      'invalid',
    );
    expect(e.issues.map((i) => [i.path, i.message])).toEqual([
      ['currencyPrices.0.features.api_calls', 'feature "api_calls" in JPY: the main currency\'s price has a minimum: state it in this currency too'],
      ['currencyPrices.0.minimumCommitment', 'the plan has a minimum commitment and needs one in JPY'],
    ]);
    await rejectsWith(ledger.plans.getByKey(scope, 'commit'), 'not_found');
  });

  it('a JPY subscription with no usage: the 750 JPY minimum of API calls and the 15000 JPY commitment less its 3000 fee and that 750 (11250 JPY), never the USD numbers', async () => {
    const clock = new ManualClock(T0);
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger, invoices: { finalizeGraceMs: HOUR } });
    const scope = uniqueScope();
    const plan = await ledger.plans.create(scope, commit);
    expect(pricesIn(plan, 'JPY').minimumCommitment).toBe(15000);
    const customer = await ledger.customers.create(scope, { email: 'm@example.com', name: 'M', currency: 'JPY' });
    await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    clock.set('2025-02-15T10:00:00Z');
    await ledger.billing.run(scope);
    const [, cycle] = (await ledger.invoices.listByCustomer(scope, customer.id)).items.sort((a, b) => a.issueAt.getTime() - b.issueAt.getTime());
    expect(cycle!.currency).toBe('JPY');
    expect(cycle!.lines.map((l) => [l.description, l.amount])).toEqual([
      ['API calls: 0 units', 0],
      ['API calls: minimum of ¥750 per period, true-up', 750],
      ['Minimum commitment true-up', 11250],
      ['Commit plan', 3000],
    ]);
  });
});
