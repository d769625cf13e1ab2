import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, type Invoice, type Ledger, type Scope } from '@/server/ledger';
import { rejectsWith } from '../support/engine';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * The billing cycle and invoices, on every store, as a specification of billing rules
 * with concrete numbers. Plan "Pro": 49.00 a month in advance, seats at 10.00 (1
 * included) in advance, API calls at 0.002 above 1,000 included, in arrears.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const pro = {
  key: 'pro',
  name: 'Pro',
  currency: 'USD',
  interval: { unit: 'month' as const },
  basePrice: 4900,
  features: [
    { key: 'seats', name: 'Seats', kind: 'licensed' as const, includedUnits: 1, price: { model: 'per_unit' as const, unitPrice: '10' } },
    { key: 'api_calls', name: 'API calls', kind: 'metered' as const, aggregation: 'sum' as const, includedUnits: 1000, price: { model: 'per_unit' as const, unitPrice: '0.002' } },
  ],
};

describe.each(storeFactories())('billing on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function setup(start: Date | string = T0) {
    const clock = new ManualClock(start);
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger, invoices: { finalizeGraceMs: HOUR } });
    const scope = uniqueScope();
    const plan = await ledger.plans.create(scope, pro);
    const customer = await ledger.customers.create(scope, { email: 'b@example.com', name: 'Billie', country: 'US', region: 'TX' });
    const calls = (key: string, quantity: number, at = clock.now()) =>
      ledger.meter.meterDurable(scope, [{ idempotencyKey: key, customerId: customer.id, featureKey: 'api_calls', quantity, timestamp: at.toISOString() }]);
    const invoices = async () =>
      (await ledger.invoices.listByCustomer(scope, customer.id, { limit: 100 })).items.sort((a, b) => a.issueAt.getTime() - b.issueAt.getTime() || (a.id < b.id ? -1 : 1));
    return { ledger, clock, scope, plan, customer, calls, invoices };
  }
  const amountOf = (inv: Invoice, lineId: string) => inv.lines.find((l) => l.id === lineId)?.amount;
  /** The scope made a test scope, a test clock at `at` and a customer created on it. */
  async function onClock(ledger: Ledger, scope: Scope, at: Date) {
    await ledger.scopes.register(scope, 'test');
    const clock = await ledger.testClocks.create(scope, { at });
    const customer = await ledger.customers.create(scope, { email: 'c@example.com', name: 'Clocked', country: 'US', region: 'TX', testClockId: clock.id });
    const invoices = async () =>
      (await ledger.invoices.listByCustomer(scope, customer.id, { limit: 100 })).items.sort((a, b) => a.issueAt.getTime() - b.issueAt.getTime() || (a.id < b.id ? -1 : 1));
    return { clock, customer, invoices };
  }

  describe('the first invoice and the period end', () => {
    it("creating a subscription invoices the first period's fees at once: 49.00 + 2 paid seats × 10.00 = 69.00, INV-000001, open", async () => {
      const { ledger, scope, plan, customer, invoices } = await setup();
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: 3 });
      const [first, ...more] = await invoices();
      expect(more).toEqual([]);
      expect(first).toMatchObject({ number: 'INV-000001', status: 'open', billingReason: 'subscription_create', subtotal: 6900, total: 6900, amountDue: 6900 });
      expect(first!.lines.map((l) => [l.id, l.amount])).toEqual([
        ['base_fee:plan', 4900],
        ['license:seats', 2000],
      ]);
      // It closes no usage period: its own period is empty, at its issue; its lines bill the first month.
      expect([first!.periodStart, first!.periodEnd]).toEqual([T0, T0]);
      for (const l of first!.lines) expect([l.periodStart, l.periodEnd]).toEqual([T0, new Date('2025-02-15T10:00:00.000Z')]);
      expect(first!.customer).toMatchObject({ name: 'Billie', email: 'b@example.com', country: 'US' });
      expect(first!.taxNote).toBe('No tax rate for US/TX');
    });

    it("at the period end: the period's usage in arrears, the next period's fees in advance; a draft an hour for late usage, then INV-000002", async () => {
      const { ledger, clock, scope, plan, customer, calls, invoices } = await setup();
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: 1 });
      clock.set('2025-02-01T00:00:00Z');
      await calls('c1', 6000);
      clock.set('2025-02-15T10:00:00Z'); // the period ends
      const r1 = await ledger.billing.run(scope);
      expect(r1).toMatchObject({ periods: 1, invoicesCreated: 1, invoicesFinalized: 0 });
      const renewed = await ledger.subscriptions.get(scope, sub.id);
      expect(renewed).toMatchObject({ currentPeriodStart: new Date('2025-02-15T10:00:00Z'), currentPeriodEnd: new Date('2025-03-15T10:00:00Z') });

      let [, draft] = await invoices();
      expect(draft).toMatchObject({ status: 'draft', number: null, billingReason: 'subscription_cycle' });
      expect(amountOf(draft!, 'usage:api_calls')).toBe(1000); // 5,000 above the 1,000 included × 0.002
      expect(amountOf(draft!, 'base_fee:plan')).toBe(4900);
      expect(draft!.lines.find((l) => l.id === 'usage:api_calls')!.periodEnd).toEqual(new Date('2025-02-15T10:00:00Z'));
      expect(draft!.lines.find((l) => l.id === 'base_fee:plan')!.periodEnd).toEqual(new Date('2025-03-15T10:00:00Z'));

      // late usage of the ended period, inside the grace period, is billed
      clock.set('2025-02-15T10:30:00Z');
      await calls('late', 500, new Date('2025-02-15T09:59:59Z'));
      clock.set('2025-02-15T11:00:00Z');
      expect(await ledger.billing.run(scope)).toMatchObject({ periods: 0, invoicesFinalized: 1 });
      [, draft] = await invoices();
      expect(draft).toMatchObject({ status: 'open', number: 'INV-000002', total: 4900 + 1100 });
      // after finalization the invoice never changes
      await calls('too-late', 500, new Date('2025-02-15T09:59:58Z'));
      await ledger.billing.run(scope);
      expect((await invoices())[1]).toEqual(draft);
    });

    it('running the cycle again at the same time changes nothing', async () => {
      const { ledger, clock, scope, plan, customer, invoices } = await setup();
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      clock.set(new Date('2025-02-15T10:00:00Z').getTime() + 2 * HOUR);
      await ledger.billing.run(scope);
      const before = await invoices();
      expect(await ledger.billing.run(scope)).toEqual({ periods: 0, invoicesCreated: 0, invoicesFinalized: 0 });
      expect(await invoices()).toEqual(before);
      expect(before.map((i) => i.number)).toEqual(['INV-000001', 'INV-000002']);
    });

    it('two cycles at once: one invoice per subscription and period, and numbers without gaps or duplicates', async () => {
      const { ledger, clock, scope, plan } = await setup();
      for (let i = 0; i < 5; i++) {
        const c = await ledger.customers.create(scope, { email: `c${i}@example.com`, name: `C${i}` });
        await ledger.subscriptions.create(scope, { customerId: c.id, planId: plan.id });
      }
      clock.set(new Date('2025-03-15T10:00:00Z').getTime() + 2 * HOUR); // two periods ended
      await Promise.all([ledger.billing.run(scope), ledger.billing.run(scope), ledger.billing.run(scope)]);
      const all: Invoice[] = [];
      for (const c of (await ledger.customers.list(scope, { limit: 100 })).items) {
        all.push(...(await ledger.invoices.listByCustomer(scope, c.id, { limit: 100 })).items);
      }
      const customers = new Set(all.map((i) => i.customerId));
      expect(customers.size).toBe(5);
      expect(all.filter((i) => i.billingReason === 'subscription_cycle')).toHaveLength(10); // 5 subscriptions × 2 periods
      expect(all.every((i) => i.status === 'open')).toBe(true);
      const numbers = all.map((i) => Number(i.number!.slice(4))).sort((a, b) => a - b);
      expect(numbers).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    });

    it('an anchor on the 31st bills on the last day of shorter months: Feb 28, Mar 31, Apr 30', async () => {
      const { ledger, scope, plan } = await setup('2025-01-31T12:00:00Z');
      const { clock, customer, invoices } = await onClock(ledger, scope, new Date('2025-01-31T12:00:00Z'));
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      await ledger.billing.advanceClock(scope, { id: clock.id, to: new Date('2025-05-01T00:00:00Z') });
      expect((await invoices()).map((i) => i.issueAt.toISOString())).toEqual([
        '2025-01-31T12:00:00.000Z',
        '2025-02-28T12:00:00.000Z',
        '2025-03-31T12:00:00.000Z',
        '2025-04-30T12:00:00.000Z',
      ]);
    });
  });

  describe('trials', () => {
    it("no charge during a 14-day trial; at its end the first paid period's fees are invoiced and the trial's usage is free", async () => {
      const { ledger, clock, scope, plan, customer, calls, invoices } = await setup();
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, trialDays: 14 });
      await calls('trial-use', 50_000);
      expect(await invoices()).toEqual([]);
      clock.set(new Date(T0.getTime() + 14 * DAY));
      await ledger.billing.run(scope);
      const [first] = await invoices();
      expect(first).toMatchObject({ status: 'open', number: 'INV-000001', total: 4900 });
      expect(first!.lines.map((l) => l.id)).toEqual(['base_fee:plan']);
      expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({
        status: 'active',
        currentPeriodStart: new Date('2025-01-29T10:00:00Z'),
        currentPeriodEnd: new Date('2025-02-28T10:00:00Z'),
      });
    });

    it('a trial can end early: the first paid period starts now', async () => {
      const { ledger, clock, scope, plan, customer, invoices } = await setup();
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, trialDays: 30 });
      clock.advance(3 * DAY);
      const ended = await ledger.subscriptions.endTrial(scope, sub.id);
      expect(ended).toMatchObject({ status: 'active', currentPeriodStart: clock.now(), billingAnchor: clock.now() });
      expect((await invoices()).map((i) => [i.billingReason, i.total, i.status])).toEqual([['subscription_cycle', 4900, 'open']]);
      await rejectsWith(ledger.subscriptions.endTrial(scope, sub.id), 'illegal_state');
    });
  });

  describe('cancellation', () => {
    it("at period end: the last invoice bills the period's usage only, the subscription ends, and nothing follows", async () => {
      const { ledger, clock, scope, plan, customer, calls, invoices } = await setup();
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      await calls('u', 3000);
      await ledger.subscriptions.cancel(scope, sub.id, { at: 'period_end' });
      clock.set(new Date('2025-02-15T10:00:00Z').getTime() + 2 * HOUR);
      await ledger.billing.run(scope);
      const [, last] = await invoices();
      expect(last).toMatchObject({ billingReason: 'subscription_cancel', status: 'open', total: 400 });
      expect(last!.lines.map((l) => l.id)).toEqual(['usage:api_calls']);
      expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'canceled', endedAt: new Date('2025-02-15T10:00:00Z') });
      clock.advance(90 * DAY);
      await ledger.billing.run(scope);
      expect(await invoices()).toHaveLength(2);
    });

    it('now, with proration: usage to this moment, and the unused part of the fees credited', async () => {
      const { ledger, clock, scope, customer, calls, invoices } = await setup('2025-04-01T00:00:00Z');
      const plan = await ledger.plans.create(scope, { ...pro, key: 'pro30' });
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: 2 });
      await calls('u', 2000);
      clock.set('2025-04-16T00:00:00Z'); // half of April's 30 days left
      await ledger.subscriptions.cancel(scope, sub.id, { at: 'now', prorate: true });
      const [, final] = await invoices();
      expect(final!.lines.map((l) => [l.description, l.amount])).toEqual([
        ['API calls: 2000 units (1000 included)', 200],
        ['Unused time on Pro plan', -2450],
        ['Unused time on Seats × 2', -500],
      ]);
      expect(final).toMatchObject({ billingReason: 'subscription_cancel', total: 200 - 2450 - 500, status: 'draft' });
    });

    it('now, without proration: usage to this moment, no credit', async () => {
      const { ledger, clock, scope, plan, customer, calls, invoices } = await setup();
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      await calls('u', 1500);
      clock.advance(10 * DAY);
      await ledger.subscriptions.cancel(scope, sub.id, { at: 'now' });
      expect((await invoices())[1]).toMatchObject({ total: 100 });
    });
  });

  describe('plan and seat changes, prorated by seconds', () => {
    async function twoPlans() {
      const e = await setup('2025-04-01T00:00:00Z'); // April: 30 days
      const basic = await e.ledger.plans.create(e.scope, { key: 'basic', name: 'Basic', currency: 'USD', interval: { unit: 'month' }, basePrice: 1000 });
      const plus = await e.ledger.plans.create(e.scope, { key: 'plus', name: 'Plus', currency: 'USD', interval: { unit: 'month' }, basePrice: 2000 });
      return { ...e, basic, plus };
    }

    it("Stripe's example: 10.00 → 20.00 at exactly mid-period invoices −5.00 and +10.00, net 5.00, at once", async () => {
      const { ledger, clock, scope, customer, basic, plus, invoices } = await twoPlans();
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: basic.id });
      clock.set('2025-04-16T00:00:00Z');
      const preview = await ledger.subscriptions.previewChange(scope, sub.id, { planId: plus.id });
      expect(preview).toMatchObject({ effective: 'now', upgrade: true, invoice: { total: 500 } });
      const changed = await ledger.subscriptions.changePlan(scope, sub.id, { planId: plus.id });
      expect(changed.planId).toBe(plus.id);
      const [, update] = await invoices();
      expect(update).toMatchObject({ billingReason: 'subscription_update', status: 'open', total: 500 });
      expect(update!.lines.map((l) => l.amount)).toEqual([-500, 1000]);
      // the next period bills Plus in full
      clock.set('2025-05-01T02:00:00Z');
      await ledger.billing.run(scope);
      expect((await invoices())[2]).toMatchObject({ billingReason: 'subscription_cycle', total: 2000 });
    });

    it('a downgrade waits for the period end by default, then the new plan is billed', async () => {
      const { ledger, clock, scope, customer, basic, plus, invoices } = await twoPlans();
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plus.id });
      clock.set('2025-04-10T00:00:00Z');
      expect(await ledger.subscriptions.previewChange(scope, sub.id, { planId: basic.id })).toEqual({ effective: 'period_end', upgrade: false, invoice: null, prorationsBilled: null });
      const scheduled = await ledger.subscriptions.changePlan(scope, sub.id, { planId: basic.id });
      expect(scheduled).toMatchObject({ planId: plus.id, pendingChange: { planId: basic.id, quantity: 1 } });
      expect(await invoices()).toHaveLength(1);
      clock.set('2025-05-01T00:00:00Z');
      await ledger.billing.run(scope);
      expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ planId: basic.id, pendingChange: null });
      expect((await invoices())[1]).toMatchObject({ total: 1000 });
    });

    it('a downgrade now credits more than it charges: the credit is taken off the next invoice', async () => {
      const { ledger, clock, scope, customer, basic, plus, invoices } = await twoPlans();
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plus.id });
      clock.set('2025-04-16T00:00:00Z');
      await ledger.subscriptions.changePlan(scope, sub.id, { planId: basic.id, downgradeAt: 'now' });
      const [, down] = await invoices();
      expect(down).toMatchObject({ total: -500, amountDue: 0, creditApplied: 0 });
      clock.set('2025-05-01T00:00:00Z');
      await ledger.billing.run(scope);
      expect((await invoices())[2]).toMatchObject({ total: 1000, creditApplied: 500, amountDue: 500 });
    });

    it('an upgrade and the downgrade back at the same instant net exactly zero', async () => {
      const { ledger, clock, scope, customer, basic, plus, invoices } = await twoPlans();
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: basic.id });
      clock.set('2025-04-11T07:13:27Z');
      await ledger.subscriptions.changePlan(scope, sub.id, { planId: plus.id });
      await ledger.subscriptions.changePlan(scope, sub.id, { planId: basic.id, downgradeAt: 'now' });
      const changes = (await invoices()).filter((i) => i.billingReason === 'subscription_update');
      expect(changes).toHaveLength(2);
      expect(changes[0]!.total + changes[1]!.total).toBe(0);
      expect(changes[0]!.total).toBeGreaterThan(0);
    });

    it('seats 1 → 3 at mid-period bills 2 seats for half the period: 10.00', async () => {
      const { ledger, clock, scope, customer, invoices } = await setup('2025-04-01T00:00:00Z');
      const plan = await ledger.plans.create(scope, { ...pro, key: 'seats' });
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: 2 });
      clock.set('2025-04-16T00:00:00Z');
      await ledger.subscriptions.changeSeats(scope, sub.id, { quantity: 4 });
      const [, seats] = await invoices();
      expect(seats!.lines.map((l) => [l.description, l.amount])).toEqual([
        ['Unused time on Seats × 2', -500],
        ['Remaining time on Seats × 4', 1500],
      ]);
      expect(seats!.total).toBe(1000);
      expect((await ledger.subscriptions.get(scope, sub.id)).quantity).toBe(4);
    });
  });

  describe('coupons and taxes', () => {
    it('a coupon for 3 periods discounts the first invoice and the next two, not the fourth', async () => {
      const { ledger, clock, scope, plan, customer, invoices } = await setup();
      await ledger.coupons.create(scope, { code: 'spring25', name: 'Spring', percentOff: '25', duration: 'repeating', durationPeriods: 3 });
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, couponCode: 'SPRING25' });
      clock.set('2025-04-15T12:00:00Z');
      await ledger.billing.run(scope);
      expect((await invoices()).map((i) => i.discount)).toEqual([1225, 1225, 1225, 0]);
    });

    it('a once coupon redeemed mid-period discounts the next invoice only', async () => {
      const { ledger, clock, scope, plan, customer, invoices } = await setup();
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      await ledger.coupons.create(scope, { code: 'ONCE10', name: 'Ten off', amountOff: 1000, currency: 'USD', duration: 'once' });
      await ledger.subscriptions.applyCoupon(scope, sub.id, 'once10');
      clock.set('2025-03-15T12:00:00Z');
      await ledger.billing.run(scope);
      expect((await invoices()).map((i) => i.discount)).toEqual([0, 1000, 0]);
    });

    it('VAT 20 % by the customer country; exempt and reverse-charge customers pay none and the invoice says why', async () => {
      const { ledger, scope, plan } = await setup();
      await ledger.taxRates.create(scope, { displayName: 'VAT', country: 'GB', percentage: '20' });
      const gb = await ledger.customers.create(scope, { email: 'g@example.com', name: 'G', country: 'GB' });
      const exempt = await ledger.customers.create(scope, { email: 'e@example.com', name: 'E', country: 'GB', taxStatus: 'exempt' });
      const reverse = await ledger.customers.create(scope, { email: 'r@example.com', name: 'R', country: 'GB', taxStatus: 'reverse_charge', taxId: 'GB123456789' });
      for (const c of [gb, exempt, reverse]) await ledger.subscriptions.create(scope, { customerId: c.id, planId: plan.id });
      const first = async (id: string) => (await ledger.invoices.listByCustomer(scope, id)).items[0]!;
      expect(await first(gb.id)).toMatchObject({ tax: 980, total: 5880, taxRate: { displayName: 'VAT', percentage: '20' }, taxNote: null });
      expect(await first(exempt.id)).toMatchObject({ tax: 0, total: 4900, taxRate: null, taxNote: 'Tax exempt' });
      expect((await first(reverse.id)).taxNote).toMatch(/Reverse charge.*GB123456789/);
    });

    it("the customer's details are copied at finalization: editing the customer later does not change an issued invoice", async () => {
      const { ledger, scope, plan, customer, invoices } = await setup();
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      await ledger.customers.update(scope, customer.id, { name: 'Renamed', address: { line1: '1 Main St', city: 'Austin' } });
      expect((await invoices())[0]!.customer).toMatchObject({ name: 'Billie', address: null });
    });
  });

  describe('the invoice state machine', () => {
    it('open → void; void is final; draft cannot be voided; uncollectible → paid', async () => {
      const { ledger, clock, scope, plan, customer, invoices } = await setup();
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      clock.set('2025-02-15T10:00:00Z');
      await ledger.billing.run(scope);
      const [open, draft] = await invoices();
      await rejectsWith(ledger.invoices.void(scope, draft!.id), 'illegal_state');
      await rejectsWith(ledger.invoices.markUncollectible(scope, draft!.id), 'illegal_state');
      const voided = await ledger.invoices.void(scope, open!.id, { reason: 'duplicate' });
      expect(voided).toMatchObject({ status: 'void', voidReason: 'duplicate', amountDue: 0 });
      await rejectsWith(ledger.invoices.void(scope, open!.id), 'illegal_state');
      await rejectsWith(ledger.invoices.markPaid(scope, open!.id), 'illegal_state');
      const fin = await ledger.invoices.finalize(scope, draft!.id);
      expect(fin.number).toBe('INV-000002');
      await rejectsWith(ledger.invoices.finalize(scope, draft!.id), 'illegal_state');
      expect((await ledger.invoices.markUncollectible(scope, fin.id)).status).toBe('uncollectible');
      expect((await ledger.invoices.markPaid(scope, fin.id)).status).toBe('paid');
    });

    it('a credit note lowers what is owed and is numbered; it cannot exceed what is left, nor credit a draft', async () => {
      const { ledger, clock, scope, plan, customer, invoices } = await setup();
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      const [open] = await invoices();
      const { creditNote, invoice } = await ledger.invoices.createCreditNote(scope, open!.id, { amount: 900, reason: 'billing_error', memo: 'goodwill' });
      expect(creditNote).toMatchObject({ number: 'CN-000001', amount: 900, currency: 'USD' });
      expect(invoice).toMatchObject({ credited: 900, amountDue: 4000, total: 4900, lines: open!.lines });
      await rejectsWith(ledger.invoices.createCreditNote(scope, open!.id, { amount: 4001, reason: 'billing_error' }), 'invalid');
      expect((await ledger.invoices.createCreditNote(scope, open!.id, { amount: 4000, reason: 'duplicate' })).invoice.amountDue).toBe(0);
      expect((await ledger.invoices.listCreditNotes(scope, open!.id)).map((n) => n.number)).toEqual(['CN-000001', 'CN-000002']);
      clock.set('2025-02-15T10:00:00Z');
      await ledger.billing.run(scope);
      const [, draft] = await invoices();
      await rejectsWith(ledger.invoices.createCreditNote(scope, draft!.id, { amount: 1, reason: 'duplicate' }), 'illegal_state');
    });

    it('refreshing a draft with no new usage changes nothing (regenerating is idempotent)', async () => {
      const { ledger, clock, scope, plan, customer, calls, invoices } = await setup();
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      await calls('u', 4321);
      clock.set('2025-02-15T10:00:00Z');
      await ledger.billing.run(scope);
      const [, draft] = await invoices();
      const again = await ledger.invoices.refresh(scope, draft!.id);
      const { updatedAt: _a, ...x } = again;
      const { updatedAt: _b, ...y } = draft!;
      expect(x).toEqual(y);
    });

    it('a draft generated ahead of the cycle is left as it is when nothing changed: the stored basis reads back equal', async () => {
      const { ledger, clock, scope, plan, customer, calls } = await setup();
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: 3 });
      await calls('u', 2500);
      clock.set(sub.currentPeriodEnd);
      const draft = await ledger.billing.generateInvoice(scope, sub.id, { start: sub.currentPeriodStart, end: sub.currentPeriodEnd });
      const updateDraft = ledger.store.invoices.updateDraft.bind(ledger.store.invoices);
      let rebased = 0;
      ledger.store.invoices.updateDraft = (s, inv) => {
        if (inv.id === draft.id) rebased++;
        return updateDraft(s, inv);
      };
      await ledger.billing.run(scope);
      ledger.store.invoices.updateDraft = updateDraft;
      expect(rebased).toBe(0);
      expect((await ledger.invoices.get(scope, draft.id)).total).toBe(draft.total);
    });

    it("tenant B can neither read nor change tenant A's invoices", async () => {
      const { ledger, scope, plan, customer, invoices } = await setup();
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      const [inv] = await invoices();
      const b: Scope = uniqueScope();
      await rejectsWith(ledger.invoices.get(b, inv!.id), 'not_found');
      await rejectsWith(ledger.invoices.void(b, inv!.id), 'not_found');
      await rejectsWith(ledger.invoices.createCreditNote(b, inv!.id, { amount: 1, reason: 'duplicate' }), 'not_found');
      await rejectsWith(ledger.invoices.listByCustomer(b, customer.id), 'not_found');
      expect(await ledger.billing.run(b)).toEqual({ periods: 0, invoicesCreated: 0, invoicesFinalized: 0 });
      expect((await ledger.invoices.get(scope, inv!.id)).status).toBe('open');
    });
  });

  it('a year of monthly billing, advanced by a test clock: usage, a 25 % coupon for 3 periods and 20 % VAT, invoice by invoice', async () => {
    const { ledger, scope, customer: bystander } = await setup();
    const { clock, customer } = await onClock(ledger, scope, T0);
    await ledger.taxRates.create(scope, { displayName: 'VAT', country: 'US', region: 'TX', percentage: '20' });
    const plan = await ledger.plans.create(scope, {
      key: 'year',
      name: 'Year',
      currency: 'USD',
      interval: { unit: 'month' },
      basePrice: 4900,
      features: [{ key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', includedUnits: 1000, price: { model: 'per_unit', unitPrice: '0.002' } }],
    });
    await ledger.coupons.create(scope, { code: 'WELCOME', name: 'Welcome', percentOff: '25', duration: 'repeating', durationPeriods: 3 });
    await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, couponCode: 'welcome' });
    const start = Date.parse('2025-01-15T10:00:00Z');
    for (let k = 1; k <= 12; k++) {
      // month k: 1,000 + 500·k calls, metered on the 20th of the month
      const midMonth = new Date(new Date(start).setUTCMonth(new Date(start).getUTCMonth() + k - 1) + 5 * DAY);
      await ledger.billing.advanceClock(scope, { id: clock.id, to: midMonth });
      await ledger.meter.meterDurable(scope, [{ idempotencyKey: `m${k}`, customerId: customer.id, featureKey: 'api_calls', quantity: 1000 + 500 * k, timestamp: midMonth.toISOString() }]);
    }
    await ledger.billing.advanceClock(scope, { id: clock.id, to: new Date('2026-01-15T12:00:00Z') });
    const all = (await ledger.invoices.listByCustomer(scope, customer.id, { limit: 100 })).items.sort((a, b) => a.issueAt.getTime() - b.issueAt.getTime());
    // Invoice 0: 49.00 − 25 % = 36.75, + 20 % = 44.10. Invoice k (k = 1..12) bills month
    // k's usage (500·k calls above the included: k × 1.00) and the next month's 49.00:
    // k ≤ 2 (the coupon's 2nd and 3rd periods): (4900 + 100k) × 0.75 × 1.2 = 4410 + 90k;
    // k ≥ 3: (4900 + 100k) × 1.2 = 5880 + 120k.
    const expected = [4410, ...Array.from({ length: 12 }, (_, i) => (i + 1 <= 2 ? 4410 + 90 * (i + 1) : 5880 + 120 * (i + 1)))];
    expect(all.map((i) => i.total)).toEqual(expected);
    expect(all.map((i) => i.number)).toEqual(Array.from({ length: 13 }, (_, i) => `INV-${String(i + 1).padStart(6, '0')}`));
    expect(all.every((i) => i.status === 'open')).toBe(true);
    expect(all.map((i) => i.issueAt.toISOString().slice(0, 10))).toEqual([
      '2025-01-15', '2025-02-15', '2025-03-15', '2025-04-15', '2025-05-15', '2025-06-15', '2025-07-15',
      '2025-08-15', '2025-09-15', '2025-10-15', '2025-11-15', '2025-12-15', '2026-01-15',
    ]);
    expect(ledger.now(scope, customer.id)).toEqual(new Date('2026-01-15T12:00:00Z'));
    // Only the clock's customer moved: the scope's other customer is still at the real time.
    expect(ledger.now(scope, bystander.id)).toEqual(T0);
    expect((await ledger.invoices.listByCustomer(scope, bystander.id)).items).toEqual([]);
  });
});

