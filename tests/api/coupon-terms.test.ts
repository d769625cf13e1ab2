import { TRPCError } from '@trpc/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, scope, silentLogger, type Ledger } from '@/server/ledger';
import { createCaller } from '@/server/trpc/root';

/** The coupon terms through the coupons router (createCaller: the real router and engine, no HTTP). */
let ledger: Ledger;
const acme = scope('acme', 'billing');
const api = () => createCaller({ ledger, auth: { kind: 'api_key', scope: acme, keyId: 'key_test' } });

async function errorOf(p: Promise<unknown>): Promise<TRPCError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TRPCError);
  return e as TRPCError;
}

beforeAll(async () => {
  ledger = await createLedger({ logger: silentLogger, clock: new ManualClock('2025-01-15T10:00:00Z') });
});

describe('coupon terms procedures', () => {
  it('creates a coupon counted in months and one whose amount carries over; redemption shows what is left', async () => {
    const months = await api().coupons.create({ code: 'FOURMONTHS', name: 'Four months', percentOff: '25', duration: 'repeating', durationInMonths: 4 });
    expect(months).toMatchObject({ durationPeriods: null, durationInMonths: 4, carryOver: false });
    const carry = await api().coupons.create({ code: 'HUNDRED', name: '100 off', amountOff: 10000, currency: 'USD', duration: 'forever', carryOver: true });
    expect(await api().coupons.get({ id: carry.id })).toEqual(carry);

    const plan = await api().plans.create({ key: 'basic', name: 'Basic', currency: 'USD', interval: { unit: 'month' }, basePrice: 3000 });
    const customer = await api().customers.create({ email: 'b@example.com', name: 'Billie' });
    const sub = await api().subscriptions.create({ customerId: customer.id, planId: plan.id });
    expect(await api().coupons.redemption({ subscriptionId: sub.id })).toBeNull();
    await api().coupons.redeem({ subscriptionId: sub.id, code: 'hundred' });
    expect(await api().coupons.redemption({ subscriptionId: sub.id })).toEqual({
      subscriptionId: sub.id,
      customerId: customer.id,
      couponId: carry.id,
      code: 'HUNDRED',
      appliedAt: new Date('2025-01-15T10:00:00Z'),
      invoicesDiscounted: 0,
      invoicesLeft: null,
      endsAt: null,
      amountRemaining: 10000,
      currency: 'USD',
    });
  });

  it('rejects conflicting terms with BAD_REQUEST naming the field, and stores nothing', async () => {
    const before = (await api().coupons.list({ limit: 100 })).items.length;
    const both = await errorOf(api().coupons.create({ code: 'BOTH', name: 'B', percentOff: '10', duration: 'repeating', durationPeriods: 4, durationInMonths: 4 }));
    expect(both.code).toBe('BAD_REQUEST');
    expect(both.message).toContain('durationInMonths');
    const pct = await errorOf(api().coupons.create({ code: 'PCTCARRY', name: 'P', percentOff: '10', duration: 'forever', carryOver: true }));
    expect(pct.code).toBe('BAD_REQUEST');
    expect(pct.message).toContain('carryOver');
    expect(await errorOf(api().coupons.create({ code: 'ONCECARRY', name: 'O', amountOff: 100, currency: 'USD', duration: 'once', carryOver: true })).then((e) => e.code)).toBe('BAD_REQUEST');
    expect(await errorOf(api().coupons.create({ code: 'MONTHS', name: 'M', percentOff: '10', duration: 'repeating', durationInMonths: 1.5 })).then((e) => e.code)).toBe('BAD_REQUEST');
    expect((await api().coupons.list({ limit: 100 })).items.length).toBe(before);
  });

  it('redemption of an unknown subscription is NOT_FOUND, of another entity\'s id BAD_REQUEST', async () => {
    expect((await errorOf(api().coupons.redemption({ subscriptionId: 'sub_01h455vb4pex5vsknk084sn02q' }))).code).toBe('NOT_FOUND');
    expect((await errorOf(api().coupons.redemption({ subscriptionId: 'cpn_01h455vb4pex5vsknk084sn02q' }))).code).toBe('BAD_REQUEST');
  });
});
