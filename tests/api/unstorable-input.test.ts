import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, silentLogger, type Ledger } from '@/server/ledger';
import { createCaller } from '@/server/trpc/root';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * Input PostgreSQL cannot store is bad input (BAD_REQUEST naming the field), never a 500
 * and never a silent rewrite: a NUL, an unpaired surrogate, a date beyond 9999, a country
 * that is not one. Every case goes through appRouter with an API-key context, on PGlite
 * (and on the PostgreSQL server at TEST_DATABASE_URL when it is set), and checks that
 * nothing in the scope changed.
 */

const TEXT: [string, string][] = [
  ['NUL', 'a\u0000b'],
  ['a lone surrogate', 'a\uD800b'],
];
const DATE: [string, unknown][] = [
  ['year 10000 as a Date', new Date('+010000-01-01T00:00:00Z')],
  ['year 10000 as a string', '+010000-01-01T00:00:00Z'],
  ['year 1969', '1969-12-31T23:59:59Z'],
];
const COUNTRY: [string, string][] = [
  ['ZZ', 'ZZ'],
  ['UK', 'uk'],
  ['NUL', 'G\u0000'],
];

type Kind = 'text' | 'date' | 'country';
const valuesOf = (kind: Kind): [string, unknown][] => (kind === 'text' ? TEXT : kind === 'date' ? DATE : COUNTRY);

/** The fields a BAD_REQUEST names, whichever layer (tRPC input or engine) refused it. */
async function refusedFields(p: Promise<unknown>): Promise<string[]> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e, 'the call should have been refused').toBeInstanceOf(TRPCError);
  expect((e as TRPCError).code).toBe('BAD_REQUEST');
  const issues = ((e as TRPCError).cause as { issues?: { path: unknown }[] } | undefined)?.issues ?? [];
  const pathOf = (path: unknown) =>
    Array.isArray(path) ? path.map((s) => (typeof s === 'object' && s !== null ? (s as { key: unknown }).key : s)).join('.') : String(path);
  return [...new Set(issues.map((i) => pathOf(i.path)))];
}

const targets = storeFactories().filter((f) => f.name !== 'memory');

