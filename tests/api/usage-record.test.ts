import { TRPCError } from '@trpc/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLedger, newId, scope, silentLogger, type Ledger } from '@/server/ledger';
import { parseMeterBody } from '@/server/http/meter-request';
import { createCaller } from '@/server/trpc/root';
import { usageBatchSchema } from '@/server/trpc/routers/usage';

/** usage.record takes what POST /api/meter takes: one event, an array of up to 1,000, or { events }. */
let ledger: Ledger;
let customerId: string;
const S = scope('usage-record', 'app');
const api = () => createCaller({ ledger, auth: { kind: 'api_key', scope: S, keyId: 'key_test' } });

beforeAll(async () => {
  ledger = await createLedger({ logger: silentLogger });
  const plan = await api().plans.create({
    key: 'p',
    name: 'P',
    currency: 'USD',
    interval: { unit: 'month' },
    features: [{ key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum' }],
  });
  customerId = (await api().customers.create({ email: 'c@example.com', name: 'C' })).id;
  const sub = await api().subscriptions.create({ customerId, planId: plan.id });
  at = new Date(sub.currentPeriodStart.getTime() + 1000).toISOString();
});

/** One instant in the subscription's period for every event, so a resent event is the same payload (a duplicate). */
let at: string;
const ev = (k: string, extra: object = {}) => ({
  idempotencyKey: k,
  customerId,
  featureKey: 'api_calls',
  quantity: 2,
  timestamp: at,
  ...extra,
});

const used = async () => (await api().usage.summary({ customerId })).features[0]!.used;

/** The fields a BAD_REQUEST names, whichever layer refused the input. */
async function refusedFields(p: Promise<unknown>): Promise<string[]> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TRPCError);
  expect((e as TRPCError).code).toBe('BAD_REQUEST');
  const issues = ((e as TRPCError).cause as { issues?: { path: unknown; message: string }[] } | undefined)?.issues ?? [];
  return issues.map((i) => (Array.isArray(i.path) ? i.path.join('.') : String(i.path)));
}

describe('usage.record', () => {
  it('takes one event, an array and { events }, with one result per event as POST /api/meter gives', async () => {
    const before = await used();
    const one = await api().usage.record(ev('shape-1'));
    expect(one.map((r) => [r.idempotencyKey, r.outcome.status])).toEqual([['shape-1', 'accepted']]);
    const array = await api().usage.record([ev('shape-1'), ev('shape-2')]);
    expect(array.map((r) => r.outcome.status)).toEqual(['duplicate', 'accepted']);
    const envelope = await api().usage.record({ events: [ev('shape-2'), ev('shape-3'), ev('shape-3', { quantity: 5 })] });
    expect(envelope.map((r) => r.outcome.status)).toEqual(['duplicate', 'accepted', 'conflict']);
    expect(await used()).toBe(before! + 6);
  });

  it('answers a per-event rejection for an unknown customer, as the route does (422 there)', async () => {
    const [r] = await api().usage.record(ev('unknown-customer', { customerId: newId('customer') }));
    expect(r!.outcome).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/unknown customer/) });
  });

  it('refuses a batch with any malformed event, naming it, and stores nothing of it', async () => {
    const before = await used();
    expect(await refusedFields(api().usage.record([ev('bad-1'), ev('bad-2', { quantity: -3 })]))).toEqual(['events.1.quantity']);
    expect(await refusedFields(api().usage.record({ events: [ev('bad-3', { timestamp: '2026-02-30T00:00:00Z' })] }))).toEqual(['events.0.timestamp']);
    expect(await used()).toBe(before);
  });

  it('refuses a malformed customer id as bad input naming the field, never echoing a 1 MB id', async () => {
    const huge = 'c'.repeat(1_000_000);
    const p = api().usage.record(ev('bad-customer', { customerId: huge }));
    expect(await refusedFields(p)).toEqual(['events.0.customerId']);
    const message = await p.catch((e: TRPCError) => e.message);
    expect(message.length).toBeLessThan(2_000);
    expect(await refusedFields(api().usage.record(ev('bad-customer-2', { customerId: 'acme-42' })))).toEqual(['events.0.customerId']);
  });

  it('refuses an empty batch and one over 1,000', async () => {
    expect(await refusedFields(api().usage.record([]))).toEqual(['events']);
    expect(await refusedFields(api().usage.record({ events: Array.from({ length: 1001 }, (_, i) => ev(`o${i}`)) }))).toEqual(['events']);
  });
});

describe('usage.record and POST /api/meter accept and refuse the same bodies', () => {
  const customer = newId('customer');
  const e = (extra: object = {}) => ({ idempotencyKey: 'k', customerId: customer, featureKey: 'api_calls', quantity: 1, timestamp: '2026-11-25T14:00:00Z', ...extra });
  const bodies: [string, unknown, boolean][] = [
    ['one event', e(), true],
    ['an array', [e(), e({ idempotencyKey: 'k2' })], true],
    ['{ events }', { events: [e()] }, true],
    ['1,000 events', Array.from({ length: 1000 }, (_, i) => e({ idempotencyKey: `k${i}` })), true],
    ['an empty array', [], false],
    ['an empty envelope', { events: [] }, false],
    ['1,001 events', Array.from({ length: 1001 }, (_, i) => e({ idempotencyKey: `k${i}` })), false],
    ['a string', 'event', false],
    ['a number', 42, false],
    ['null', null, false],
    ['a malformed customer id', e({ customerId: 'acme-42' }), false],
    ['a NUL in a property', e({ properties: { user: 'a\u0000' } }), false],
    ['51 properties', e({ properties: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`p${i}`, i])) }), false],
    ['a timestamp of null', e({ timestamp: null }), false],
    ['a timestamp in year 10000', e({ timestamp: '+010000-01-01T00:00:00Z' }), false],
  ];
  it.each(bodies)('%s', (_name, body, ok) => {
    expect(parseMeterBody(JSON.stringify(body)).ok).toBe(ok);
    expect(usageBatchSchema.safeParse(body).success).toBe(ok);
  });
});
