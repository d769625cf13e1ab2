import { TRPCError } from '@trpc/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLedger, scope, silentLogger, type Ledger } from '@/server/ledger';
import { createCaller } from '@/server/trpc/root';

/** The coupons router through createCaller: the real router and engine, no HTTP. */
let ledger: Ledger;
const acme = scope('acme', 'billing');
const globex = scope('globex', 'billing');
const api = (s = acme) => createCaller({ ledger, auth: { kind: 'api_key', scope: s, keyId: 'key_test' } });

async function errorOf(p: Promise<unknown>): Promise<TRPCError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TRPCError);
  return e as TRPCError;
}
const codeOf = async (p: Promise<unknown>) => (await errorOf(p)).code;

const UNKNOWN = 'cpn_01h455vb4pex5vsknk084sn02q';

beforeAll(async () => {
  ledger = await createLedger({ logger: silentLogger });
});

describe('coupons procedures', () => {
  it('create, get, getByCode, list, update and archive', async () => {
    const created = await api().coupons.create({
      code: 'launch20',
      name: 'Launch',
      percentOff: '20',
      duration: 'repeating',
      durationPeriods: 3,
      expiresAt: new Date('2099-01-01T00:00:00.000Z'),
      appliesToPlans: ['pro'],
    });
    expect(created).toMatchObject({ code: 'LAUNCH20', percentOff: '20', durationPeriods: 3, status: 'active', timesRedeemed: 0 });
    expect(created.id).toMatch(/^cpn_/);
    expect(created.expiresAt).toEqual(new Date('2099-01-01T00:00:00.000Z'));

    expect(await api().coupons.get({ id: created.id })).toEqual(created);
    expect(await api().coupons.getByCode({ code: 'Launch20' })).toEqual(created);

    const amount = await api().coupons.create({ code: 'FIVE', name: '5 off', amountOff: 500, currency: 'eur', duration: 'forever' });
    expect(amount).toMatchObject({ amountOff: 500, currency: 'EUR', percentOff: null });

    const page1 = await api().coupons.list({ limit: 1 });
    expect(page1.items.map((c) => c.id)).toEqual([created.id]);
    const page2 = await api().coupons.list({ limit: 1, cursor: page1.nextCursor! });
    expect(page2.items.map((c) => c.id)).toEqual([amount.id]);
    expect(page2.nextCursor).toBeNull();

    const updated = await api().coupons.update({ id: created.id, patch: { name: 'Launch week', maxRedemptions: 10 } });
    expect(updated).toMatchObject({ name: 'Launch week', maxRedemptions: 10, percentOff: '20' });
    expect(await api().coupons.get({ id: created.id })).toEqual(updated);

    const archived = await api().coupons.archive({ id: created.id });
    expect(archived.status).toBe('archived');
    expect(await codeOf(api().coupons.update({ id: created.id, patch: { name: 'X' } }))).toBe('PRECONDITION_FAILED');
  });

  it('rejects bad input with BAD_REQUEST, naming the field, and stores nothing', async () => {
    const before = (await api().coupons.list({ limit: 100 })).items.length;
    const bad = [
      { code: 'X', name: 'Short code', percentOff: '10', duration: 'once' },
      { code: 'NOTERMS', name: 'No terms', duration: 'once' },
      { code: 'BOTH', name: 'Both', percentOff: '10', amountOff: 100, currency: 'USD', duration: 'once' },
      { code: 'TOOMUCH', name: 'Too much', percentOff: '150', duration: 'once' },
      { code: 'NOCUR', name: 'No currency', amountOff: 100, duration: 'once' },
      { code: 'REPEAT', name: 'Repeat', percentOff: '10', duration: 'repeating' },
    ];
    for (const input of bad) expect(await codeOf(api().coupons.create(input as never))).toBe('BAD_REQUEST');
    const e = await errorOf(api().coupons.create({ code: 'REPEAT', name: 'Repeat', percentOff: '10', duration: 'repeating' }));
    expect(e.message).toContain('durationPeriods');
    expect((await api().coupons.list({ limit: 100 })).items.length).toBe(before);

    expect(await codeOf(api().coupons.get({ id: 'cst_01h455vb4pex5vsknk084sn02q' }))).toBe('BAD_REQUEST');
    const c = await api().coupons.create({ code: 'BADPATCH', name: 'B', percentOff: '5', duration: 'once' });
    expect(await codeOf(api().coupons.update({ id: c.id, patch: { percentOff: '50' } as never }))).toBe('BAD_REQUEST');
    expect(await codeOf(api().coupons.update({ id: c.id, patch: { maxRedemptions: 0 } }))).toBe('BAD_REQUEST');
    expect(await api().coupons.get({ id: c.id })).toEqual(c);
  });

  it('an unknown id or code is NOT_FOUND', async () => {
    expect(await codeOf(api().coupons.get({ id: UNKNOWN }))).toBe('NOT_FOUND');
    expect(await codeOf(api().coupons.getByCode({ code: 'NOSUCHCODE' }))).toBe('NOT_FOUND');
    expect(await codeOf(api().coupons.update({ id: UNKNOWN, patch: { name: 'X' } }))).toBe('NOT_FOUND');
    expect(await codeOf(api().coupons.archive({ id: UNKNOWN }))).toBe('NOT_FOUND');
  });

  it('a duplicate code, in any case, is CONFLICT', async () => {
    await api().coupons.create({ code: 'DUPE', name: 'First', percentOff: '10', duration: 'once' });
    const e = await errorOf(api().coupons.create({ code: 'dupe', name: 'Second', percentOff: '15', duration: 'once' }));
    expect(e.code).toBe('CONFLICT');
    expect((await api().coupons.getByCode({ code: 'DUPE' })).name).toBe('First');
  });

  it('another tenant\'s key does not reach acme\'s coupons', async () => {
    const c = await api().coupons.create({ code: 'ACMEONLY', name: 'Acme', percentOff: '10', duration: 'once' });
    expect(await codeOf(api(globex).coupons.get({ id: c.id }))).toBe('NOT_FOUND');
    expect(await codeOf(api(globex).coupons.getByCode({ code: 'ACMEONLY' }))).toBe('NOT_FOUND');
    expect(await codeOf(api(globex).coupons.archive({ id: c.id }))).toBe('NOT_FOUND');
    expect((await api(globex).coupons.list({})).items).toEqual([]);
    expect(await api().coupons.get({ id: c.id })).toEqual(c);
  });

  it('every procedure needs an API key: UNAUTHORIZED without one', async () => {
    const anonymous = createCaller({ ledger, auth: null });
    const calls = [
      anonymous.coupons.create({ code: 'ANON', name: 'Anon', percentOff: '10', duration: 'once' }),
      anonymous.coupons.get({ id: UNKNOWN }),
      anonymous.coupons.getByCode({ code: 'ANON' }),
      anonymous.coupons.list({}),
      anonymous.coupons.update({ id: UNKNOWN, patch: { name: 'X' } }),
      anonymous.coupons.archive({ id: UNKNOWN }),
    ];
    for (const call of calls) expect(await codeOf(call)).toBe('UNAUTHORIZED');
    expect(await codeOf(api().coupons.getByCode({ code: 'ANON' }))).toBe('NOT_FOUND');
  });
});
