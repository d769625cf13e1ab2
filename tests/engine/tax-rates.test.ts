import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CreateCustomerInput } from '../../server/ledger/customer/types';
import { taxForLine } from '../../server/ledger/tax/calculate';
import type { CreateTaxRateInput } from '../../server/ledger/tax/types';
import { money, type Scope } from '../../server/ledger/types';
import { DAY, T0, rejectsWith, testEngine, type TestEngine } from '../support/engine';
import { otherAppOf, storeFactories, uniqueScope, useStore } from '../support/stores';

const gbVat: CreateTaxRateInput = { displayName: 'VAT', country: 'GB', percentage: '20', inclusive: true };
const caSalesTax: CreateTaxRateInput = { displayName: 'CA sales tax', country: 'US', region: 'CA', percentage: '7.25' };
const nySalesTax: CreateTaxRateInput = { displayName: 'NY sales tax', country: 'US', region: 'NY', percentage: '4' };
const usDefault: CreateTaxRateInput = { displayName: 'No sales tax', country: 'US', percentage: '0' };

const UNKNOWN_ID = 'txr_01h455vb4pex5vsknk084sn02q';

describe.each(storeFactories())('tax rates ($name store)', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let e: TestEngine;
  beforeEach(async () => {
    e = await testEngine(store());
  });

  const customer = (input: Partial<CreateCustomerInput> = {}, s: Scope = e.scope) =>
    e.ledger.customers.create(s, { email: 'buyer@example.com', name: 'Buyer', ...input });
  const allRates = async (s: Scope = e.scope) =>
    (await e.ledger.taxRates.list(s, { includeInactive: true, limit: 100 })).items;

  describe('create', () => {
    it('stores a 20 % GB VAT with a txr_ id, the clock\'s time, and defaults for what was not given', async () => {
      const r = await e.ledger.taxRates.create(e.scope, { displayName: ' VAT ', country: 'gb', percentage: '20' });
      expect(r.id).toMatch(/^txr_[0-9a-z]{26}$/);
      expect(r).toEqual({
        id: r.id,
        displayName: 'VAT',
        country: 'GB',
        region: null,
        percentage: '20',
        inclusive: false,
        active: true,
        description: '',
        createdAt: T0,
        updatedAt: T0,
      });
      expect(await e.ledger.taxRates.get(e.scope, r.id)).toEqual(r);
    });

    it('keeps one spelling of a percentage: "6.4500" is stored and read back as "6.45", "20.00" as "20"', async () => {
      const a = await e.ledger.taxRates.create(e.scope, { displayName: 'Sales tax', country: 'US', region: 'wa', percentage: '6.4500' });
      const b = await e.ledger.taxRates.create(e.scope, { ...gbVat, percentage: '20.00' });
      expect([a.percentage, b.percentage]).toEqual(['6.45', '20']);
      expect(a.region).toBe('WA');
      expect((await e.ledger.taxRates.get(e.scope, a.id)).percentage).toBe('6.45');
      expect((await e.ledger.taxRates.get(e.scope, b.id)).percentage).toBe('20');
    });

    it('accepts 0 % and 100 %, and 4 decimals ("0.0001")', async () => {
      const zero = await e.ledger.taxRates.create(e.scope, usDefault);
      const full = await e.ledger.taxRates.create(e.scope, { displayName: 'All', country: 'DK', percentage: '100' });
      const tiny = await e.ledger.taxRates.create(e.scope, { displayName: 'Tiny', country: 'NO', percentage: '0.0001' });
      expect([zero.percentage, full.percentage, tiny.percentage]).toEqual(['0', '100', '0.0001']);
      expect(await e.ledger.taxRates.get(e.scope, tiny.id)).toEqual(tiny);
    });

    it('a stored rate is a TaxRate for the tax math: 20 % inclusive of 120.00 GBP is 20.00; 7.25 % on 19.99 USD is 1.45', async () => {
      const vat = await e.ledger.taxRates.get(e.scope, (await e.ledger.taxRates.create(e.scope, gbVat)).id);
      expect(taxForLine(money(12000, 'GBP'), vat).tax).toEqual(money(2000, 'GBP'));
      const ca = await e.ledger.taxRates.get(e.scope, (await e.ledger.taxRates.create(e.scope, caSalesTax)).id);
      // 1999 × 7.25 % = 144.9275 cents -> 145
      expect(taxForLine(money(1999, 'USD'), ca)).toEqual({
        tax: money(145, 'USD'),
        net: money(1999, 'USD'),
        total: money(2144, 'USD'),
      });
    });

    it.each([
      ['percentage "-1"', { percentage: '-1' }, 'percentage'],
      ['percentage "101"', { percentage: '101' }, 'percentage'],
      ['percentage "100.0001"', { percentage: '100.0001' }, 'percentage'],
      ['percentage "abc"', { percentage: 'abc' }, 'percentage'],
      ['percentage with 5 decimals', { percentage: '6.12345' }, 'percentage'],
      ['percentage as a number', { percentage: 20 as never }, 'percentage'],
      ['country "USA"', { country: 'USA' }, 'country'],
      ['an empty region', { region: '  ' }, 'region'],
      ['an empty display name', { displayName: ' ' }, 'displayName'],
    ])('rejects %s as invalid, naming the field, and stores nothing', async (_what, bad, field) => {
      const err = await rejectsWith(e.ledger.taxRates.create(e.scope, { ...gbVat, ...bad }), 'invalid');
      expect(err.issues.map((i) => i.path)).toEqual([field]);
      expect(await allRates()).toEqual([]);
    });

    it('a second active rate for the same country is a conflict; the first is kept', async () => {
      const first = await e.ledger.taxRates.create(e.scope, gbVat);
      const err = await rejectsWith(e.ledger.taxRates.create(e.scope, { ...gbVat, percentage: '17.5' }), 'conflict');
      expect(err.message).toContain('GB');
      expect(await allRates()).toEqual([first]);
    });

    it('a second active rate for the same region is a conflict, whatever the case of the region', async () => {
      const first = await e.ledger.taxRates.create(e.scope, caSalesTax);
      const err = await rejectsWith(e.ledger.taxRates.create(e.scope, { ...caSalesTax, region: 'ca', percentage: '8' }), 'conflict');
      expect(err.message).toContain('US/CA');
      expect(await allRates()).toEqual([first]);
    });

    it('one active rate each for US/CA, US/NY and the US default is fine', async () => {
      const made = [
        await e.ledger.taxRates.create(e.scope, caSalesTax),
        await e.ledger.taxRates.create(e.scope, nySalesTax),
        await e.ledger.taxRates.create(e.scope, usDefault),
      ];
      expect((await allRates()).map((r) => r.id)).toEqual(made.map((r) => r.id).sort());
    });

    it('an inactive rate may sit beside the active one (a prepared rate change)', async () => {
      await e.ledger.taxRates.create(e.scope, gbVat);
      const next = await e.ledger.taxRates.create(e.scope, { ...gbVat, percentage: '22', active: false });
      expect(next.active).toBe(false);
      expect(await allRates()).toHaveLength(2);
    });

    it('the store reads a percentage handed to it as "20.00" back as "20", and no region as null', async () => {
      const r = await e.ledger.taxRates.create(e.scope, gbVat);
      const other = uniqueScope();
      await store().taxRates.insert(other, { ...r, percentage: '20.00' });
      expect(await store().taxRates.get(other, r.id)).toEqual({ ...r, percentage: '20', region: null });
      expect(await store().taxRates.findActive(other, 'GB', null)).toEqual(r);
    });
  });

  describe('read', () => {
    it('rejects an id of another entity as invalid, and an unknown tax rate id as not_found', async () => {
      const c = await customer();
      const err = await rejectsWith(e.ledger.taxRates.get(e.scope, c.id), 'invalid');
      expect(err.message).toContain('"cst_"');
      await rejectsWith(e.ledger.taxRates.get(e.scope, UNKNOWN_ID), 'not_found');
    });

    it('lists active rates oldest first, 2 a page; inactive ones only when asked; by country when asked', async () => {
      const gb = await e.ledger.taxRates.create(e.scope, gbVat);
      const ca = await e.ledger.taxRates.create(e.scope, caSalesTax);
      const ny = await e.ledger.taxRates.create(e.scope, nySalesTax);
      const old = await e.ledger.taxRates.create(e.scope, { ...gbVat, percentage: '17.5', active: false });
      const active = [gb, ca, ny].map((r) => r.id).sort();

      const p1 = await e.ledger.taxRates.list(e.scope, { limit: 2 });
      expect(p1.items.map((r) => r.id)).toEqual(active.slice(0, 2));
      expect(p1.nextCursor).toBe(active[1]);
      const p2 = await e.ledger.taxRates.list(e.scope, { limit: 2, cursor: p1.nextCursor! });
      expect(p2.items.map((r) => r.id)).toEqual(active.slice(2));
      expect(p2.nextCursor).toBeNull();

      expect((await allRates()).map((r) => r.id)).toEqual([...active, old.id].sort());
      expect((await e.ledger.taxRates.list(e.scope, { country: 'us' })).items.map((r) => r.id)).toEqual([ca.id, ny.id].sort());
      expect((await e.ledger.taxRates.list(e.scope, { country: 'GB', includeInactive: true })).items).toEqual([gb, old]);
    });

    it('rejects a bad list filter as invalid', async () => {
      const err = await rejectsWith(e.ledger.taxRates.list(e.scope, { country: 'GBR' }), 'invalid');
      expect(err.issues.map((i) => i.path)).toEqual(['country']);
      await rejectsWith(e.ledger.taxRates.list(e.scope, { limit: 101 }), 'invalid');
    });
  });

  describe('update', () => {
    it('renames and describes a rate, keeps the rest and createdAt, and stamps updatedAt', async () => {
      const r = await e.ledger.taxRates.create(e.scope, gbVat);
      e.clock.advance(DAY);
      const u = await e.ledger.taxRates.update(e.scope, r.id, { displayName: 'UK VAT', description: 'Standard rate' });
      expect(u).toEqual({ ...r, displayName: 'UK VAT', description: 'Standard rate', updatedAt: new Date(T0.getTime() + DAY) });
      expect(await e.ledger.taxRates.get(e.scope, r.id)).toEqual(u);
    });

    it.each([
      ['percentage', { percentage: '17.5' }],
      ['inclusive', { inclusive: false }],
      ['country', { country: 'IE' }],
      ['region', { region: 'NI' }],
    ])('the %s of a rate cannot change: invalid, naming the field, and the rate is unchanged', async (field, patch) => {
      const r = await e.ledger.taxRates.create(e.scope, gbVat);
      const err = await rejectsWith(e.ledger.taxRates.update(e.scope, r.id, patch as never), 'invalid');
      expect(err.issues.map((i) => i.path)).toEqual([field]);
      expect(err.message).toContain('create a new rate');
      expect(await e.ledger.taxRates.get(e.scope, r.id)).toEqual(r);
    });

    it('the store never writes a percentage or inclusive change, even when handed one', async () => {
      const r = await e.ledger.taxRates.create(e.scope, gbVat);
      const wrote = await store().taxRates.update(e.scope, { ...r, percentage: '99', inclusive: false, displayName: 'Renamed' });
      expect(wrote).toBe(true);
      expect(await e.ledger.taxRates.get(e.scope, r.id)).toEqual({ ...r, displayName: 'Renamed' });
    });

    it('rejects an unknown field or a bad value as invalid; an unknown rate is not_found', async () => {
      const r = await e.ledger.taxRates.create(e.scope, gbVat);
      await rejectsWith(e.ledger.taxRates.update(e.scope, r.id, { rate: '5' } as never), 'invalid');
      const err = await rejectsWith(e.ledger.taxRates.update(e.scope, r.id, { displayName: '' }), 'invalid');
      expect(err.issues.map((i) => i.path)).toEqual(['displayName']);
      expect(await e.ledger.taxRates.get(e.scope, r.id)).toEqual(r);
      await rejectsWith(e.ledger.taxRates.update(e.scope, UNKNOWN_ID, { active: false }), 'not_found');
    });

    it('a rate change: deactivate 20 %, create 22 %; the old rate is still readable with its own percentage', async () => {
      const old = await e.ledger.taxRates.create(e.scope, gbVat);
      e.clock.advance(DAY);
      const retired = await e.ledger.taxRates.update(e.scope, old.id, { active: false });
      expect(retired).toMatchObject({ active: false, percentage: '20' });
      const next = await e.ledger.taxRates.create(e.scope, { ...gbVat, percentage: '22' });
      expect(await e.ledger.taxRates.get(e.scope, old.id)).toEqual(retired);
      const gb = await customer({ country: 'GB' });
      expect(await e.ledger.taxRates.rateFor(e.scope, gb)).toEqual({ kind: 'rate', rate: next });
    });

    it('reactivating a rate while another is active for its country and region is a conflict, naming the active one', async () => {
      const old = await e.ledger.taxRates.update(e.scope, (await e.ledger.taxRates.create(e.scope, gbVat)).id, { active: false });
      const current = await e.ledger.taxRates.create(e.scope, { ...gbVat, percentage: '22' });
      const err = await rejectsWith(e.ledger.taxRates.update(e.scope, old.id, { active: true }), 'conflict');
      expect(err.message).toContain(current.id);
      expect(await e.ledger.taxRates.get(e.scope, old.id)).toEqual(old);
      // Once the current one is retired, the old one may come back.
      await e.ledger.taxRates.update(e.scope, current.id, { active: false });
      expect((await e.ledger.taxRates.update(e.scope, old.id, { active: true })).active).toBe(true);
    });

    it('the store itself refuses a second active rate for a place (a rate activated meanwhile)', async () => {
      await e.ledger.taxRates.create(e.scope, caSalesTax);
      const other = await e.ledger.taxRates.create(e.scope, { ...caSalesTax, percentage: '8', active: false });
      await rejectsWith(store().taxRates.update(e.scope, { ...other, active: true }), 'conflict');
      expect((await e.ledger.taxRates.get(e.scope, other.id)).active).toBe(false);
    });
  });

  describe('rateFor', () => {
    const seed = async () => ({
      gb: await e.ledger.taxRates.create(e.scope, gbVat),
      ca: await e.ledger.taxRates.create(e.scope, caSalesTax),
      ny: await e.ledger.taxRates.create(e.scope, nySalesTax),
    });

    it('picks the rate of the customer\'s region first: a California customer pays 7.25 %, whatever the case of its region', async () => {
      const { ca } = await seed();
      await e.ledger.taxRates.create(e.scope, usDefault);
      for (const region of ['CA', 'ca', ' Ca ']) {
        const c = await customer({ country: 'us', region });
        expect(await e.ledger.taxRates.rateFor(e.scope, c)).toEqual({ kind: 'rate', rate: ca });
      }
    });

    it('falls back to the country\'s default rate: a Texas customer gets the US 0 % default, a GB customer 20 % VAT', async () => {
      const { gb } = await seed();
      const usZero = await e.ledger.taxRates.create(e.scope, usDefault);
      const tx = await customer({ country: 'US', region: 'TX' });
      expect(await e.ledger.taxRates.rateFor(e.scope, tx)).toEqual({ kind: 'rate', rate: usZero });
      const london = await customer({ country: 'GB', region: 'ENG' });
      expect(await e.ledger.taxRates.rateFor(e.scope, london)).toEqual({ kind: 'rate', rate: gb });
      const noRegion = await customer({ country: 'US' });
      expect(await e.ledger.taxRates.rateFor(e.scope, noRegion)).toEqual({ kind: 'rate', rate: usZero });
    });

    it('a customer without a region never gets a region\'s rate', async () => {
      await seed();
      const c = await customer({ country: 'US' });
      expect(await e.ledger.taxRates.rateFor(e.scope, c)).toEqual({ kind: 'none', reason: 'No tax rate for US' });
    });

    it('no rate for the region nor the country: none, saying where', async () => {
      await seed();
      const tx = await customer({ country: 'US', region: 'TX' });
      expect(await e.ledger.taxRates.rateFor(e.scope, tx)).toEqual({ kind: 'none', reason: 'No tax rate for US/TX' });
      const fr = await customer({ country: 'FR' });
      expect(await e.ledger.taxRates.rateFor(e.scope, fr)).toEqual({ kind: 'none', reason: 'No tax rate for FR' });
    });

    it('a customer without a country: none, "No billing country"', async () => {
      await seed();
      const c = await customer();
      expect(await e.ledger.taxRates.rateFor(e.scope, c)).toEqual({ kind: 'none', reason: 'No billing country' });
    });

    it('an exempt customer gets no rate, whatever rates exist for its place', async () => {
      await seed();
      for (const place of [{ country: 'GB' }, { country: 'US', region: 'CA' }, {}]) {
        const c = await customer({ ...place, taxStatus: 'exempt' });
        expect(await e.ledger.taxRates.rateFor(e.scope, c)).toEqual({ kind: 'exempt', reason: 'Tax exempt' });
      }
    });

    it('a reverse-charge customer gets no rate; the reason carries its VAT id when it has one', async () => {
      await seed();
      await e.ledger.taxRates.create(e.scope, { displayName: 'MwSt', country: 'DE', percentage: '19' });
      const withId = await customer({ country: 'DE', taxStatus: 'reverse_charge', taxId: 'DE123456789' });
      expect(await e.ledger.taxRates.rateFor(e.scope, withId)).toEqual({
        kind: 'reverse_charge',
        reason: 'Reverse charge: the customer accounts for VAT (VAT id DE123456789)',
      });
      const withoutId = await customer({ country: 'GB', taxStatus: 'reverse_charge' });
      expect(await e.ledger.taxRates.rateFor(e.scope, withoutId)).toEqual({
        kind: 'reverse_charge',
        reason: 'Reverse charge: the customer accounts for VAT',
      });
    });

    it('an inactive rate is never picked: a retired region rate falls back to the default, a retired default to none', async () => {
      const { gb, ca } = await seed();
      const usZero = await e.ledger.taxRates.create(e.scope, usDefault);
      await e.ledger.taxRates.update(e.scope, ca.id, { active: false });
      const caCustomer = await customer({ country: 'US', region: 'CA' });
      expect(await e.ledger.taxRates.rateFor(e.scope, caCustomer)).toEqual({ kind: 'rate', rate: usZero });
      await e.ledger.taxRates.update(e.scope, usZero.id, { active: false });
      expect(await e.ledger.taxRates.rateFor(e.scope, caCustomer)).toEqual({ kind: 'none', reason: 'No tax rate for US/CA' });
      await e.ledger.taxRates.update(e.scope, gb.id, { active: false });
      const gbCustomer = await customer({ country: 'GB' });
      expect(await e.ledger.taxRates.rateFor(e.scope, gbCustomer)).toEqual({ kind: 'none', reason: 'No tax rate for GB' });
      // An inactive rate created as such is not picked either.
      await e.ledger.taxRates.create(e.scope, { ...gbVat, active: false });
      expect((await e.ledger.taxRates.rateFor(e.scope, gbCustomer)).kind).toBe('none');
    });
  });

  describe('tenant isolation', () => {
    it.each([
      ['another tenant', () => uniqueScope()],
      ['another app of the same tenant', (s: Scope) => otherAppOf(s)],
    ])('%s never sees, changes or picks the rates of a scope', async (_what, other) => {
      const gb = await e.ledger.taxRates.create(e.scope, gbVat);
      const ca = await e.ledger.taxRates.create(e.scope, caSalesTax);
      const b = other(e.scope);

      await rejectsWith(e.ledger.taxRates.get(b, gb.id), 'not_found');
      expect(await allRates(b)).toEqual([]);
      await rejectsWith(e.ledger.taxRates.update(b, gb.id, { active: false }), 'not_found');
      expect(await e.ledger.taxRates.get(e.scope, gb.id)).toEqual(gb);

      const bCustomer = await customer({ country: 'US', region: 'CA' }, b);
      expect(await e.ledger.taxRates.rateFor(b, bCustomer)).toEqual({ kind: 'none', reason: 'No tax rate for US/CA' });

      // B's own rates for the same places do not conflict with A's, and each picks its own.
      const bCa = await e.ledger.taxRates.create(b, { ...caSalesTax, percentage: '8' });
      await e.ledger.taxRates.create(b, gbVat);
      expect(await e.ledger.taxRates.rateFor(b, bCustomer)).toEqual({ kind: 'rate', rate: bCa });
      const aCustomer = await customer({ country: 'US', region: 'CA' });
      expect(await e.ledger.taxRates.rateFor(e.scope, aCustomer)).toEqual({ kind: 'rate', rate: ca });
      expect(await allRates()).toHaveLength(2);
    });
  });
});
