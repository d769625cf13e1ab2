import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, type CustomerId, type Ledger, type Scope } from '@/server/ledger';
import type { PortalRole } from '@/server/portal/session';
import { createCaller } from '@/server/trpc/root';
import { otherAppOf, storeFactories, uniqueScope, useStore } from '../support/stores';
import { codeOf, portalContext } from '../support/trpc';

/**
 * The /portal/plans procedures (`accountPlans.*`) through createCaller with a portal
 * session context, on every store. Plans: "basic" 10.00 a month + 5.00 a seat, no trial;
 * "team" 30.00 a month + 5.00 a seat, 14-day trial; coupon HALF (50 % once). The
 * subscriptions start at T0 (Jan 15 10:00, a 31-day period to Feb 15) and the changes are
 * made exactly half-way (15.5 days in), so every proration is half a fee.
 */
const T0 = new Date('2026-01-15T10:00:00.000Z');
const PERIOD_END = new Date('2026-02-15T10:00:00.000Z');
const HALF = new Date((T0.getTime() + PERIOD_END.getTime()) / 2);
const DAY = 86_400_000;

describe.each(storeFactories())('portal plans on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let ledger: Ledger;
  let clock: ManualClock;
  let s: Scope;
  let other: Scope;
  const ids = {} as Record<'upgrade' | 'downgrade' | 'seats' | 'cancel' | 'coupon' | 'member' | 'c', CustomerId>;

  const portal = portalContext;
  const as = (customerId: CustomerId, role: PortalRole = 'owner', scope: Scope = s) =>
    createCaller({ ledger, auth: { kind: 'portal', scope, portal: portal(scope, customerId, role) } }).accountPlans;

  const customer = async (scope: Scope, name: string) => (await ledger.customers.create(scope, { email: `${name}@example.com`, name, collectionMethod: 'send_invoice' })).id;
  async function onBasic(scope: Scope, name: string, quantity = 1): Promise<CustomerId> {
    const c = await customer(scope, name);
    const plan = await ledger.plans.getByKey(scope, 'basic');
    await ledger.subscriptions.create(scope, { customerId: c, planId: plan.id, quantity });
    return c;
  }
  const subOf = async (c: CustomerId, scope: Scope = s) => (await ledger.subscriptions.listByCustomer(scope, c)).items[0]!;
  const invoicesOf = async (c: CustomerId) => (await ledger.invoices.listByCustomer(s, c)).items;

  beforeAll(async () => {
    clock = new ManualClock(T0);
    ledger = await createLedger({ store: store(), clock, logger: silentLogger });
    s = uniqueScope();
    other = otherAppOf(s);
    for (const scope of [s, other]) {
      await ledger.scopes.register(scope, 'test');
      for (const [key, name, basePrice, trialDays] of [
        ['basic', 'Basic', 1000, 0],
        ['team', 'Team', 3000, 14],
      ] as const) {
        await ledger.plans.create(scope, {
          key,
          name,
          currency: 'USD',
          interval: { unit: 'month' },
          basePrice,
          trialDays,
          features: [
            { key: 'seats', name: 'Seats', kind: 'licensed', price: { model: 'per_unit', unitPrice: '5' } },
            { key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', limit: key === 'basic' ? 1000 : 10_000, unitName: 'call' },
            { key: 'sso', name: 'Single sign-on', kind: 'boolean', enabled: key === 'team' },
          ],
        });
      }
      await ledger.coupons.create(scope, { code: 'HALF', name: 'Half off once', percentOff: '50', duration: 'once' });
    }
    for (const k of ['upgrade', 'seats', 'cancel', 'coupon', 'member'] as const) ids[k] = await onBasic(s, k);
    ids.downgrade = await customer(s, 'downgrade');
    await ledger.subscriptions.create(s, { customerId: ids.downgrade, planId: (await ledger.plans.getByKey(s, 'team')).id, trialDays: 0 });
    ids.c = await onBasic(other, 'c');
    clock.set(HALF.getTime());
  });

  it('the pricing table: both plans with their features, the current one marked, the subscription and the role', async () => {
    const t = await as(ids.upgrade).list();
    expect(t.plans.map((p) => [p.key, p.basePrice, p.trialDays, p.current])).toEqual([
      ['basic', 1000, 0, true],
      ['team', 3000, 14, false],
    ]);
    expect(t.plans[0]!.features.map((f) => f.text)).toEqual(['$5.00 a seat', 'Up to 1,000 calls a period', 'Not included']);
    expect(t.plans[0]!.seats).toEqual({ name: 'Seats', included: 0, limit: null });
    expect(t.subscription).toMatchObject({ planKey: 'basic', quantity: 1, status: { status: 'active' }, cancelAtPeriodEnd: false, coupon: null, currentPeriod: { start: T0, end: PERIOD_END } });
    expect(t.canManageBilling).toBe(true);
    expect((await as(ids.upgrade, 'member').list()).canManageBilling).toBe(false);
  });

  it('subscribe: the plan\'s 14-day trial, nothing invoiced; a second subscribe is a CONFLICT; no trial with a coupon: 10.00 + 5.00 at half off = 7.50', async () => {
    const n = await customer(s, 'new');
    expect((await as(n).list()).subscription).toBeNull();
    const r = await as(n).subscribe({ planKey: 'team' });
    expect(r).toMatchObject({ status: 'trialing', trialEnd: new Date(HALF.getTime() + 14 * DAY) });
    expect(await invoicesOf(n)).toEqual([]);
    expect(await codeOf(as(n).subscribe({ planKey: 'basic' }))).toBe('CONFLICT');
    // On trial a change charges nothing now, and cancelling now credits nothing.
    expect(await as(n).previewChange({ planKey: 'basic' })).toMatchObject({ trial: true, effective: 'now', chargeNow: null, nextInvoice: { total: 1500 } });
    expect(await as(n).previewCancel()).toMatchObject({ trial: true, credit: 0 });
    expect((await ledger.subscriptions.listByCustomer(s, n)).items).toHaveLength(1);

    const m = await customer(s, 'coupon-new');
    await as(m).subscribe({ planKey: 'basic', couponCode: 'HALF' });
    expect((await invoicesOf(m)).map((i) => [i.billingReason, i.subtotal, i.discount, i.total])).toEqual([['subscription_create', 1500, 750, 750]]);
    expect(await codeOf(as(await customer(s, 'nope')).subscribe({ planKey: 'gold' }))).toBe('NOT_FOUND');
  });

  it('upgrade: the preview charges 15.00 − 5.00 = 10.00 now and says the next invoice is 35.00 on Feb 15; the change makes that invoice', async () => {
    const p = await as(ids.upgrade).previewChange({ planKey: 'team' });
    expect(p).toMatchObject({ plan: { key: 'team' }, upgrade: true, effective: 'now', trial: false, quantity: 1 });
    expect(p.chargeNow!.lines.map((l) => l.amount).sort((a, b) => a - b)).toEqual([-500, 1500]);
    expect(p.chargeNow!.total).toBe(1000);
    expect(p.nextInvoice).toMatchObject({ at: PERIOD_END, total: 3500 });
    expect(p.nextInvoice!.lines.map((l) => l.amount)).toEqual([3000, 500]);
    // A preview changes nothing.
    expect(await invoicesOf(ids.upgrade)).toHaveLength(1);

    await as(ids.upgrade).changePlan({ planKey: 'team' });
    const update = (await invoicesOf(ids.upgrade)).find((i) => i.billingReason === 'subscription_update')!;
    expect(update.total).toBe(1000);
    const t = await as(ids.upgrade).list();
    expect(t.plans.find((x) => x.current)!.key).toBe('team');
  });

  it('downgrade: takes effect at the period end, nothing charged now; the table shows it scheduled', async () => {
    const p = await as(ids.downgrade).previewChange({ planKey: 'basic' });
    expect(p).toMatchObject({ upgrade: false, effective: 'period_end', effectiveAt: PERIOD_END, chargeNow: null });
    expect(p.nextInvoice).toMatchObject({ at: PERIOD_END, total: 1500 });
    const before = (await invoicesOf(ids.downgrade)).length;
    await as(ids.downgrade).changePlan({ planKey: 'basic' });
    expect(await invoicesOf(ids.downgrade)).toHaveLength(before);
    const t = await as(ids.downgrade).list();
    expect(t.subscription!.pendingChange).toMatchObject({ planKey: 'basic', at: PERIOD_END });
    expect(t.plans.map((x) => [x.key, x.current, x.scheduled])).toEqual([
      ['basic', false, true],
      ['team', true, false],
    ]);
  });

  it('seats: 1 → 3 previews 2 seats × 5.00 for half a period = 5.00 now, next invoice 25.00; the change bills it', async () => {
    const p = await as(ids.seats).previewChange({ quantity: 3 });
    expect(p).toMatchObject({ effective: 'now', quantity: 3 });
    expect(p.chargeNow!.total).toBe(500);
    expect(p.nextInvoice!.total).toBe(2500);
    expect(await as(ids.seats).changeSeats({ quantity: 3 })).toEqual({ quantity: 3 });
    expect((await invoicesOf(ids.seats)).find((i) => i.billingReason === 'subscription_update')!.total).toBe(500);
    // Down again: half of 2 × 5.00 credited.
    expect((await as(ids.seats).previewChange({ quantity: 1 })).chargeNow!.total).toBe(-500);
  });

  it('cancel at the period end with a reason (kept on the customer), then resume; cancel now previews a 7.50 credit and ends it', async () => {
    const c = as(ids.cancel);
    const pre = await c.previewCancel();
    expect(pre).toMatchObject({ credit: 750, currency: 'USD', periodEnd: PERIOD_END, trial: false });
    expect(pre.losses).toEqual(['Seats: $5.00 a seat', 'API calls: Up to 1,000 calls a period']);

    expect(await c.cancel({ at: 'period_end', reason: 'too_expensive', comment: '  cheaper elsewhere ' })).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
    const sub = await subOf(ids.cancel);
    expect(sub.metadata).toMatchObject({ cancellation_feedback: 'too_expensive', cancellation_comment: 'cheaper elsewhere' });
    expect((await ledger.customers.get(s, ids.cancel)).metadata).toEqual({}); // the customer's own metadata is untouched
    expect((await c.list()).subscription!.status.status).toBe('canceling');

    expect(await c.resume()).toEqual({ cancelAtPeriodEnd: false });
    expect((await subOf(ids.cancel)).cancelAtPeriodEnd).toBe(false);

    expect(await codeOf(c.cancel({ at: 'now', reason: 'because' as never }))).toBe('BAD_REQUEST');
    expect((await subOf(ids.cancel)).status).toBe('active');
    await c.cancel({ at: 'now', reason: 'switched_service' });
    expect((await subOf(ids.cancel)).status).toBe('canceled');
    const final = (await invoicesOf(ids.cancel)).find((i) => i.billingReason === 'subscription_cancel')!;
    expect(final.subtotal).toBe(-750);
    expect((await c.list()).subscription).toBeNull();
    expect(await codeOf(c.resume())).toBe('PRECONDITION_FAILED');
  });

  it('coupon: HALF is applied to the subscription; an unknown code is refused and changes nothing', async () => {
    expect(await as(ids.coupon).applyCoupon({ code: 'HALF' })).toEqual({ coupon: 'HALF' });
    expect((await subOf(ids.coupon)).discount).toMatchObject({ code: 'HALF', periodsApplied: 0 });
    const version = (await subOf(ids.coupon)).version;
    expect(await codeOf(as(ids.coupon).applyCoupon({ code: 'NOPE' }))).toBe('NOT_FOUND');
    expect((await subOf(ids.coupon)).version).toBe(version);
  });

  it('a member reads the table and the previews but every write is FORBIDDEN and nothing changes', async () => {
    const m = as(ids.member, 'member');
    const before = await subOf(ids.member);
    const invoices = (await invoicesOf(ids.member)).length;
    expect((await m.previewChange({ planKey: 'team' })).chargeNow!.total).toBe(1000);
    for (const write of [
      m.changePlan({ planKey: 'team' }),
      m.changeSeats({ quantity: 2 }),
      m.cancel({ at: 'now', reason: 'other' }),
      m.resume(),
      m.applyCoupon({ code: 'HALF' }),
      m.subscribe({ planKey: 'team' }),
    ]) {
      expect(await codeOf(write)).toBe('FORBIDDEN');
    }
    const after = await subOf(ids.member);
    expect(after).toMatchObject({ version: before.version, planId: before.planId, quantity: 1, cancelAtPeriodEnd: false, discount: null, status: 'active' });
    expect(await invoicesOf(ids.member)).toHaveLength(invoices);
    expect((await ledger.customers.get(s, ids.member)).metadata).toEqual({});
  });

  it("acting as one customer never touches another's subscription, in this app or another", async () => {
    const a = await subOf(ids.member);
    const c = await subOf(ids.c, other);
    // The seats customer acts: only its own subscription moves.
    await as(ids.seats).changeSeats({ quantity: 2 });
    await as(ids.seats).cancel({ at: 'period_end', reason: 'unused' });
    expect(await subOf(ids.member)).toMatchObject({ version: a.version, quantity: 1, cancelAtPeriodEnd: false });
    expect(await subOf(ids.c, other)).toMatchObject({ version: c.version, quantity: 1, cancelAtPeriodEnd: false });
    // Inputs cannot name a subscription or a customer.
    expect(await codeOf(as(ids.seats).changeSeats({ quantity: 2, subscriptionId: c.id } as never))).toBe('BAD_REQUEST');
    // A customer of the other app sees that app's plans and its own subscription only.
    const t = await as(ids.c, 'owner', other).list();
    expect(t.subscription!.id).toBe(c.id);
    expect(t.plans.every((p) => !p.id || p.id !== a.planId)).toBe(true);
  });
});
