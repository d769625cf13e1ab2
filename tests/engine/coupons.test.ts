import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Coupon, CreateCouponInput } from '../../server/ledger/coupon/types';
import { currency, type Scope } from '../../server/ledger/types';
import { DAY, T0, rejectsWith, testEngine, type TestEngine } from '../support/engine';
import { otherAppOf, storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * Coupons through the engine, on every store. A redemption either counts once or fails
 * with a typed error and changes nothing; a capped coupon is never redeemed more often
 * than its cap, however many redeem at once.
 */
const USD = currency('USD');
const EUR = currency('EUR');
const at = (ms: number) => new Date(T0.getTime() + ms);
const proUsd = (when = T0) => ({ planKey: 'pro', currency: USD, at: when });

const percent25: CreateCouponInput = { code: 'summer25', name: 'Summer sale', percentOff: '25', duration: 'once' };
const tenOff: CreateCouponInput = {
  code: 'TENOFF',
  name: '10 dollars off',
  amountOff: 1000,
  currency: 'usd',
  duration: 'repeating',
  durationPeriods: 3,
};

describe.each(storeFactories())('coupons ($name store)', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let e: TestEngine;
  beforeEach(async () => {
    e = await testEngine(store());
  });
  const create = (input: Partial<CreateCouponInput> = {}) => e.ledger.coupons.create(e.scope, { ...percent25, ...input } as CreateCouponInput);
  const stored = (c: Coupon) => e.ledger.coupons.get(e.scope, c.id);

  describe('create', () => {
    it('stores a 25 % once coupon with a cpn_ id, its code upper-case, and defaults', async () => {
      const c = await create();
      expect(c.id).toMatch(/^cpn_[0-9a-z]{26}$/);
      expect(c).toEqual({
        id: c.id,
        code: 'SUMMER25',
        name: 'Summer sale',
        percentOff: '25',
        amountOff: null,
        currency: null,
        duration: 'once',
        durationPeriods: null,
        durationInMonths: null,
        carryOver: false,
        expiresAt: null,
        maxRedemptions: null,
        timesRedeemed: 0,
        appliesToPlans: null,
        status: 'active',
        metadata: {},
        createdAt: T0,
        updatedAt: T0,
      });
      expect(await stored(c)).toEqual(c);
    });

    it('stores a 10.00 USD off coupon for 3 periods, with its expiry, cap, plans and metadata', async () => {
      const expiresAt = at(30 * DAY);
      const c = await e.ledger.coupons.create(e.scope, {
        ...tenOff,
        expiresAt,
        maxRedemptions: 100,
        appliesToPlans: ['pro', 'team', 'pro'],
        metadata: { campaign: 'launch' },
      });
      expect(c).toMatchObject({
        code: 'TENOFF',
        percentOff: null,
        amountOff: 1000,
        currency: 'USD',
        duration: 'repeating',
        durationPeriods: 3,
        expiresAt,
        maxRedemptions: 100,
        appliesToPlans: ['pro', 'team'],
        metadata: { campaign: 'launch' },
      });
      expect(await stored(c)).toEqual(c);
    });

    it('keeps a percentage exactly, in its shortest form: "12.50" is stored and read back as "12.5"', async () => {
      const a = await create({ code: 'HALF-A', percentOff: '12.50' });
      const b = await create({ code: 'TINY_1', percentOff: '0.0001' });
      const c = await create({ code: 'ALL', percentOff: '100' });
      expect([a.percentOff, b.percentOff, c.percentOff]).toEqual(['12.5', '0.0001', '100']);
      expect((await stored(a)).percentOff).toBe('12.5');
      expect((await stored(b)).percentOff).toBe('0.0001');
      expect((await stored(c)).percentOff).toBe('100');
    });

    it('trims and upper-cases the code; a code taken in any case is a conflict and stores nothing', async () => {
      const first = await create({ code: '  Summer25 ' });
      expect(first.code).toBe('SUMMER25');
      const err = await rejectsWith(create({ code: 'summer25', name: 'Another' }), 'conflict');
      expect(err.message).toContain('"SUMMER25"');
      expect((await e.ledger.coupons.list(e.scope)).items).toEqual([first]);
    });

    it.each([
      ['a code too short', { code: 'AB' }, ['code']],
      ['a code with a space', { code: 'SUMMER 25' }, ['code']],
      ['a code of 41 characters', { code: 'X'.repeat(41) }, ['code']],
      ['0 %', { percentOff: '0' }, ['percentOff']],
      ['100.01 %', { percentOff: '100.01' }, ['percentOff']],
      ['5 decimals', { percentOff: '12.34567' }, ['percentOff']],
      ['a negative percentage', { percentOff: '-5' }, ['percentOff']],
      ['a percentage as a number', { percentOff: 25 as unknown as string }, ['percentOff']],
      ['neither percent nor amount', { percentOff: null }, ['percentOff']],
      ['both percent and amount', { amountOff: 500, currency: 'USD' }, ['amountOff']],
      ['a percentage with a currency', { currency: 'USD' }, ['currency']],
      ['an amount without a currency', { percentOff: null, amountOff: 500 }, ['currency']],
      ['a fractional amount', { percentOff: null, amountOff: 10.5, currency: 'USD' }, ['amountOff']],
      ['a zero amount', { percentOff: null, amountOff: 0, currency: 'USD' }, ['amountOff']],
      ['an unknown currency', { percentOff: null, amountOff: 500, currency: 'ABC' }, ['currency']],
      ['repeating without durationPeriods', { duration: 'repeating' as const }, ['durationPeriods']],
      ['repeating 0 periods', { duration: 'repeating' as const, durationPeriods: 0 }, ['durationPeriods']],
      ['durationPeriods on a once coupon', { durationPeriods: 2 }, ['durationPeriods']],
      ['a maxRedemptions of 0', { maxRedemptions: 0 }, ['maxRedemptions']],
      ['an empty plan list', { appliesToPlans: [] }, ['appliesToPlans']],
      ['a bad plan key', { appliesToPlans: ['Pro Plan'] }, ['appliesToPlans.0']],
      ['a bad duration', { duration: 'weekly' as never }, ['duration']],
    ])('rejects %s as invalid, naming the field, and stores nothing', async (_label, input, paths) => {
      const err = await rejectsWith(create(input as Partial<CreateCouponInput>), 'invalid');
      expect(err.issues.map((i) => i.path)).toEqual(paths);
      expect((await e.ledger.coupons.list(e.scope)).items).toEqual([]);
    });

    it('rejects an expiry that is not in the future', async () => {
      const err = await rejectsWith(create({ expiresAt: T0 }), 'invalid');
      expect(err.issues.map((i) => i.path)).toEqual(['expiresAt']);
      expect((await e.ledger.coupons.list(e.scope)).items).toEqual([]);
    });

    it('takes an expiry as an ISO string with an offset', async () => {
      const c = await create({ expiresAt: '2025-02-01T00:00:00+01:00' });
      expect(c.expiresAt).toEqual(new Date('2025-01-31T23:00:00.000Z'));
    });
  });

  describe('read', () => {
    it('finds a coupon by its code in any case; an unknown code is not_found', async () => {
      const c = await create();
      expect(await e.ledger.coupons.getByCode(e.scope, 'Summer25')).toEqual(c);
      expect(await e.ledger.coupons.getByCode(e.scope, ' SUMMER25 ')).toEqual(c);
      const err = await rejectsWith(e.ledger.coupons.getByCode(e.scope, 'WINTER25'), 'not_found');
      expect(err.message).toBe('coupon WINTER25 not found');
    });

    it('rejects an id of another entity as invalid, and an unknown coupon id as not_found', async () => {
      const err = await rejectsWith(e.ledger.coupons.get(e.scope, 'cst_01h455vb4pex5vsknk084sn02q'), 'invalid');
      expect(err.message).toContain('"cst_"');
      await rejectsWith(e.ledger.coupons.get(e.scope, 'cpn_01h455vb4pex5vsknk084sn02q'), 'not_found');
    });

    it('pages through coupons oldest first: 3 coupons, 2 a page, archived ones included', async () => {
      const made: Coupon[] = [];
      for (const code of ['AAA', 'BBB', 'CCC']) {
        made.push(await create({ code }));
        e.clock.advance(1);
      }
      const ids = made.map((c) => c.id).sort();
      await e.ledger.coupons.archive(e.scope, ids[2]!);
      const p1 = await e.ledger.coupons.list(e.scope, { limit: 2 });
      expect(p1.items.map((c) => c.id)).toEqual(ids.slice(0, 2));
      expect(p1.nextCursor).toBe(ids[1]);
      const p2 = await e.ledger.coupons.list(e.scope, { limit: 2, cursor: p1.nextCursor! });
      expect(p2.items.map((c) => c.id)).toEqual(ids.slice(2));
      expect(p2.items[0]!.status).toBe('archived');
      expect(p2.nextCursor).toBeNull();
    });
  });

  describe('update', () => {
    it('changes name, metadata, expiry and cap, keeps the rest and createdAt, and stamps updatedAt', async () => {
      const c = await create({ maxRedemptions: 5 });
      e.clock.advance(DAY);
      const expiresAt = at(10 * DAY);
      const u = await e.ledger.coupons.update(e.scope, c.id, {
        name: 'Summer sale (extended)',
        metadata: { k: 'v' },
        expiresAt,
        maxRedemptions: 50,
      });
      expect(u).toEqual({
        ...c,
        name: 'Summer sale (extended)',
        metadata: { k: 'v' },
        expiresAt,
        maxRedemptions: 50,
        updatedAt: at(DAY),
      });
      expect(await stored(c)).toEqual(u);
      const cleared = await e.ledger.coupons.update(e.scope, c.id, { expiresAt: null, maxRedemptions: null });
      expect(cleared).toMatchObject({ expiresAt: null, maxRedemptions: null });
      expect(await stored(c)).toEqual(cleared);
    });

    it('rejects a change to the discount terms, the code or the duration as invalid, and changes nothing', async () => {
      const c = await create();
      for (const patch of [{ percentOff: '50' }, { amountOff: 100 }, { code: 'OTHER' }, { duration: 'forever' }, { timesRedeemed: 0 }]) {
        await rejectsWith(e.ledger.coupons.update(e.scope, c.id, patch as never), 'invalid');
      }
      expect(await stored(c)).toEqual(c);
    });

    it('lets maxRedemptions go down to timesRedeemed, not below', async () => {
      const c = await create({ maxRedemptions: 10 });
      for (let i = 0; i < 3; i++) await e.ledger.coupons.redeem(e.scope, c.code, proUsd());
      const err = await rejectsWith(e.ledger.coupons.update(e.scope, c.id, { maxRedemptions: 2 }), 'invalid');
      expect(err.message).toBe('maxRedemptions 2 is below the 3 times coupon SUMMER25 has been redeemed');
      expect(err.issues.map((i) => i.path)).toEqual(['maxRedemptions']);
      expect((await stored(c)).maxRedemptions).toBe(10);
      const u = await e.ledger.coupons.update(e.scope, c.id, { maxRedemptions: 3 });
      expect(u).toMatchObject({ maxRedemptions: 3, timesRedeemed: 3 });
      await rejectsWith(e.ledger.coupons.redeem(e.scope, c.code, proUsd()), 'limit_exceeded');
    });

    it('a stale copy does not undo redemptions: update keeps timesRedeemed as stored', async () => {
      const c = await create();
      await e.ledger.coupons.redeem(e.scope, c.code, proUsd());
      await e.ledger.coupons.redeem(e.scope, c.code, proUsd());
      const u = await e.ledger.coupons.update(e.scope, c.id, { name: 'Renamed' });
      expect(u.timesRedeemed).toBe(2);
      expect((await stored(c)).timesRedeemed).toBe(2);
    });

    it('rejects an expiry in the past, an unknown coupon is not_found, an archived one is illegal_state', async () => {
      const c = await create();
      e.clock.advance(DAY);
      await rejectsWith(e.ledger.coupons.update(e.scope, c.id, { expiresAt: T0 }), 'invalid');
      await rejectsWith(e.ledger.coupons.update(e.scope, 'cpn_01h455vb4pex5vsknk084sn02q', { name: 'X' }), 'not_found');
      await e.ledger.coupons.archive(e.scope, c.id);
      const err = await rejectsWith(e.ledger.coupons.update(e.scope, c.id, { name: 'X' }), 'illegal_state');
      expect(err.message).toBe('coupon SUMMER25 is archived');
      expect((await stored(c)).name).toBe('Summer sale');
    });
  });

  describe('archive', () => {
    it('sets status archived and stamps updatedAt; archiving again changes nothing', async () => {
      const c = await create();
      e.clock.advance(DAY);
      const a = await e.ledger.coupons.archive(e.scope, c.id);
      expect(a).toEqual({ ...c, status: 'archived', updatedAt: at(DAY) });
      expect(await stored(c)).toEqual(a);
      e.clock.advance(DAY);
      expect(await e.ledger.coupons.archive(e.scope, c.id)).toEqual(a);
      expect(await stored(c)).toEqual(a);
    });

    it('an unknown coupon is not_found', async () => {
      await rejectsWith(e.ledger.coupons.archive(e.scope, 'cpn_01h455vb4pex5vsknk084sn02q'), 'not_found');
    });
  });

  describe('redeem', () => {
    it('counts a redemption and returns the coupon with timesRedeemed raised; the code is case-insensitive', async () => {
      const c = await create({ maxRedemptions: 2 });
      const r1 = await e.ledger.coupons.redeem(e.scope, 'summer25', proUsd());
      expect(r1).toEqual({ ...c, timesRedeemed: 1 });
      const r2 = await e.ledger.coupons.redeem(e.scope, 'SUMMER25', proUsd());
      expect(r2.timesRedeemed).toBe(2);
      expect((await stored(c)).timesRedeemed).toBe(2);
    });

    it('a percent coupon applies to any currency; an amount coupon to its own', async () => {
      await create();
      await e.ledger.coupons.create(e.scope, tenOff);
      expect((await e.ledger.coupons.redeem(e.scope, 'SUMMER25', { ...proUsd(), currency: EUR })).timesRedeemed).toBe(1);
      expect((await e.ledger.coupons.redeem(e.scope, 'TENOFF', proUsd())).timesRedeemed).toBe(1);
    });

    it('an unknown code is not_found', async () => {
      const err = await rejectsWith(e.ledger.coupons.redeem(e.scope, 'nope99', proUsd()), 'not_found');
      expect(err.message).toBe('coupon NOPE99 not found');
    });

    it('an archived coupon is illegal_state and is not counted', async () => {
      const c = await create();
      await e.ledger.coupons.archive(e.scope, c.id);
      const err = await rejectsWith(e.ledger.coupons.redeem(e.scope, c.code, proUsd()), 'illegal_state');
      expect(err.message).toBe('coupon SUMMER25 is archived');
      expect((await stored(c)).timesRedeemed).toBe(0);
    });

    it('expires exactly at expiresAt: redeemable 1 ms before, illegal_state at it and after', async () => {
      const expiresAt = new Date('2025-02-01T00:00:00.000Z');
      const c = await create({ expiresAt });
      expect((await e.ledger.coupons.redeem(e.scope, c.code, proUsd(new Date(expiresAt.getTime() - 1)))).timesRedeemed).toBe(1);
      const err = await rejectsWith(e.ledger.coupons.redeem(e.scope, c.code, proUsd(expiresAt)), 'illegal_state');
      expect(err.message).toBe('coupon SUMMER25 expired on 2025-02-01T00:00:00.000Z');
      await rejectsWith(e.ledger.coupons.redeem(e.scope, c.code, proUsd(new Date(expiresAt.getTime() + DAY))), 'illegal_state');
      expect((await stored(c)).timesRedeemed).toBe(1);
    });

    it('a coupon restricted to other plans is invalid for this one and is not counted', async () => {
      const c = await create({ appliesToPlans: ['team', 'enterprise'] });
      const err = await rejectsWith(e.ledger.coupons.redeem(e.scope, c.code, proUsd()), 'invalid');
      expect(err.message).toBe('coupon SUMMER25 does not apply to plan pro');
      expect((await stored(c)).timesRedeemed).toBe(0);
      expect((await e.ledger.coupons.redeem(e.scope, c.code, { ...proUsd(), planKey: 'team' })).timesRedeemed).toBe(1);
    });

    it('an amount coupon in USD is invalid for a EUR subscription and is not counted', async () => {
      const c = await e.ledger.coupons.create(e.scope, tenOff);
      const err = await rejectsWith(e.ledger.coupons.redeem(e.scope, c.code, { ...proUsd(), currency: EUR }), 'invalid');
      expect(err.message).toBe('coupon TENOFF takes USD off and cannot apply to a EUR subscription');
      expect((await stored(c)).timesRedeemed).toBe(0);
    });

    it('a coupon redeemed maxRedemptions times is limit_exceeded, and stays at its cap', async () => {
      const c = await create({ maxRedemptions: 2 });
      await e.ledger.coupons.redeem(e.scope, c.code, proUsd());
      await e.ledger.coupons.redeem(e.scope, c.code, proUsd());
      const err = await rejectsWith(e.ledger.coupons.redeem(e.scope, c.code, proUsd()), 'limit_exceeded');
      expect(err.message).toBe('coupon SUMMER25 has been redeemed the maximum 2 times');
      expect((await stored(c)).timesRedeemed).toBe(2);
    });

    it('checks in order: archived before expired before plan before currency before cap', async () => {
      const c = await e.ledger.coupons.create(e.scope, {
        ...tenOff,
        expiresAt: at(DAY),
        maxRedemptions: 1,
        appliesToPlans: ['team'],
      });
      await e.ledger.coupons.redeem(e.scope, c.code, { planKey: 'team', currency: USD, at: T0 });
      const wrongAll = { planKey: 'pro', currency: EUR, at: at(2 * DAY) };
      await rejectsWith(e.ledger.coupons.redeem(e.scope, c.code, wrongAll), 'illegal_state'); // expired
      const err1 = await rejectsWith(e.ledger.coupons.redeem(e.scope, c.code, { ...wrongAll, at: T0 }), 'invalid');
      expect(err1.message).toContain('does not apply to plan pro');
      const err2 = await rejectsWith(e.ledger.coupons.redeem(e.scope, c.code, { ...wrongAll, at: T0, planKey: 'team' }), 'invalid');
      expect(err2.message).toContain('EUR');
      await rejectsWith(e.ledger.coupons.redeem(e.scope, c.code, { planKey: 'team', currency: USD, at: T0 }), 'limit_exceeded');
      await e.ledger.coupons.archive(e.scope, c.id);
      const err3 = await rejectsWith(e.ledger.coupons.redeem(e.scope, c.code, wrongAll), 'illegal_state');
      expect(err3.message).toBe('coupon TENOFF is archived');
      expect((await stored(c)).timesRedeemed).toBe(1);
    });

    it('rejects a malformed target as invalid and counts nothing', async () => {
      const c = await create();
      await rejectsWith(e.ledger.coupons.redeem(e.scope, c.code, { ...proUsd(), at: 'tomorrow' as never }), 'invalid');
      await rejectsWith(e.ledger.coupons.redeem(e.scope, c.code, { ...proUsd(), currency: 'XYZ' as never }), 'invalid');
      expect((await stored(c)).timesRedeemed).toBe(0);
    });

    it('10 concurrent redemptions of a coupon capped at 3: exactly 3 succeed, 7 are limit_exceeded', async () => {
      const c = await create({ maxRedemptions: 3 });
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, () => e.ledger.coupons.redeem(e.scope, c.code, proUsd())),
      );
      const ok = results.filter((r) => r.status === 'fulfilled');
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(ok).toHaveLength(3);
      expect(failed.map((r) => (r.reason as { code: string }).code)).toEqual(Array(7).fill('limit_exceeded'));
      expect((await stored(c)).timesRedeemed).toBe(3);
    });

    it('concurrent redemptions of an uncapped coupon all count: 10 at once make 10', async () => {
      const c = await create();
      await Promise.all(Array.from({ length: 10 }, () => e.ledger.coupons.redeem(e.scope, c.code, proUsd())));
      expect((await stored(c)).timesRedeemed).toBe(10);
    });
  });

  describe('release', () => {
    it('gives one redemption back, so a capped coupon can be redeemed again; never below zero', async () => {
      const c = await create({ maxRedemptions: 1 });
      await e.ledger.coupons.redeem(e.scope, c.code, proUsd());
      await rejectsWith(e.ledger.coupons.redeem(e.scope, c.code, proUsd()), 'limit_exceeded');
      expect((await e.ledger.coupons.release(e.scope, c.id)).timesRedeemed).toBe(0);
      expect((await e.ledger.coupons.redeem(e.scope, c.code, proUsd())).timesRedeemed).toBe(1);
      await e.ledger.coupons.release(e.scope, c.id);
      expect((await e.ledger.coupons.release(e.scope, c.id)).timesRedeemed).toBe(0);
      expect((await stored(c)).timesRedeemed).toBe(0);
    });

    it('an unknown coupon is not_found', async () => {
      await rejectsWith(e.ledger.coupons.release(e.scope, 'cpn_01h455vb4pex5vsknk084sn02q'), 'not_found');
    });
  });

  describe.each([
    ['another tenant', (_a: Scope) => uniqueScope()],
    ['another app of the same tenant', (a: Scope) => otherAppOf(a)],
  ] as const)('isolation from %s', (_label, otherOf) => {
    it('B cannot get, list, update, archive, redeem or release A\'s coupon; A\'s is unchanged', async () => {
      const c = await create({ maxRedemptions: 5 });
      await e.ledger.coupons.redeem(e.scope, c.code, proUsd());
      const mine = await stored(c);
      const b = otherOf(e.scope);
      await rejectsWith(e.ledger.coupons.get(b, c.id), 'not_found');
      await rejectsWith(e.ledger.coupons.getByCode(b, c.code), 'not_found');
      expect(await e.ledger.coupons.list(b)).toEqual({ items: [], nextCursor: null });
      await rejectsWith(e.ledger.coupons.update(b, c.id, { name: 'Hijacked', maxRedemptions: 1000 }), 'not_found');
      await rejectsWith(e.ledger.coupons.archive(b, c.id), 'not_found');
      await rejectsWith(e.ledger.coupons.redeem(b, c.code, proUsd()), 'not_found');
      await rejectsWith(e.ledger.coupons.release(b, c.id), 'not_found');
      expect(await stored(c)).toEqual(mine);
    });

    it('B may use the same code for its own coupon, and redeeming it leaves A\'s alone', async () => {
      const c = await create();
      const b = otherOf(e.scope);
      const theirs = await e.ledger.coupons.create(b, { ...percent25, percentOff: '50' });
      expect(theirs.code).toBe(c.code);
      expect((await e.ledger.coupons.redeem(b, c.code, proUsd())).id).toBe(theirs.id);
      expect(await stored(c)).toEqual(c);
    });
  });
});