describe.each(targets)('unstorable input is BAD_REQUEST on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let ledger: Ledger;
  let api: ReturnType<typeof createCaller>;
  let customerId: string;
  let planId: string;
  let subscriptionId: string;
  let couponId: string;
  let taxRateId: string;
  let invoiceId: string;
  let eventAt: string;

  beforeAll(async () => {
    ledger = await createLedger({ store: store(), logger: silentLogger });
    api = createCaller({ ledger, auth: { kind: 'api_key', scope: uniqueScope(), keyId: 'key_test' } });
    const plan = await api.plans.create({
      key: 'pro',
      name: 'Pro',
      currency: 'USD',
      interval: { unit: 'month' },
      basePrice: 1000,
      features: [
        { key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum' },
        { key: 'seats', name: 'Seats', kind: 'licensed' },
      ],
    });
    planId = plan.id;
    customerId = (await api.customers.create({ email: 'ada@example.com', name: 'Ada', externalId: 'ext-1', country: 'GB' })).id;
    couponId = (await api.coupons.create({ code: 'WELCOME', name: 'Welcome', percentOff: '10', duration: 'once' })).id;
    taxRateId = (await api.taxRates.create({ displayName: 'VAT', country: 'GB', percentage: '20' })).id;
    const sub = await api.subscriptions.create({ customerId, planId, trialDays: 0 });
    subscriptionId = sub.id;
    eventAt = new Date(sub.currentPeriodStart.getTime() + 1000).toISOString();
    const invoices = await api.invoices.listByCustomer({ customerId });
    expect(invoices.items.map((i) => i.status)).toEqual(['open']);
    invoiceId = invoices.items[0]!.id;
  });
  afterAll(() => ledger.shutdown());

  /** Everything in the scope a refused call could have changed. */
  const world = async () =>
    JSON.stringify([
      await api.customers.list({ limit: 100 }),
      await api.plans.list({ limit: 100, includeArchived: true }),
      await api.coupons.list({ limit: 100 }),
      await api.taxRates.list({ limit: 100, includeInactive: true }),
      await api.subscriptions.listByCustomer({ customerId, page: { limit: 100 } }),
      await api.invoices.listByCustomer({ customerId, page: { limit: 100 } }),
      await api.invoices.creditNotes.list({ invoiceId }),
      await api.usage.summary({ customerId }),
    ]);

  const customer = { email: 'new@example.com', name: 'New' };
  const plan = { key: 'team', name: 'Team', currency: 'USD', interval: { unit: 'month' as const } };
  const metered = { key: 'api_calls', name: 'API calls', kind: 'metered' as const, aggregation: 'sum' as const };
  const coupon = { code: 'SPRING', name: 'Spring', percentOff: '5', duration: 'once' as const };
  const rate = { displayName: 'Sales tax', country: 'US', region: 'CA', percentage: '7.25' };
  const event = (extra: object) => ({ idempotencyKey: 'evt-1', customerId, featureKey: 'api_calls', quantity: 1, timestamp: eventAt, ...extra });

  /** [procedure, field as the error names it, kind of value, the call with the value in that field] */
  const cases: [string, string, Kind, (v: any) => Promise<unknown>][] = [
    ['customers.create', 'externalId', 'text', (v) => api.customers.create({ ...customer, externalId: v })],
    ['customers.create', 'email', 'text', (v) => api.customers.create({ ...customer, email: `n${v}@example.com` })],
    ['customers.create', 'name', 'text', (v) => api.customers.create({ ...customer, name: v })],
    ['customers.create', 'region', 'text', (v) => api.customers.create({ ...customer, region: v })],
    ['customers.create', 'taxId', 'text', (v) => api.customers.create({ ...customer, taxId: v })],
    ['customers.create', 'address.line1', 'text', (v) => api.customers.create({ ...customer, address: { line1: v, city: 'London' } })],
    ['customers.create', 'address.city', 'text', (v) => api.customers.create({ ...customer, address: { line1: '1 High St', city: v } })],
    ['customers.create', 'address.postalCode', 'text', (v) => api.customers.create({ ...customer, address: { line1: '1 High St', city: 'London', postalCode: v } })],
    ['customers.create', 'metadata', 'text', (v) => api.customers.create({ ...customer, metadata: { [v]: 'x' } })],
    ['customers.create', 'metadata.crm', 'text', (v) => api.customers.create({ ...customer, metadata: { crm: v } })],
    ['customers.create', 'country', 'country', (v) => api.customers.create({ ...customer, country: v })],
    ['customers.update', 'patch.name', 'text', (v) => api.customers.update({ id: customerId, patch: { name: v } })],
    ['customers.update', 'patch.externalId', 'text', (v) => api.customers.update({ id: customerId, patch: { externalId: v } })],
    ['customers.update', 'patch.metadata.crm', 'text', (v) => api.customers.update({ id: customerId, patch: { metadata: { crm: v } } })],
    ['customers.update', 'patch.address.state', 'text', (v) => api.customers.update({ id: customerId, patch: { address: { line1: '1 High St', city: 'London', state: v } } })],
    ['customers.update', 'patch.country', 'country', (v) => api.customers.update({ id: customerId, patch: { country: v } })],
    ['customers.getByExternalId', 'externalId', 'text', (v) => api.customers.getByExternalId({ externalId: v })],
    ['customers.list', 'cursor', 'text', (v) => api.customers.list({ cursor: v })],
    ['customers.get', 'id', 'text', (v) => api.customers.get({ id: `cst_${v}` })],

    ['plans.create', 'name', 'text', (v) => api.plans.create({ ...plan, name: v })],
    ['plans.create', 'description', 'text', (v) => api.plans.create({ ...plan, description: v })],
    ['plans.create', 'key', 'text', (v) => api.plans.create({ ...plan, key: v })],
    ['plans.create', 'metadata', 'text', (v) => api.plans.create({ ...plan, metadata: { [v]: 'x' } })],
    ['plans.create', 'metadata.tier', 'text', (v) => api.plans.create({ ...plan, metadata: { tier: v } })],
    ['plans.create', 'features.0.name', 'text', (v) => api.plans.create({ ...plan, features: [{ ...metered, name: v }] })],
    ['plans.create', 'features.0.unitName', 'text', (v) => api.plans.create({ ...plan, features: [{ ...metered, unitName: v }] })],
    ['plans.create', 'features.0.uniqueProperty', 'text', (v) => api.plans.create({ ...plan, features: [{ ...metered, aggregation: 'unique_count', uniqueProperty: v }] })],
    ['plans.update', 'patch.name', 'text', (v) => api.plans.update({ id: planId, patch: { name: v } })],
    ['plans.update', 'patch.description', 'text', (v) => api.plans.update({ id: planId, patch: { description: v } })],
    ['plans.update', 'patch.metadata.tier', 'text', (v) => api.plans.update({ id: planId, patch: { metadata: { tier: v } } })],
    ['plans.update', 'patch.features.0.unitName', 'text', (v) => api.plans.update({ id: planId, patch: { features: [{ ...metered, unitName: v }] } })],
    ['plans.getByKey', 'key', 'text', (v) => api.plans.getByKey({ key: v })],
    ['plans.list', 'cursor', 'text', (v) => api.plans.list({ cursor: v })],

    ['subscriptions.create', 'couponCode', 'text', (v) => api.subscriptions.create({ customerId, planId, couponCode: v })],
    ['subscriptions.create', 'metadata', 'text', (v) => api.subscriptions.create({ customerId, planId, metadata: { [v]: 'x' } })],
    ['subscriptions.create', 'metadata.source', 'text', (v) => api.subscriptions.create({ customerId, planId, metadata: { source: v } })],
    ['subscriptions.create', 'priceOverrides.features', 'text', (v) => api.subscriptions.create({ customerId, planId, priceOverrides: { features: { [v]: { model: 'flat', amount: 1 } } } })],
    ['subscriptions.applyCoupon', 'code', 'text', (v) => api.subscriptions.applyCoupon({ id: subscriptionId, code: v })],
    ['subscriptions.listByCustomer', 'page.cursor', 'text', (v) => api.subscriptions.listByCustomer({ customerId, page: { cursor: v } })],

    ['coupons.create', 'code', 'text', (v) => api.coupons.create({ ...coupon, code: `SPRING${v}` })],
    ['coupons.create', 'name', 'text', (v) => api.coupons.create({ ...coupon, name: v })],
    ['coupons.create', 'metadata', 'text', (v) => api.coupons.create({ ...coupon, metadata: { [v]: 'x' } })],
    ['coupons.create', 'metadata.campaign', 'text', (v) => api.coupons.create({ ...coupon, metadata: { campaign: v } })],
    ['coupons.create', 'expiresAt', 'date', (v) => api.coupons.create({ ...coupon, expiresAt: v })],
    ['coupons.update', 'patch.name', 'text', (v) => api.coupons.update({ id: couponId, patch: { name: v } })],
    ['coupons.update', 'patch.metadata.campaign', 'text', (v) => api.coupons.update({ id: couponId, patch: { metadata: { campaign: v } } })],
    ['coupons.update', 'patch.expiresAt', 'date', (v) => api.coupons.update({ id: couponId, patch: { expiresAt: v } })],
    ['coupons.getByCode', 'code', 'text', (v) => api.coupons.getByCode({ code: v })],
    ['coupons.redeem', 'code', 'text', (v) => api.coupons.redeem({ subscriptionId, code: v })],
    ['coupons.list', 'cursor', 'text', (v) => api.coupons.list({ cursor: v })],

    ['taxRates.create', 'displayName', 'text', (v) => api.taxRates.create({ ...rate, displayName: v })],
    ['taxRates.create', 'region', 'text', (v) => api.taxRates.create({ ...rate, region: v })],
    ['taxRates.create', 'description', 'text', (v) => api.taxRates.create({ ...rate, description: v })],
    ['taxRates.create', 'country', 'country', (v) => api.taxRates.create({ ...rate, country: v })],
    ['taxRates.update', 'patch.displayName', 'text', (v) => api.taxRates.update({ id: taxRateId, patch: { displayName: v } })],
    ['taxRates.update', 'patch.description', 'text', (v) => api.taxRates.update({ id: taxRateId, patch: { description: v } })],
    ['taxRates.list', 'cursor', 'text', (v) => api.taxRates.list({ cursor: v })],
    ['taxRates.list', 'country', 'country', (v) => api.taxRates.list({ country: v })],

    ['invoices.creditNotes.create', 'memo', 'text', (v) => api.invoices.creditNotes.create({ invoiceId, amount: 100, reason: 'billing_error', memo: v })],
    ['invoices.void', 'reason', 'text', (v) => api.invoices.void({ id: invoiceId, reason: v })],
    ['invoices.listByCustomer', 'page.cursor', 'text', (v) => api.invoices.listByCustomer({ customerId, page: { cursor: v } })],

    ['entitlements.check', 'featureKey', 'text', (v) => api.entitlements.check({ customerId, featureKey: v })],

    ['usage.record', 'events.0.idempotencyKey', 'text', (v) => api.usage.record(event({ idempotencyKey: v }))],
    ['usage.record', 'events.0.featureKey', 'text', (v) => api.usage.record(event({ featureKey: v }))],
    ['usage.record', 'events.0.customerId', 'text', (v) => api.usage.record(event({ customerId: `cst_${v}` }))],
    ['usage.record', 'events.0.properties', 'text', (v) => api.usage.record(event({ properties: { [v]: 1 } }))],
    ['usage.record', 'events.0.properties.user', 'text', (v) => api.usage.record(event({ properties: { user: v } }))],
    ['usage.record', 'events.0.timestamp', 'date', (v) => api.usage.record({ events: [event({ timestamp: v })] })],
  ];

  const expanded = cases.flatMap(([proc, field, kind, call]) =>
    valuesOf(kind).map(([valueName, value]) => [`${proc} ${field}: ${valueName}`, field, value, call] as const),
  );

  it.each(expanded)('%s', async (_name, field, value, call) => {
    const before = await world();
    expect(await refusedFields(call(value))).toEqual([field]);
    expect(await world()).toBe(before);
  });

  it('stores what it accepts exactly: surrogate pairs and other scripts read back as written', async () => {
    const name = 'Zoë 東京 😀';
    const created = await api.customers.create({ email: 'zoe@example.com', name, metadata: { 'ключ 🔑': 'значение 😀' } });
    expect(created.name).toBe(name);
    const read = await api.customers.get({ id: created.id });
    expect(read.name).toBe(name);
    expect(read.metadata).toEqual({ 'ключ 🔑': 'значение 😀' });
    const p = await api.plans.create({ ...plan, key: 'emoji', features: [{ ...metered, unitName: '😀 calls' }] });
    expect((await api.plans.get({ id: p.id })).features[0]).toMatchObject({ unitName: '😀 calls' });
  });

  it('takes the last instant of the range, 9999-12-31T23:59:59.999Z, and stores it', async () => {
    const c = await api.coupons.create({ ...coupon, code: 'FOREVER', expiresAt: '9999-12-31T23:59:59.999Z' });
    expect((await api.coupons.get({ id: c.id })).expiresAt).toEqual(new Date('9999-12-31T23:59:59.999Z'));
  });
});
