import { beforeAll, describe, expect, it } from 'vitest';
import { createLedger, scope, silentLogger, type Ledger } from '@/server/ledger';
import { createCaller } from '@/server/trpc/root';
import { codeOf } from '../support/trpc';

/** entitlements.consume through tRPC: the engine's answer, zod at the boundary, engine errors mapped once. */
let ledger: Ledger;
let customerId: string;
const S = scope('consume-trpc', 'app');
const api = () => createCaller({ ledger, auth: { kind: 'api_key', scope: S, keyId: 'key_test' } });

beforeAll(async () => {
  ledger = await createLedger({ logger: silentLogger });
  const plan = await api().plans.create({
    key: 'p',
    name: 'P',
    currency: 'USD',
    interval: { unit: 'month' },
    features: [{ key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', limit: 10 }],
  });
  customerId = (await api().customers.create({ email: 'c@example.com', name: 'C' })).id;
  await api().subscriptions.create({ customerId, planId: plan.id });
});

describe('entitlements.consume (tRPC)', () => {
  it('allows 8 of 10, replays the key, denies 3 more with 2 remaining', async () => {
    const first = await api().entitlements.consume({ customerId, featureKey: 'api_calls', quantity: 8, idempotencyKey: 'k1' });
    expect(first).toEqual({ allowed: true, limit: 10, used: 8, remaining: 2, reason: 'within_limit', recorded: true, replayed: false });
    expect(await api().entitlements.consume({ customerId, featureKey: 'api_calls', quantity: 8, idempotencyKey: 'k1' })).toEqual({ ...first, replayed: true });
    expect(await api().entitlements.consume({ customerId, featureKey: 'api_calls', quantity: '3', idempotencyKey: 'k2' })).toEqual({
      allowed: false,
      limit: 10,
      used: 8,
      remaining: 2,
      reason: 'limit_reached',
      recorded: false,
      replayed: false,
    });
    expect(await api().entitlements.check({ customerId, featureKey: 'api_calls' })).toMatchObject({ used: 8, remaining: 2 });
  });

  it('bad input: BAD_REQUEST; another payload under a key: CONFLICT; an unknown customer: NOT_FOUND; nothing recorded', async () => {
    await api().entitlements.consume({ customerId, featureKey: 'api_calls', quantity: 1, idempotencyKey: 'c1' });
    const used = async () => (await api().entitlements.check({ customerId, featureKey: 'api_calls' })).used;
    const before = await used();
    expect(await codeOf(api().entitlements.consume({ customerId, featureKey: 'api_calls', quantity: 0, idempotencyKey: 'z' }))).toBe('BAD_REQUEST');
    expect(await codeOf(api().entitlements.consume({ customerId, featureKey: 'api_calls', quantity: -2, idempotencyKey: 'z' }))).toBe('BAD_REQUEST');
    expect(await codeOf(api().entitlements.consume({ customerId, featureKey: 'api_calls', quantity: 1, idempotencyKey: '' }))).toBe('BAD_REQUEST');
    expect(await codeOf(api().entitlements.consume({ customerId, featureKey: 'teleport', quantity: 1, idempotencyKey: 'z' }))).toBe('BAD_REQUEST');
    expect(await codeOf(api().entitlements.consume({ customerId, featureKey: 'api_calls', quantity: 2, idempotencyKey: 'c1' }))).toBe('CONFLICT');
    expect(
      await codeOf(api().entitlements.consume({ customerId: 'cst_01jz8zqk6kf0vbq6bmkj1yq8vn', featureKey: 'api_calls', quantity: 1, idempotencyKey: 'z' })),
    ).toBe('NOT_FOUND');
    expect(await used()).toBe(before);
  });
});