export type { Ledger };

describe('generateInvoice', () => {
  it("makes the ended period's invoice once, as the cycle would; the cycle then moves the subscription without a second one", async () => {
    const clock = new ManualClock(T0);
    const ledger = await createLedger({ clock, logger: silentLogger, invoices: { finalizeGraceMs: HOUR } });
    const scope = uniqueScope();
    const plan = await ledger.plans.create(scope, pro);
    const customer = await ledger.customers.create(scope, { email: 'g@example.com', name: 'G' });
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    const period = { start: sub.currentPeriodStart, end: sub.currentPeriodEnd };
    await rejectsWith(ledger.billing.generateInvoice(scope, sub.id, period), 'invalid'); // not ended yet
    clock.set(period.end);
    const inv = await ledger.billing.generateInvoice(scope, sub.id, period);
    expect(inv).toMatchObject({ status: 'draft', billingReason: 'subscription_cycle', issueAt: period.end, total: 4900 });
    expect((await ledger.billing.generateInvoice(scope, sub.id, period)).id).toBe(inv.id);
    await rejectsWith(ledger.billing.generateInvoice(scope, sub.id, { start: period.end, end: new Date(period.end.getTime() + 28 * DAY) }), 'invalid');
    expect(await ledger.runBillingCycle(scope, clock.now())).toMatchObject({ periods: 1, invoicesCreated: 0 });
    expect((await ledger.invoices.listByCustomer(scope, customer.id)).items).toHaveLength(2);
  });
});

