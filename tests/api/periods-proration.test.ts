import { TRPCError } from '@trpc/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLedger, scope, silentLogger, type Ledger, type Scope } from '@/server/ledger';
import { createCaller } from '@/server/trpc/root';

/**
 * Periods and proration through the tRPC procedures (createCaller: the real routers and
 * engine, no HTTP): customers' timeZone, plans' billingCycle and changeRules, a
 * subscription's billingCycle, prorationBehavior and upgradeAt on changes. The engine's
 * zod schemas are the procedures' inputs; bad input is BAD_REQUEST and changes nothing.
 */
let ledger: Ledger;
const api = (s: Scope) => createCaller({ ledger, auth: { kind: 'api_key', scope: s, keyId: 'key_test' } });
let scopes = 0;
const fresh = () => scope(`periods-${++scopes}`, 'app');
const T0 = new Date('2025-08-10T00:00:00.000Z');

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TRPCError);
  return (e as TRPCError).code;
}

const plan = (key: string, basePrice: number, extra: Record<string, unknown> = {}) => ({ key, name: key, currency: 'USD', interval: { unit: 'month' as const }, basePrice, ...extra });

/** A test scope with a clock at T0 and a New York customer on it. */
async function setup(s: Scope) {
  await ledger.scopes.register(s, 'test');
  const clock = await api(s).testClocks.create({ at: T0 });
  const customer = await api(s).customers.create({ email: 'ny@example.com', name: 'NY', timeZone: 'America/New_York', testClockId: clock.id });
  return { clock, customer };
}

beforeAll(async () => {
  ledger = await createLedger({ logger: silentLogger });
});

describe('periods and proration through tRPC', () => {
  it('customers.create and update take an IANA timeZone; an unknown one is BAD_REQUEST and nothing changes', async () => {
    const s = fresh();
    const { customer } = await setup(s);
    expect(customer.timeZone).toBe('America/New_York');
    expect(await codeOf(api(s).customers.update({ id: customer.id, patch: { timeZone: 'Atlantis/Central' } }))).toBe('BAD_REQUEST');
    expect(await codeOf(api(s).customers.create({ email: 'x@example.com', name: 'X', timeZone: 'Atlantis/Central' }))).toBe('BAD_REQUEST');
    expect((await api(s).customers.get({ id: customer.id })).timeZone).toBe('America/New_York');
    expect((await api(s).customers.update({ id: customer.id, patch: { timeZone: 'Asia/Tokyo' } })).timeZone).toBe('Asia/Tokyo');
  });

  it('a calendar plan for a New York customer from August 10 (00:00Z is August 9, 20:00 there): 23 of 31 days of 50.00 = 37.10, to September 1, 04:00Z', async () => {
    const s = fresh();
    const { customer } = await setup(s);
    const p = await api(s).plans.create(plan('monthly', 5000, { billingCycle: 'calendar' }));
    const sub = await api(s).subscriptions.create({ customerId: customer.id, planId: p.id });
    expect(sub).toMatchObject({ billingCycle: 'calendar', timeZone: 'America/New_York', currentPeriodEnd: new Date('2025-09-01T04:00:00Z') });
    const [first] = (await api(s).invoices.listByCustomer({ customerId: customer.id })).items;
    expect(first).toMatchObject({ total: 3710 });
    expect(await codeOf(api(s).subscriptions.create({ customerId: customer.id, planId: p.id, billingCycle: 'weekly' as 'calendar' }))).toBe('BAD_REQUEST');
  });

  it('changeRules on plans.create, upgradeAt and prorationBehavior on changes; bad values are BAD_REQUEST', async () => {
    const s = fresh();
    const { customer, clock } = await setup(s);
    expect(await codeOf(api(s).plans.create(plan('bad', 1000, { changeRules: { upgrade: { when: 'soon' } } })))).toBe('BAD_REQUEST');
    const basic = await api(s).plans.create(plan('basic', 1000, { changeRules: { upgrade: { when: 'at_renewal' } } }));
    expect(basic.changeRules).toEqual({ upgrade: { when: 'at_renewal', proration: 'prorate' }, downgrade: { when: 'at_renewal', proration: 'prorate' } });
    const plus = await api(s).plans.create(plan('plus', 2000));
    const sub = await api(s).subscriptions.create({ customerId: customer.id, planId: basic.id });
    // August 10 to September 10: 31 days; on August 25, 16 are left.
    await api(s).testClocks.advance({ id: clock.id, to: new Date('2025-08-25T00:00:00Z') });
    expect(await api(s).subscriptions.previewChange({ id: sub.id, planId: plus.id })).toMatchObject({ effective: 'period_end', upgrade: true, invoice: null });
    const preview = await api(s).subscriptions.previewChange({ id: sub.id, planId: plus.id, upgradeAt: 'now', prorationBehavior: 'create_prorations' });
    // −10.00 × 16/31 = −5.16, +20.00 × 16/31 = 10.32
    expect(preview).toMatchObject({ effective: 'now', prorationsBilled: 'next_invoice', invoice: { total: 516 } });
    expect(await codeOf(api(s).subscriptions.changePlan({ id: sub.id, planId: plus.id, prorationBehavior: 'sometimes' as 'none' }))).toBe('BAD_REQUEST');
    expect((await api(s).subscriptions.get({ id: sub.id })).planId).toBe(basic.id);
    const changed = await api(s).subscriptions.changePlan({ id: sub.id, planId: plus.id, upgradeAt: 'now', prorationBehavior: 'create_prorations' });
    expect(changed.pendingProrations.map((l) => l.amount)).toEqual([-516, 1032]);
    // The upcoming invoice (September 10) shows them: 20.00 − 5.16 + 10.32 = 25.16.
    const upcoming = await api(s).invoices.preview({ subscriptionId: sub.id });
    expect(upcoming!.lines.filter((l) => l.kind !== 'usage').map((l) => [l.kind, l.amount])).toEqual([['base_fee', 2000], ['proration', -516], ['proration', 1032]]);
    expect(upcoming!.total).toBe(2516);
    const seats = await api(s).subscriptions.changeSeats({ id: sub.id, quantity: 2, prorationBehavior: 'none' });
    expect(seats.quantity).toBe(2);
  });
});
