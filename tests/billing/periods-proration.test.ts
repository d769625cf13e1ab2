import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, type Invoice, type Ledger, type Scope } from '@/server/ledger';
import { rejectsWith } from '../support/engine';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * Periods and proration (issue 11), on every store, with concrete numbers: calendar
 * billing (Lago's 50.00 a month from August 10 bills 35.48 for August), the customer's
 * time zone, Stripe's proration behaviours, per-plan change rules, coupons on prorations.
 * Time moves with test clocks.
 */
const HOUR = 3_600_000;
const at = (iso: string) => new Date(iso);

const monthly = (key: string, basePrice: number, extra: Record<string, unknown> = {}) => ({
  key,
  name: key[0]!.toUpperCase() + key.slice(1),
  currency: 'USD',
  interval: { unit: 'month' as const },
  basePrice,
  features: [
    { key: 'api_calls', name: 'API calls', kind: 'metered' as const, aggregation: 'sum' as const, includedUnits: 1000, price: { model: 'per_unit' as const, unitPrice: '0.002' } },
  ],
  ...extra,
});

describe.each(storeFactories())('periods and proration on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  /** A test scope, a test clock at `start`, a customer on it (with `timeZone`). */
  async function setup(start: string, customer: { timeZone?: string | null } = {}) {
    const ledger: Ledger = await createLedger({ store: store(), clock: new ManualClock(start), logger: silentLogger, invoices: { finalizeGraceMs: HOUR } });
    const scope: Scope = uniqueScope();
    await ledger.scopes.register(scope, 'test');
    const clock = await ledger.testClocks.create(scope, { at: start });
    const c = await ledger.customers.create(scope, { email: 'c@example.com', name: 'Clocked', testClockId: clock.id, ...customer });
    const invoices = async () =>
      (await ledger.invoices.listByCustomer(scope, c.id, { limit: 100 })).items.sort((a, b) => a.issueAt.getTime() - b.issueAt.getTime() || (a.id < b.id ? -1 : 1));
    const advance = (to: string) => ledger.billing.advanceClock(scope, { id: clock.id, to: at(to) });
    const calls = (key: string, quantity: number, timestamp: string) =>
      ledger.meter.meterDurable(scope, [{ idempotencyKey: key, customerId: c.id, featureKey: 'api_calls', quantity, timestamp }]);
    return { ledger, scope, customer: c, invoices, advance, calls };
  }
  const lines = (inv: Invoice | undefined) => inv!.lines.map((l) => [l.kind, l.amount]);

  describe('calendar billing', () => {
    it("Lago's example: 50.00 a month from August 10 bills 35.48 for August (50 × 22/31), then 50.00 from September 1; usage and its included units are not prorated", async () => {
      const { ledger, scope, customer, invoices, advance, calls } = await setup('2025-08-10T15:30:00Z');
      const plan = await ledger.plans.create(scope, monthly('lago', 5000, { billingCycle: 'calendar' }));
      expect(plan.billingCycle).toBe('calendar');
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      expect(sub).toMatchObject({
        billingCycle: 'calendar',
        timeZone: null,
        billingAnchor: at('2025-08-10T15:30:00Z'),
        currentPeriodStart: at('2025-08-10T15:30:00Z'),
        currentPeriodEnd: at('2025-09-01T00:00:00Z'),
      });
      const [first] = await invoices();
      expect(first).toMatchObject({ billingReason: 'subscription_create', status: 'open', subtotal: 3548, total: 3548 });
      expect(first!.lines).toMatchObject([
        { kind: 'base_fee', description: 'Lago plan (22 of 31 days)', amount: 3548, periodStart: at('2025-08-10T15:30:00Z'), periodEnd: at('2025-09-01T00:00:00Z') },
      ]);

      // 1,500 calls in the short August: the full 1,000 included units apply, 500 × 0.002 = 1.00.
      await advance('2025-08-20T00:00:00Z');
      await calls('aug', 1500, '2025-08-20T00:00:00Z');
      await advance('2025-09-01T02:00:00Z');
      const [, september] = await invoices();
      expect(september).toMatchObject({ billingReason: 'subscription_cycle', total: 5100, periodStart: at('2025-08-10T15:30:00Z'), periodEnd: at('2025-09-01T00:00:00Z') });
      expect(september!.lines.map((l) => [l.kind, l.amount, l.periodStart.toISOString(), l.periodEnd.toISOString()])).toEqual([
        ['usage', 100, '2025-08-10T15:30:00.000Z', '2025-09-01T00:00:00.000Z'],
        ['base_fee', 5000, '2025-09-01T00:00:00.000Z', '2025-10-01T00:00:00.000Z'],
      ]);
      await advance('2025-10-01T02:00:00Z');
      const october = (await invoices())[2];
      expect(october!.lines.map((l) => [l.kind, l.amount, l.periodStart.toISOString()])).toEqual([
        ['usage', 0, '2025-09-01T00:00:00.000Z'],
        ['base_fee', 5000, '2025-10-01T00:00:00.000Z'],
      ]);
      expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ currentPeriodStart: at('2025-10-01T00:00:00Z'), currentPeriodEnd: at('2025-11-01T00:00:00Z') });
    });

    it('the subscription overrides the plan: calendar on an anniversary plan, anniversary on a calendar plan', async () => {
      const { ledger, scope, customer } = await setup('2025-08-10T00:00:00Z');
      const anniversary = await ledger.plans.create(scope, monthly('anniversary', 5000));
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: anniversary.id, billingCycle: 'calendar' });
      expect(sub).toMatchObject({ billingCycle: 'calendar', currentPeriodEnd: at('2025-09-01T00:00:00Z') });
      await ledger.subscriptions.cancel(scope, sub.id, { at: 'now' });
      const calendar = await ledger.plans.create(scope, monthly('calendar', 5000, { billingCycle: 'calendar' }));
      const other = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: calendar.id, billingCycle: 'anniversary' });
      expect(other).toMatchObject({ billingCycle: 'anniversary', currentPeriodEnd: at('2025-09-10T00:00:00Z') });
      await rejectsWith(ledger.subscriptions.create(scope, { customerId: customer.id, planId: calendar.id, billingCycle: 'fiscal' as 'calendar' }), 'invalid');
    });

    it('weekly from Wednesday March 12: 5 of 7 days of 7.00 = 5.00 to Monday March 17; yearly from April 1: 275 of 365 days of 120.00 = 90.41', async () => {
      const { ledger, scope, customer, invoices } = await setup('2025-03-12T09:00:00Z');
      const weekly = await ledger.plans.create(scope, { ...monthly('weekly', 700, { billingCycle: 'calendar' }), interval: { unit: 'week' } });
      const w = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: weekly.id });
      expect(w.currentPeriodEnd).toEqual(at('2025-03-17T00:00:00Z'));
      expect((await invoices())[0]!.total).toBe(500);
      await ledger.subscriptions.cancel(scope, w.id, { at: 'now' });

      const later = await setup('2025-04-01T12:00:00Z');
      const yearly = await later.ledger.plans.create(later.scope, { ...monthly('yearly', 12000, { billingCycle: 'calendar' }), interval: { unit: 'year' } });
      const y = await later.ledger.subscriptions.create(later.scope, { customerId: later.customer.id, planId: yearly.id });
      expect(y.currentPeriodEnd).toEqual(at('2026-01-01T00:00:00Z'));
      expect((await later.invoices())[0]!.lines).toMatchObject([{ amount: 9041, description: 'Yearly plan (275 of 365 days)' }]);
    });

    it('a trial ending mid-month starts a short calendar period: trial to Aug 24, then 8 of 31 days of 50.00 = 12.90', async () => {
      const { ledger, scope, customer, invoices, advance } = await setup('2025-08-10T00:00:00Z');
      const plan = await ledger.plans.create(scope, monthly('trial', 5000, { billingCycle: 'calendar', trialDays: 14 }));
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      expect(sub).toMatchObject({ status: 'trialing', currentPeriodEnd: at('2025-08-24T00:00:00Z') });
      await advance('2025-08-24T02:00:00Z');
      expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'active', currentPeriodStart: at('2025-08-24T00:00:00Z'), currentPeriodEnd: at('2025-09-01T00:00:00Z') });
      const [trialEnd] = await invoices();
      // The trial's usage is free: no usage line.
      expect(lines(trialEnd)).toEqual([['base_fee', 1290]]);
    });

    it('a change in the short first period prorates over the whole calendar month: 50.00 → 80.00 on August 20 credits 12/31 of 50.00 and charges 12/31 of 80.00', async () => {
      const { ledger, scope, customer, invoices, advance } = await setup('2025-08-10T00:00:00Z');
      const plan = await ledger.plans.create(scope, monthly('small', 5000, { billingCycle: 'calendar' }));
      const big = await ledger.plans.create(scope, monthly('big', 8000, { billingCycle: 'calendar' }));
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      await advance('2025-08-20T00:00:00Z');
      await ledger.subscriptions.changePlan(scope, sub.id, { planId: big.id });
      const [, change] = await invoices();
      // −50.00 × 12/31 = −19.35, +80.00 × 12/31 = 30.97
      expect(lines(change)).toEqual([['proration', -1935], ['proration', 3097]]);
      expect(change!.total).toBe(1162);
    });
  });

  describe("the customer's time zone", () => {
    it('a New York customer: October from 04:00Z (EDT), November from Nov 1 04:00Z to Dec 1 05:00Z (EST); no overlap, no gap', async () => {
      const { ledger, scope, customer, invoices, advance, calls } = await setup('2025-10-20T12:00:00Z', { timeZone: 'America/New_York' });
      expect(customer.timeZone).toBe('America/New_York');
      const plan = await ledger.plans.create(scope, monthly('ny', 5000, { billingCycle: 'calendar' }));
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      expect(sub).toMatchObject({ timeZone: 'America/New_York', currentPeriodEnd: at('2025-11-01T04:00:00Z') });
      // October 20 to 31 in New York: 12 of 31 days of 50.00 = 19.35.
      expect((await invoices())[0]!.total).toBe(1935);
      // The last second of October in New York and the first of November.
      await advance('2025-11-01T03:59:59Z');
      await calls('oct', 1001, '2025-11-01T03:59:59Z');
      await advance('2025-11-01T04:00:00Z');
      await calls('nov', 1002, '2025-11-01T04:00:00Z');
      await advance('2025-12-01T06:00:00Z');
      const [, november, december] = await invoices();
      expect(november!.lines.map((l) => [l.kind, l.quantity, l.periodStart.toISOString(), l.periodEnd.toISOString()])).toEqual([
        ['usage', '1001', '2025-10-20T12:00:00.000Z', '2025-11-01T04:00:00.000Z'],
        ['base_fee', '1', '2025-11-01T04:00:00.000Z', '2025-12-01T05:00:00.000Z'],
      ]);
      expect(december!.lines.map((l) => [l.kind, l.quantity, l.periodStart.toISOString(), l.periodEnd.toISOString()])).toEqual([
        ['usage', '1002', '2025-11-01T04:00:00.000Z', '2025-12-01T05:00:00.000Z'],
        ['base_fee', '1', '2025-12-01T05:00:00.000Z', '2026-01-01T05:00:00.000Z'],
      ]);
    });

    it('anniversary billing ignores the time zone: the exact instant, a month later in UTC', async () => {
      const { ledger, scope, customer } = await setup('2025-10-20T12:00:00Z', { timeZone: 'America/New_York' });
      const plan = await ledger.plans.create(scope, monthly('anniversary', 5000));
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      expect(sub).toMatchObject({ billingCycle: 'anniversary', timeZone: null, currentPeriodEnd: at('2025-11-20T12:00:00Z') });
    });

    it('time zones are IANA names checked with Intl: canonical spelling kept, unknown ones refused and nothing stored', async () => {
      const { ledger, scope, customer } = await setup('2025-10-20T12:00:00Z');
      expect(customer.timeZone).toBeNull();
      expect((await ledger.customers.update(scope, customer.id, { timeZone: 'europe/paris' })).timeZone).toBe('Europe/Paris');
      expect((await ledger.customers.get(scope, customer.id)).timeZone).toBe('Europe/Paris');
      await rejectsWith(ledger.customers.update(scope, customer.id, { timeZone: 'Mars/Olympus_Mons' }), 'invalid');
      await rejectsWith(ledger.customers.create(scope, { email: 'x@example.com', name: 'X', timeZone: 'EST5EDT+nonsense' }), 'invalid');
      expect((await ledger.customers.get(scope, customer.id)).timeZone).toBe('Europe/Paris');
      expect((await ledger.customers.list(scope)).items).toHaveLength(1);
      expect((await ledger.customers.update(scope, customer.id, { timeZone: null })).timeZone).toBeNull();
    });
  });

  describe('proration behaviour (Stripe: proration_behavior)', () => {
    /** Basic 10.00 and Plus 20.00 a month from April 1; at April 16 half of April's 30 days are left. */
    async function mid(behavior?: 'always_invoice' | 'create_prorations' | 'none', planExtra: Record<string, unknown> = {}) {
      const s = await setup('2025-04-01T00:00:00Z');
      const basic = await s.ledger.plans.create(s.scope, monthly('basic', 1000, planExtra));
      const plus = await s.ledger.plans.create(s.scope, monthly('plus', 2000, planExtra));
      const sub = await s.ledger.subscriptions.create(s.scope, { customerId: s.customer.id, planId: basic.id });
      await s.advance('2025-04-16T00:00:00Z');
      return { ...s, basic, plus, sub, behavior };
    }

    it('always_invoice (the default, as before the option): −5.00 and +10.00 invoiced at once', async () => {
      for (const behavior of [undefined, 'always_invoice' as const]) {
        const { ledger, scope, sub, plus, invoices } = await mid(behavior);
        const preview = await ledger.subscriptions.previewChange(scope, sub.id, { planId: plus.id, ...(behavior ? { prorationBehavior: behavior } : {}) });
        expect(preview).toMatchObject({ effective: 'now', prorationsBilled: 'now', invoice: { total: 500 } });
        const changed = await ledger.subscriptions.changePlan(scope, sub.id, { planId: plus.id, ...(behavior ? { prorationBehavior: behavior } : {}) });
        expect(changed.pendingProrations).toEqual([]);
        const [, update] = await invoices();
        expect(update).toMatchObject({ billingReason: 'subscription_update', status: 'open', total: 500 });
        expect(lines(update)).toEqual([['proration', -500], ['proration', 1000]]);
      }
    });

    it('create_prorations: nothing invoiced now; the lines wait for the renewal on May 1: 20.00 − 5.00 + 10.00 = 25.00', async () => {
      const { ledger, scope, sub, plus, invoices, advance } = await mid();
      const preview = await ledger.subscriptions.previewChange(scope, sub.id, { planId: plus.id, prorationBehavior: 'create_prorations' });
      expect(preview).toMatchObject({ effective: 'now', prorationsBilled: 'next_invoice', invoice: { total: 500 } });
      const changed = await ledger.subscriptions.changePlan(scope, sub.id, { planId: plus.id, prorationBehavior: 'create_prorations' });
      expect(changed.planId).toBe(plus.id);
      expect(changed.pendingProrations.map((l) => [l.id, l.amount])).toEqual([['proration:0', -500], ['proration:1', 1000]]);
      expect(await invoices()).toHaveLength(1);
      expect((await ledger.subscriptions.get(scope, sub.id)).pendingProrations).toHaveLength(2);
      await advance('2025-05-01T02:00:00Z');
      const [, renewal] = await invoices();
      expect(renewal!.lines.map((l) => [l.id, l.amount])).toEqual([['usage:api_calls', 0], ['base_fee:plan', 2000], ['proration:0', -500], ['proration:1', 1000]]);
      expect(renewal!.total).toBe(2500);
      expect((await ledger.subscriptions.get(scope, sub.id)).pendingProrations).toEqual([]);
    });

    it('create_prorations then a cancellation now: the final invoice takes the kept lines', async () => {
      const { ledger, scope, sub, plus, invoices } = await mid();
      await ledger.subscriptions.changePlan(scope, sub.id, { planId: plus.id, prorationBehavior: 'create_prorations' });
      const ended = await ledger.subscriptions.cancel(scope, sub.id, { at: 'now' });
      expect(ended.pendingProrations).toEqual([]);
      const [, final] = await invoices();
      expect(final).toMatchObject({ billingReason: 'subscription_cancel', total: 500 });
      expect(lines(final)).toEqual([['usage', 0], ['proration', -500], ['proration', 1000]]);
    });

    it('none: the plan changes, no credit and no charge for the rest of the period; the renewal bills 20.00', async () => {
      const { ledger, scope, sub, plus, invoices, advance } = await mid();
      const preview = await ledger.subscriptions.previewChange(scope, sub.id, { planId: plus.id, prorationBehavior: 'none' });
      expect(preview).toMatchObject({ effective: 'now', prorationsBilled: null, invoice: null });
      const changed = await ledger.subscriptions.changePlan(scope, sub.id, { planId: plus.id, prorationBehavior: 'none' });
      expect(changed).toMatchObject({ planId: plus.id, pendingProrations: [] });
      expect(await invoices()).toHaveLength(1);
      await advance('2025-05-01T02:00:00Z');
      expect((await invoices())[1]!.total).toBe(2000);
    });

    it('changeSeats takes the same option: 1 → 3 seats at 5.00 with create_prorations keeps +10.00 for the renewal', async () => {
      const s = await setup('2025-04-01T00:00:00Z');
      const seats = await s.ledger.plans.create(s.scope, {
        ...monthly('seats', 0),
        features: [{ key: 'seats', name: 'Seats', kind: 'licensed' as const, includedUnits: 0, price: { model: 'per_unit' as const, unitPrice: '5' } }],
      });
      const sub = await s.ledger.subscriptions.create(s.scope, { customerId: s.customer.id, planId: seats.id });
      await s.advance('2025-04-16T00:00:00Z');
      const changed = await s.ledger.subscriptions.changeSeats(s.scope, sub.id, { quantity: 3, prorationBehavior: 'create_prorations' });
      // −5.00 × 15/30 = −2.50, +15.00 × 15/30 = +7.50
      expect(changed.pendingProrations.map((l) => l.amount)).toEqual([-250, 750]);
      await s.ledger.subscriptions.changeSeats(s.scope, sub.id, { quantity: 2, prorationBehavior: 'none' });
      await s.advance('2025-05-01T02:00:00Z');
      const [, renewal] = await s.invoices();
      expect(renewal!.lines.map((l) => [l.id, l.amount])).toEqual([['license:seats', 1000], ['proration:0', -250], ['proration:1', 750]]);
      await rejectsWith(s.ledger.subscriptions.changeSeats(s.scope, sub.id, { quantity: 1, prorationBehavior: 'later' as 'none' }), 'invalid');
    });
  });

  describe('per-plan change rules', () => {
    it('upgrades at renewal: nothing billed now, the new plan from May 1', async () => {
      const s = await setup('2025-04-01T00:00:00Z');
      const basic = await s.ledger.plans.create(s.scope, monthly('basic', 1000, { changeRules: { upgrade: { when: 'at_renewal' } } }));
      expect(basic.changeRules).toEqual({ upgrade: { when: 'at_renewal', proration: 'prorate' }, downgrade: { when: 'at_renewal', proration: 'prorate' } });
      const plus = await s.ledger.plans.create(s.scope, monthly('plus', 2000));
      const sub = await s.ledger.subscriptions.create(s.scope, { customerId: s.customer.id, planId: basic.id });
      await s.advance('2025-04-16T00:00:00Z');
      expect(await s.ledger.subscriptions.previewChange(s.scope, sub.id, { planId: plus.id })).toMatchObject({ effective: 'period_end', upgrade: true });
      const scheduled = await s.ledger.subscriptions.changePlan(s.scope, sub.id, { planId: plus.id });
      expect(scheduled).toMatchObject({ planId: basic.id, pendingChange: { planId: plus.id, quantity: 1 } });
      await s.advance('2025-05-01T02:00:00Z');
      const [, renewal] = await s.invoices();
      expect(lines(renewal)).toEqual([['usage', 0], ['base_fee', 2000]]);
      expect((await s.ledger.subscriptions.get(s.scope, sub.id)).planId).toBe(plus.id);
    });

    it('the change says when, over the plan: upgradeAt "now" on a plan that upgrades at renewal', async () => {
      const s = await setup('2025-04-01T00:00:00Z');
      const basic = await s.ledger.plans.create(s.scope, monthly('basic', 1000, { changeRules: { upgrade: { when: 'at_renewal' } } }));
      const plus = await s.ledger.plans.create(s.scope, monthly('plus', 2000));
      const sub = await s.ledger.subscriptions.create(s.scope, { customerId: s.customer.id, planId: basic.id });
      await s.advance('2025-04-16T00:00:00Z');
      await s.ledger.subscriptions.changePlan(s.scope, sub.id, { planId: plus.id, upgradeAt: 'now' });
      expect((await s.invoices())[1]!.total).toBe(500);
    });

    it('upgrades charged in full: 10.00 → 20.00 on April 16 credits −10.00 and charges +20.00 for the whole of April', async () => {
      const s = await setup('2025-04-01T00:00:00Z');
      const basic = await s.ledger.plans.create(s.scope, monthly('basic', 1000, { changeRules: { upgrade: { proration: 'full' } } }));
      const plus = await s.ledger.plans.create(s.scope, monthly('plus', 2000));
      const sub = await s.ledger.subscriptions.create(s.scope, { customerId: s.customer.id, planId: basic.id });
      await s.advance('2025-04-16T00:00:00Z');
      await s.ledger.subscriptions.changePlan(s.scope, sub.id, { planId: plus.id });
      const [, update] = await s.invoices();
      expect(lines(update)).toEqual([['proration', -1000], ['proration', 2000]]);
      expect(update!.total).toBe(1000);
    });

    it('downgrades immediately: 20.00 → 10.00 on April 16 credits −10.00 × 15/30 and charges +5.00, a credit of 2.50', async () => {
      const s = await setup('2025-04-01T00:00:00Z');
      const plus = await s.ledger.plans.create(s.scope, monthly('plus', 2000, { changeRules: { downgrade: { when: 'immediately' } } }));
      const basic = await s.ledger.plans.create(s.scope, monthly('basic', 1000));
      const sub = await s.ledger.subscriptions.create(s.scope, { customerId: s.customer.id, planId: plus.id });
      await s.advance('2025-04-16T00:00:00Z');
      expect(await s.ledger.subscriptions.changePlan(s.scope, sub.id, { planId: basic.id })).toMatchObject({ planId: basic.id, pendingChange: null });
      const [, update] = await s.invoices();
      expect(lines(update)).toEqual([['proration', -1000], ['proration', 500]]);
      expect(update!.total).toBe(-500);
      // The change still decides: downgradeAt 'period_end' schedules it.
      const up = await s.ledger.subscriptions.changePlan(s.scope, sub.id, { planId: plus.id, prorationBehavior: 'none' });
      expect(up.planId).toBe(plus.id);
      expect(await s.ledger.subscriptions.changePlan(s.scope, sub.id, { planId: basic.id, downgradeAt: 'period_end' })).toMatchObject({ planId: plus.id, pendingChange: { planId: basic.id } });
    });

    it('bad rules are refused and no plan is made', async () => {
      const s = await setup('2025-04-01T00:00:00Z');
      await rejectsWith(s.ledger.plans.create(s.scope, monthly('bad', 1000, { changeRules: { upgrade: { when: 'tomorrow' } } })), 'invalid');
      await rejectsWith(s.ledger.plans.create(s.scope, monthly('bad', 1000, { billingCycle: 'lunar' })), 'invalid');
      expect((await s.ledger.plans.list(s.scope)).items).toEqual([]);
    });
  });

  describe('coupons and prorations', () => {
    async function withCoupon(coupon: Record<string, unknown>) {
      const s = await setup('2025-04-01T00:00:00Z');
      await s.ledger.coupons.create(s.scope, { code: 'SAVE', name: 'Save', duration: 'forever', ...coupon } as Parameters<Ledger['coupons']['create']>[1]);
      const basic = await s.ledger.plans.create(s.scope, monthly('basic', 1000));
      const plus = await s.ledger.plans.create(s.scope, monthly('plus', 2000));
      const sub = await s.ledger.subscriptions.create(s.scope, { customerId: s.customer.id, planId: basic.id, couponCode: 'SAVE' });
      await s.advance('2025-04-16T00:00:00Z');
      return { ...s, basic, plus, sub };
    }

    it('20 % off discounts the proration lines as the period: credit −4.00 (what was paid), charge 10.00 − 2.00; net 4.00 = 80 % of 5.00', async () => {
      const { ledger, scope, sub, plus, basic, invoices } = await withCoupon({ percentOff: '20' });
      expect((await invoices())[0]).toMatchObject({ subtotal: 1000, discount: 200, total: 800 });
      await ledger.subscriptions.changePlan(scope, sub.id, { planId: plus.id });
      const [, update] = await invoices();
      expect(update!.lines.map((l) => [l.amount, l.discount])).toEqual([[-400, 0], [1000, 200]]);
      expect(update!.lines[0]!.description).toBe('Unused time on Basic plan (after 20% off)');
      expect(update).toMatchObject({ subtotal: 600, discount: 200, total: 400, couponId: expect.stringMatching(/^cpn_/) });
      // Back at the same instant: the discounted charge is credited exactly, net zero over both.
      await ledger.subscriptions.changePlan(scope, sub.id, { planId: basic.id, downgradeAt: 'now' });
      const back = (await invoices())[2]!;
      expect(back.lines.map((l) => [l.amount, l.discount])).toEqual([[-800, 0], [500, 100]]);
      expect(update!.total + back.total).toBe(0);
    });

    it('held prorations keep the discount of their period: 20 % off once, an upgrade kept for May 1 bills 20.00 − 4.00 + (10.00 − 2.00) = 24.00, as always_invoice would (8.00 + 4.00 + 20.00 = 32.00 over April and May)', async () => {
      const { ledger, scope, sub, plus, invoices, advance } = await withCoupon({ percentOff: '20', duration: 'once' });
      await ledger.subscriptions.changePlan(scope, sub.id, { planId: plus.id, prorationBehavior: 'create_prorations' });
      expect((await ledger.subscriptions.get(scope, sub.id)).pendingProrations.map((l) => [l.amount, l.heldDiscount ?? null])).toEqual([
        [-400, null],
        [1000, 200],
      ]);
      await advance('2025-05-01T02:00:00Z');
      const [first, renewal] = await invoices();
      // The once coupon is spent: the renewal's own fee is not discounted; the held charge is.
      expect(renewal!.lines.filter((l) => l.kind !== 'usage').map((l) => [l.amount, l.discount])).toEqual([[2000, 0], [-400, 0], [1000, 200]]);
      expect(renewal!.total).toBe(2400);
      expect(first!.total + renewal!.total).toBe(800 + 400 + 2000);
    });

    it('an amount-off coupon took its amount off the period already: prorations are not discounted again', async () => {
      const { ledger, scope, sub, plus, invoices } = await withCoupon({ amountOff: 300, currency: 'USD' });
      await ledger.subscriptions.changePlan(scope, sub.id, { planId: plus.id });
      const [, update] = await invoices();
      expect(update).toMatchObject({ subtotal: 500, discount: 0, total: 500, couponId: null });
    });
  });
});