describe('changes around period ends and races (each found in review, now rules)', () => {
  const basicPlus = async (ledger: Ledger, scope: Scope, aggregation: 'sum' | 'max' = 'sum', included = 0) => {
    const metered = { key: 'units', name: 'Units', kind: 'metered' as const, aggregation, includedUnits: included, price: { model: 'per_unit' as const, unitPrice: '1' } };
    const basic = await ledger.plans.create(scope, { key: 'basic', name: 'Basic', currency: 'USD', interval: { unit: 'month' }, basePrice: 1000, features: [metered] });
    const plus = await ledger.plans.create(scope, { key: 'plus', name: 'Plus', currency: 'USD', interval: { unit: 'month' }, basePrice: 2000, features: [metered] });
    const yearly = await ledger.plans.create(scope, { key: 'yearly', name: 'Yearly', currency: 'USD', interval: { unit: 'year' }, basePrice: 12000, features: [metered] });
    return { basic, plus, yearly };
  };
  async function world(aggregation: 'sum' | 'max' = 'sum', included = 0) {
    const clock = new ManualClock('2025-04-01T00:00:00Z');
    const ledger = await createLedger({ clock, logger: silentLogger, invoices: { finalizeGraceMs: HOUR } });
    const scope = uniqueScope();
    const plans = await basicPlus(ledger, scope, aggregation, included);
    const customer = await ledger.customers.create(scope, { email: 'r@example.com', name: 'R' });
    const use = (key: string, quantity: number, at: string) =>
      ledger.meter.meterDurable(scope, [{ idempotencyKey: key, customerId: customer.id, featureKey: 'units', quantity, timestamp: new Date(at).toISOString() }]);
    const invoices = async () => (await ledger.invoices.listByCustomer(scope, customer.id, { limit: 100 })).items.sort((a, b) => a.issueAt.getTime() - b.issueAt.getTime());
    const usageBilled = async () => (await invoices()).flatMap((i) => i.lines.filter((l) => l.kind === 'usage')).reduce((a, l) => a + Number(l.quantity), 0);
    return { clock, ledger, scope, customer, use, invoices, usageBilled, ...plans };
  }

  it('a change made after a period ended, before the cycle ran, first settles the ended period: usage is billed once', async () => {
    const { clock, ledger, scope, customer, use, basic, plus, usageBilled, invoices } = await world();
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: basic.id });
    clock.set('2025-04-20T00:00:00Z');
    await use('april', 10, '2025-04-20T00:00:00Z');
    clock.set('2025-05-01T03:00:00Z');
    await use('may', 5, '2025-05-01T03:00:00Z');
    clock.set('2025-05-01T06:00:00Z'); // the period ended at midnight; no cycle has run
    await ledger.subscriptions.changePlan(scope, sub.id, { planId: plus.id });
    clock.set('2025-06-01T02:00:00Z');
    await ledger.billing.run(scope);
    expect(await usageBilled()).toBe(15);
    expect((await invoices()).map((i) => i.billingReason)).toEqual(['subscription_create', 'subscription_cycle', 'subscription_update', 'subscription_cycle']);
  });

  it('an invoice generated ahead of the cycle stays the one invoice of its period when the subscription changes before the cycle runs', async () => {
    const { clock, ledger, scope, customer, basic, invoices } = await world();
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: basic.id });
    clock.set('2025-05-01T00:00:00Z');
    await ledger.billing.generateInvoice(scope, sub.id, { start: sub.currentPeriodStart, end: sub.currentPeriodEnd });
    await ledger.subscriptions.cancel(scope, sub.id, { at: 'period_end' }); // settles May 1 first, then schedules
    const may1 = (await invoices()).filter((i) => i.issueAt.getTime() === Date.parse('2025-05-01T00:00:00Z'));
    expect(may1.map((i) => i.billingReason)).toEqual(['subscription_cycle']);
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ cancelAtPeriodEnd: true, currentPeriodEnd: new Date('2025-06-01T00:00:00Z') });
  });

  it('plan changes back and forth do not grant included units again: the period\'s usage is billed once, at its end', async () => {
    const { clock, ledger, scope, customer, use, basic, plus, invoices } = await world('sum', 1000);
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: basic.id });
    clock.set('2025-04-02T00:00:00Z');
    await use('u', 3000, '2025-04-02T00:00:00Z');
    for (const day of ['05', '10']) {
      clock.set(`2025-04-${day}T00:00:00Z`);
      await ledger.subscriptions.changePlan(scope, sub.id, { planId: plus.id });
      await ledger.subscriptions.changePlan(scope, sub.id, { planId: basic.id, downgradeAt: 'now' });
    }
    clock.set('2025-05-01T02:00:00Z');
    await ledger.billing.run(scope);
    const usage = (await invoices()).flatMap((i) => i.lines.filter((l) => l.kind === 'usage'));
    expect(usage.map((l) => [l.quantity, l.amount])).toEqual([['3000', 200000]]); // 2,000 above the 1,000 included × 1.00
  });

  it('a peak (max) is billed once for its period, whatever changes happen in it', async () => {
    const { clock, ledger, scope, customer, use, basic, plus, invoices } = await world('max');
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: basic.id });
    clock.set('2025-04-03T00:00:00Z');
    await use('peak', 100, '2025-04-03T00:00:00Z');
    clock.set('2025-04-16T00:00:00Z');
    await ledger.subscriptions.changePlan(scope, sub.id, { planId: plus.id });
    clock.set('2025-05-01T02:00:00Z');
    await ledger.billing.run(scope);
    expect((await invoices()).flatMap((i) => i.lines.filter((l) => l.kind === 'usage')).map((l) => l.amount)).toEqual([10000]);
  });

  it('a trial set to end the subscription cannot be ended early into a paid period', async () => {
    const { ledger, scope, customer, basic } = await world();
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: basic.id, trialDays: 14 });
    await ledger.subscriptions.cancel(scope, sub.id, { at: 'period_end' });
    await rejectsWith(ledger.subscriptions.endTrial(scope, sub.id), 'illegal_state');
    expect((await ledger.subscriptions.get(scope, sub.id)).status).toBe('trialing');
  });

  it('a forever coupon stays on a change of interval: the new yearly period is discounted', async () => {
    const { clock, ledger, scope, customer, basic, yearly, invoices } = await world();
    await ledger.coupons.create(scope, { code: 'HALF', name: 'Half', percentOff: '50', duration: 'forever' });
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: basic.id, couponCode: 'HALF' });
    clock.set('2025-04-16T00:00:00Z');
    await ledger.subscriptions.changePlan(scope, sub.id, { planId: yearly.id });
    const update = (await invoices()).find((i) => i.billingReason === 'subscription_update')!;
    expect(update.lines.find((l) => l.kind === 'base_fee')).toMatchObject({ amount: 12000, discount: 6000 });
  });

  it('seats changed after a downgrade was scheduled are kept by the downgrade', async () => {
    const { clock, ledger, scope, customer } = await world();
    const seat = { key: 'seats', name: 'Seats', kind: 'licensed' as const, price: { model: 'per_unit' as const, unitPrice: '5' } };
    const big = await ledger.plans.create(scope, { key: 'big', name: 'Big', currency: 'USD', interval: { unit: 'month' }, basePrice: 5000, features: [seat] });
    const small = await ledger.plans.create(scope, { key: 'small', name: 'Small', currency: 'USD', interval: { unit: 'month' }, basePrice: 1000, features: [seat] });
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: big.id, quantity: 2 });
    clock.set('2025-04-10T00:00:00Z');
    await ledger.subscriptions.changePlan(scope, sub.id, { planId: small.id });
    await ledger.subscriptions.changeSeats(scope, sub.id, { quantity: 8 });
    clock.set('2025-05-01T00:00:00Z');
    await ledger.billing.run(scope);
    expect(await ledger.subscriptions.get(scope, sub.id)).toMatchObject({ planId: small.id, quantity: 8 });
  });

  it('cancelling now discounts the final invoice with the coupon, as a period end would', async () => {
    const { clock, ledger, scope, customer, use, basic, invoices } = await world();
    await ledger.coupons.create(scope, { code: 'TENTH', name: 'Tenth', percentOff: '10', duration: 'forever' });
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: basic.id, couponCode: 'tenth' });
    clock.set('2025-04-05T00:00:00Z');
    await use('u', 50, '2025-04-05T00:00:00Z');
    clock.set('2025-04-10T00:00:00Z');
    await ledger.subscriptions.cancel(scope, sub.id, { at: 'now' });
    expect((await invoices()).find((i) => i.billingReason === 'subscription_cancel')).toMatchObject({ subtotal: 5000, discount: 500, total: 4500 });
  });

  it('a change whose invoice cannot be made at once stands; the next cycle run makes the invoice it owes', async () => {
    const { clock, ledger, scope, customer, use, basic, invoices } = await world();
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: basic.id });
    clock.set('2025-04-05T00:00:00Z');
    await use('u', 7, '2025-04-05T00:00:00Z');
    clock.set('2025-04-10T00:00:00Z');
    const store = ledger.store.invoices;
    const insertOnce = store.insertOnce.bind(store);
    store.insertOnce = async () => {
      throw new Error('database unavailable');
    };
    const canceled = await ledger.subscriptions.cancel(scope, sub.id, { at: 'now' });
    store.insertOnce = insertOnce;
    expect(canceled.status).toBe('canceled');
    expect((await invoices()).map((i) => i.billingReason)).toEqual(['subscription_create']);
    expect((await ledger.subscriptions.get(scope, sub.id)).outbox).toHaveLength(1);

    await ledger.billing.run(scope);
    const final = (await invoices()).find((i) => i.billingReason === 'subscription_cancel');
    expect(final?.lines.find((l) => l.kind === 'usage')).toMatchObject({ quantity: '7', amount: 700 });
    expect((await ledger.subscriptions.get(scope, sub.id)).outbox).toEqual([]);
    await ledger.billing.run(scope); // and only once
    expect((await invoices()).filter((i) => i.billingReason === 'subscription_cancel')).toHaveLength(1);
  });

  it('a subscription created while invoices cannot be made still gets its first invoice from the cycle', async () => {
    const { ledger, scope, customer, basic, invoices } = await world();
    const store = ledger.store.invoices;
    const insertOnce = store.insertOnce.bind(store);
    store.insertOnce = async () => {
      throw new Error('database unavailable');
    };
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: basic.id });
    store.insertOnce = insertOnce;
    expect(sub.status).toBe('active');
    expect(await invoices()).toEqual([]);
    await ledger.billing.run(scope);
    expect((await invoices()).map((i) => [i.billingReason, i.total, i.status])).toEqual([['subscription_create', 1000, 'open']]);
  });

  it('a plan change that loses a race with another write makes no invoice at all', async () => {
    const { clock, ledger, scope, customer, basic, plus, invoices } = await world();
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: basic.id });
    clock.set('2025-04-16T00:00:00Z');
    const store = ledger.store.subscriptions;
    const update = store.update.bind(store);
    let raced = false;
    store.update = async (s, next, expected) => {
      if (!raced) {
        raced = true; // another writer gets there first
        const current = (await store.get(s, next.id))!;
        await update(s, { ...current, metadata: { by: 'someone else' }, version: current.version + 1 }, current.version);
      }
      return update(s, next, expected);
    };
    await rejectsWith(ledger.subscriptions.changePlan(scope, sub.id, { planId: plus.id }), 'conflict');
    store.update = update;
    expect((await invoices()).map((i) => i.billingReason)).toEqual(['subscription_create']);
    expect((await ledger.subscriptions.get(scope, sub.id)).planId).toBe(basic.id);
  });
});
