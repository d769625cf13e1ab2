import { TRPCError } from '@trpc/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLedger, scope, silentLogger, type Ledger } from '@/server/ledger';
import { createCaller } from '@/server/trpc/root';
import { codeOf } from '../support/trpc';

/** Procedures called through createCaller: no HTTP, the real router and engine. */
let ledger: Ledger;
const acme = scope('acme', 'billing');
const api = () => createCaller({ ledger, auth: { kind: 'api_key', scope: acme, keyId: 'key_test' } });

const proPlan = {
  key: 'pro',
  name: 'Pro',
  currency: 'usd',
  interval: { unit: 'month' as const },
  basePrice: 4900,
  trialDays: 7,
  features: [
    { key: 'api_calls', name: 'API calls', kind: 'metered' as const, aggregation: 'sum' as const, price: { model: 'per_unit' as const, unitPrice: '0.0004' } },
    { key: 'seats', name: 'Seats', kind: 'licensed' as const, limit: 5 },
  ],
};

beforeAll(async () => {
  ledger = await createLedger({ logger: silentLogger });
});

describe('tRPC procedures', () => {
  it('creates a plan, a customer and a trialing subscription, and reads them back', async () => {
    const plan = await api().plans.create(proPlan);
    expect(plan.id).toMatch(/^pln_/);
    expect(plan.currency).toBe('USD');
    const customer = await api().customers.create({ email: 'ada@example.com', name: 'Ada', country: 'gb' });
    expect(customer.country).toBe('GB');
    const sub = await api().subscriptions.create({ customerId: customer.id, planId: plan.id, quantity: 2 });
    expect(sub.status).toBe('trialing');
    expect((await api().subscriptions.get({ id: sub.id })).quantity).toBe(2);
    const listed = await api().subscriptions.listByCustomer({ customerId: customer.id });
    expect(listed.items.map((s) => s.id)).toEqual([sub.id]);
    expect((await api().plans.getByKey({ key: 'pro' })).id).toBe(plan.id);
  });

  it('pages customers with a cursor', async () => {
    for (let i = 0; i < 5; i++) await api().customers.create({ email: `p${i}@example.com`, name: `P${i}` });
    const first = await api().customers.list({ limit: 3 });
    expect(first.items).toHaveLength(3);
    expect(first.nextCursor).not.toBeNull();
    const second = await api().customers.list({ limit: 3, cursor: first.nextCursor! });
    const ids = [...first.items, ...second.items].map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('maps engine errors to tRPC codes once', async () => {
    // not_found -> NOT_FOUND
    expect(await codeOf(api().customers.get({ id: 'cst_01h455vb4pex5vsknk084sn02q' }))).toBe('NOT_FOUND');
    // conflict -> CONFLICT
    expect(await codeOf(api().plans.create(proPlan))).toBe('CONFLICT');
    // a wrong-prefixed id is bad input
    expect(await codeOf(api().plans.get({ id: 'inv_01h455vb4pex5vsknk084sn02q' }))).toBe('BAD_REQUEST');
    // illegal_state -> PRECONDITION_FAILED
    const c = await api().customers.create({ email: 'x@example.com', name: 'X' });
    const plan = await api().plans.getByKey({ key: 'pro' });
    const sub = await api().subscriptions.create({ customerId: c.id, planId: plan.id, trialDays: 0 });
    await api().subscriptions.cancel({ id: sub.id, at: 'now' });
    expect(await codeOf(api().subscriptions.cancel({ id: sub.id, at: 'now' }))).toBe('PRECONDITION_FAILED');
  });

  it('rejects bad input with BAD_REQUEST and stores nothing', async () => {
    const before = (await api().plans.list({ includeArchived: true })).items.length;
    const bad = [
      { ...proPlan, key: 'neg', basePrice: -1 },
      { ...proPlan, key: 'cur', currency: 'ABC' },
      { ...proPlan, key: 'frac', basePrice: 10.5 },
      {
        ...proPlan,
        key: 'gap',
        features: [{ key: 'x', name: 'X', kind: 'metered' as const, aggregation: 'sum' as const, price: { model: 'graduated' as const, tiers: [{ upTo: 100, unitPrice: '1' }] } }],
      },
    ];
    for (const input of bad) expect(await codeOf(api().plans.create(input as never))).toBe('BAD_REQUEST');
    expect((await api().plans.list({ includeArchived: true })).items.length).toBe(before);
  });

  it('says which field is wrong', async () => {
    const e = await api()
      .customers.create({ email: 'not-an-email', name: 'N' })
      .catch((err: TRPCError) => err);
    expect(e).toBeInstanceOf(TRPCError);
    expect((e as TRPCError).message).toMatch(/email/);
  });

  it('entitlements.check, usage.record and usage.summary: usage recorded is counted against the limit at once', async () => {
    const plan = await api().plans.create({
      key: 'metered',
      name: 'Metered',
      currency: 'USD',
      interval: { unit: 'month' },
      features: [{ key: 'calls', name: 'Calls', kind: 'metered', aggregation: 'sum', limit: 10 }],
    });
    const c = await api().customers.create({ email: 'm@example.com', name: 'M' });
    await api().subscriptions.create({ customerId: c.id, planId: plan.id });
    expect(await api().entitlements.check({ customerId: c.id, featureKey: 'calls' })).toEqual({
      allowed: true, limit: 10, used: 0, remaining: 10, reason: 'within_limit',
    });
    const now = new Date().toISOString();
    const results = await api().usage.record({
      events: [
        { idempotencyKey: 'r1', customerId: c.id, featureKey: 'calls', quantity: 6, timestamp: now },
        { idempotencyKey: 'r1', customerId: c.id, featureKey: 'calls', quantity: 6, timestamp: now },
        { idempotencyKey: 'r2', customerId: c.id, featureKey: 'nope', quantity: 1, timestamp: now },
      ],
    });
    expect(results.map((r) => r.outcome.status)).toEqual(['accepted', 'duplicate', 'rejected']);
    expect(await api().entitlements.check({ customerId: c.id, featureKey: 'calls' })).toMatchObject({ used: 6, remaining: 4 });
    const summary = await api().usage.summary({ customerId: c.id });
    expect(summary.features).toEqual([
      expect.objectContaining({ featureKey: 'calls', used: 6, limit: 10, remaining: 4, allowed: true }),
    ]);
    expect(summary.features[0]!.period.end.getTime() - summary.features[0]!.period.start.getTime()).toBeGreaterThan(27 * 86_400_000);
  });

  it('entitlement and usage input errors: a wrong-prefixed id, an empty feature key, a negative quantity', async () => {
    expect(await codeOf(api().entitlements.check({ customerId: 'pln_01h455vb4pex5vsknk084sn02q', featureKey: 'calls' }))).toBe('BAD_REQUEST');
    expect(await codeOf(api().entitlements.check({ customerId: 'cst_01h455vb4pex5vsknk084sn02q', featureKey: '' }))).toBe('BAD_REQUEST');
    expect(await codeOf(api().entitlements.check({ customerId: 'cst_01h455vb4pex5vsknk084sn02q', featureKey: 'calls' }))).toBe('NOT_FOUND');
    expect(
      await codeOf(api().usage.record({ events: [{ idempotencyKey: 'n', customerId: 'cst_01h455vb4pex5vsknk084sn02q', featureKey: 'calls', quantity: -1, timestamp: new Date().toISOString() }] })),
    ).toBe('BAD_REQUEST');
  });

  it('refuses every procedure without an API key', async () => {
    const anonymous = createCaller({ ledger, auth: null });
    expect(await codeOf(anonymous.plans.list({}))).toBe('UNAUTHORIZED');
    expect(await codeOf(anonymous.customers.create({ email: 'a@example.com', name: 'A' }))).toBe('UNAUTHORIZED');
    expect((await ledger.customers.list(acme, { limit: 100 })).items.some((c) => c.email === 'a@example.com')).toBe(false);
  });
});
