import { TRPCError } from '@trpc/server';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLedger, silentLogger, type Ledger, type Scope } from '@/server/ledger';
import { createCaller } from '@/server/trpc/root';
import { uniqueScope } from '../support/stores';

/** taxRates.* through createCaller: the real router and engine, no HTTP. */
let ledger: Ledger;
let scope: Scope;
const api = (s: Scope = scope) => createCaller({ ledger, auth: { kind: 'api_key', scope: s, keyId: 'key_test' } });

const gbVat = { displayName: 'VAT', country: 'gb', percentage: '20', inclusive: true };
const UNKNOWN_ID = 'txr_01h455vb4pex5vsknk084sn02q';

async function errorOf(p: Promise<unknown>): Promise<TRPCError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TRPCError);
  return e as TRPCError;
}
const codeOf = async (p: Promise<unknown>) => (await errorOf(p)).code;

beforeAll(async () => {
  ledger = await createLedger({ logger: silentLogger });
});
beforeEach(() => {
  scope = uniqueScope();
});

describe('taxRates procedures', () => {
  it('creates, reads, lists and updates a rate', async () => {
    const vat = await api().taxRates.create(gbVat);
    expect(vat).toMatchObject({ displayName: 'VAT', country: 'GB', region: null, percentage: '20', inclusive: true, active: true });
    expect(vat.id).toMatch(/^txr_/);
    expect(vat.createdAt).toBeInstanceOf(Date);
    expect(await api().taxRates.get({ id: vat.id })).toEqual(vat);

    const ca = await api().taxRates.create({ displayName: 'CA sales tax', country: 'US', region: 'CA', percentage: '7.250' });
    expect(ca.percentage).toBe('7.25');
    expect((await api().taxRates.list()).items.map((r) => r.id)).toEqual([vat.id, ca.id]);
    expect((await api().taxRates.list({ country: 'US' })).items.map((r) => r.id)).toEqual([ca.id]);

    const retired = await api().taxRates.update({ id: vat.id, patch: { active: false, description: 'Until 2026' } });
    expect(retired).toMatchObject({ active: false, description: 'Until 2026', percentage: '20' });
    expect((await api().taxRates.list()).items.map((r) => r.id)).toEqual([ca.id]);
    expect((await api().taxRates.list({ includeInactive: true })).items.map((r) => r.id)).toEqual([vat.id, ca.id]);
  });

  it('bad input is BAD_REQUEST, names the field, and stores nothing', async () => {
    for (const bad of [
      { ...gbVat, percentage: '-1' },
      { ...gbVat, percentage: '101' },
      { ...gbVat, percentage: 'abc' },
      { ...gbVat, country: 'USA' },
    ]) {
      const e = await errorOf(api().taxRates.create(bad));
      expect(e.code).toBe('BAD_REQUEST');
      expect(e.message).toMatch(bad.country === 'USA' ? /country/ : /percentage/);
    }
    expect((await api().taxRates.list({ includeInactive: true })).items).toEqual([]);
    expect(await codeOf(api().taxRates.get({ id: 'cst_01h455vb4pex5vsknk084sn02q' }))).toBe('BAD_REQUEST');
  });

  it('changing a percentage is BAD_REQUEST and leaves the rate as it was', async () => {
    const vat = await api().taxRates.create(gbVat);
    const e = await errorOf(api().taxRates.update({ id: vat.id, patch: { percentage: '22' } as never }));
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toMatch(/percentage/);
    expect(await api().taxRates.get({ id: vat.id })).toEqual(vat);
  });

  it('an unknown rate is NOT_FOUND, and so is another tenant\'s', async () => {
    expect(await codeOf(api().taxRates.get({ id: UNKNOWN_ID }))).toBe('NOT_FOUND');
    expect(await codeOf(api().taxRates.update({ id: UNKNOWN_ID, patch: { active: false } }))).toBe('NOT_FOUND');
    const vat = await api().taxRates.create(gbVat);
    const other = uniqueScope();
    expect(await codeOf(api(other).taxRates.get({ id: vat.id }))).toBe('NOT_FOUND');
    expect((await api(other).taxRates.list({ includeInactive: true })).items).toEqual([]);
  });

  it('a second active rate for a country is CONFLICT, and so is reactivating the old one', async () => {
    const vat = await api().taxRates.create(gbVat);
    expect(await codeOf(api().taxRates.create({ ...gbVat, percentage: '22' }))).toBe('CONFLICT');
    await api().taxRates.update({ id: vat.id, patch: { active: false } });
    await api().taxRates.create({ ...gbVat, percentage: '22' });
    expect(await codeOf(api().taxRates.update({ id: vat.id, patch: { active: true } }))).toBe('CONFLICT');
    expect((await api().taxRates.list({ country: 'GB' })).items.map((r) => r.percentage)).toEqual(['22']);
  });

  it('every procedure is UNAUTHORIZED without an API key, and nothing is stored', async () => {
    const anon = createCaller({ ledger, auth: null });
    expect(await codeOf(anon.taxRates.create(gbVat))).toBe('UNAUTHORIZED');
    expect(await codeOf(anon.taxRates.get({ id: UNKNOWN_ID }))).toBe('UNAUTHORIZED');
    expect(await codeOf(anon.taxRates.list())).toBe('UNAUTHORIZED');
    expect(await codeOf(anon.taxRates.update({ id: UNKNOWN_ID, patch: { active: false } }))).toBe('UNAUTHORIZED');
    expect((await api().taxRates.list({ includeInactive: true })).items).toEqual([]);
  });
});
