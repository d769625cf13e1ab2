import { TRPCError } from '@trpc/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLedger, scope, silentLogger, type Ledger } from '@/server/ledger';
import { createCaller } from '@/server/trpc/root';

/**
 * Minimums, percentage prices and the rounding setting through the tRPC API (createCaller:
 * the real routers and engine, no HTTP): the plan fields flow through plans.create's zod
 * schema (plan/types.ts), bad input is BAD_REQUEST naming the field and stores nothing.
 */
let ledger: Ledger;
const acme = scope('acme', 'charges');
const api = (s = acme) => createCaller({ ledger, auth: { kind: 'api_key', scope: s, keyId: 'key_test' } });

async function errorOf(p: Promise<unknown>): Promise<TRPCError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TRPCError);
  return e as TRPCError;
}

beforeAll(async () => {
  ledger = await createLedger({ logger: silentLogger });
});

describe('plans with minimums and percentage prices', () => {
  it('plans.create keeps a minimum commitment, a price minimum and a percentage price as given', async () => {
    const plan = await api().plans.create({
      key: 'payments',
      name: 'Payments',
      currency: 'USD',
      interval: { unit: 'month' },
      minimumCommitment: 10000,
      features: [
        { key: 'cards', name: 'Card payments', kind: 'metered', aggregation: 'count', amountProperty: 'amount', price: { model: 'percentage', rate: '2.9', fixedFee: 30, minPerTransaction: 50, maxPerTransaction: 500, minimum: 2000 } },
        { key: 'volume', name: 'Volume', kind: 'metered', aggregation: 'count', amountProperty: 'amount', price: { model: 'graduated_percentage', tiers: [{ upTo: 1000, rate: '1', flatFee: 20000 }, { upTo: null, rate: '2' }] } },
      ],
    });
    expect(plan.minimumCommitment).toBe(10000);
    expect(plan.features.map((f) => (f.kind === 'metered' ? [f.amountProperty, f.price] : null))).toEqual([
      ['amount', { model: 'percentage', rate: '2.9', fixedFee: 30, minPerTransaction: 50, maxPerTransaction: 500, minimum: 2000 }],
      ['amount', { model: 'graduated_percentage', tiers: [{ upTo: 1000, rate: '1', flatFee: 20000 }, { upTo: null, rate: '2', flatFee: 0 }] }],
    ]);
    expect(await api().plans.get({ id: plan.id })).toEqual(plan);
  });

  it('a percentage price without amountProperty, or a fractional commitment: BAD_REQUEST naming the field, nothing stored', async () => {
    const e = await errorOf(
      api().plans.create({
        key: 'bad',
        name: 'Bad',
        currency: 'USD',
        interval: { unit: 'month' },
        minimumCommitment: 10.5,
        features: [{ key: 'cards', name: 'Cards', kind: 'metered', aggregation: 'count', price: { model: 'percentage', rate: '2.9' } }],
      }),
    );
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toMatch(/amountProperty/);
    expect(e.message).toMatch(/minimumCommitment/);
    expect((await api().plans.list({})).items.map((p) => p.key)).not.toContain('bad');
  });
});

describe('settings', () => {
  it('get answers the default; update sets half_even; an unknown mode is BAD_REQUEST and changes nothing', async () => {
    const s = scope('acme', 'rounding');
    expect(await api(s).settings.get()).toEqual({ roundingMode: 'half_away_from_zero' });
    expect(await api(s).settings.update({ roundingMode: 'half_even' })).toEqual({ roundingMode: 'half_even' });
    expect((await errorOf(api(s).settings.update({ roundingMode: 'bankers' } as never))).code).toBe('BAD_REQUEST');
    expect(await api(s).settings.get()).toEqual({ roundingMode: 'half_even' });
    // Per scope: another scope keeps the default.
    expect(await api(scope('acme', 'other')).settings.get()).toEqual({ roundingMode: 'half_away_from_zero' });
  });
});

describe('plans.update and the commitment', () => {
  it('a new commitment makes a new version; null removes it (the plan reads as one created without)', async () => {
    const s = scope('acme', 'commitment');
    const v1 = await api(s).plans.create({ key: 'base', name: 'Base', currency: 'USD', interval: { unit: 'month' }, minimumCommitment: 5000 });
    const v2 = await api(s).plans.update({ id: v1.id, patch: { minimumCommitment: 7500 } });
    expect([v2.version, v2.minimumCommitment]).toEqual([2, 7500]);
    const v3 = await api(s).plans.update({ id: v2.id, patch: { minimumCommitment: null } });
    expect(v3.version).toBe(3);
    expect(v3.minimumCommitment ?? null).toBeNull();
    expect(await api(s).plans.get({ id: v3.id })).toEqual(v3);
  });
});
