import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Customer } from '../../server/ledger/customer/types';
import type { Plan } from '../../server/ledger/plan/types';
import { proPlanInput } from '../support/builders';
import { DAY, T0, rejectsWith, testEngine, type TestEngine } from '../support/engine';
import { storeFactories, useStore } from '../support/stores';

const at = (iso: string) => new Date(iso);

describe.each(storeFactories())('subscriptions ($name store)', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  /** An engine whose clock starts at `start`, with a customer and the "pro" plan (seats capped at 10). */
  async function setup(start: Date | string = T0, plan: Parameters<typeof proPlanInput>[0] = {}) {
    const e = await testEngine(store(), { start });
    const customer = await e.ledger.customers.create(e.scope, { email: 'ada@example.com', name: 'Ada' });
    const p = await e.ledger.plans.create(e.scope, proPlanInput(plan));
    return { e, customer, plan: p };
  }

  describe('create', () => {
    it('a 14-day trial: trialing, the period is the trial [now, now + 14 days), billing anchored at its end', async () => {
      const { e, customer, plan } = await setup(T0, { trialDays: 14 });
      const sub = await e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: plan.id });
      const trialEnd = at('2025-01-29T10:00:00.000Z');
      expect(sub.id).toMatch(/^sub_/);
      expect(sub).toMatchObject({
        customerId: customer.id,
        planId: plan.id,
        status: 'trialing',
        quantity: 1,
        trialStart: T0,
        trialEnd,
        billingAnchor: trialEnd,
        currentPeriodStart: T0,
        currentPeriodEnd: trialEnd,
        cancelAtPeriodEnd: false,
        canceledAt: null,
        endedAt: null,
        metadata: {},
        createdAt: T0,
      });
      expect(await e.ledger.subscriptions.get(e.scope, sub.id)).toEqual(sub);
    });

    it('trialDays on the subscription overrides the plan: 0 means no trial', async () => {
      const { e, customer, plan } = await setup(T0, { trialDays: 14 });
      const sub = await e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: plan.id, trialDays: 0 });
      expect(sub).toMatchObject({ status: 'active', trialStart: null, trialEnd: null, billingAnchor: T0 });
    });

    it('no trial: active, a monthly period from now, Jan 15 10:00 to Feb 15 10:00', async () => {
      const { e, customer, plan } = await setup();
      const sub = await e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: plan.id });
      expect(sub).toMatchObject({
        status: 'active',
        trialStart: null,
        trialEnd: null,
        billingAnchor: T0,
        currentPeriodStart: T0,
        currentPeriodEnd: at('2025-02-15T10:00:00.000Z'),
      });
    });

    it('anchored on Jan 31, the first monthly period ends on Feb 28 (Feb 29 in a leap year)', async () => {
      const common = await setup('2025-01-31T00:00:00.000Z');
      const s1 = await common.e.ledger.subscriptions.create(common.e.scope, { customerId: common.customer.id, planId: common.plan.id });
      expect(s1.currentPeriodEnd).toEqual(at('2025-02-28T00:00:00.000Z'));

      const leap = await setup('2024-01-31T00:00:00.000Z');
      const s2 = await leap.e.ledger.subscriptions.create(leap.e.scope, { customerId: leap.customer.id, planId: leap.plan.id });
      expect(s2.currentPeriodEnd).toEqual(at('2024-02-29T00:00:00.000Z'));
    });

    it('a yearly plan bills a year from now', async () => {
      const { e, customer, plan } = await setup(T0, { interval: { unit: 'year' } });
      const sub = await e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: plan.id });
      expect(sub.currentPeriodEnd).toEqual(at('2026-01-15T10:00:00.000Z'));
    });

    it('seats up to the licensed limit (10) are fine; 11 is invalid and stores nothing', async () => {
      const { e, customer, plan } = await setup();
      const err = await rejectsWith(
        e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: plan.id, quantity: 11 }),
        'invalid',
      );
      expect(err.issues).toEqual([{ path: 'quantity', message: 'at most 10' }]);
      expect((await e.ledger.subscriptions.listByCustomer(e.scope, customer.id)).items).toEqual([]);

      const ok = await e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: plan.id, quantity: 10 });
      expect(ok.quantity).toBe(10);
    });

    it('a second live subscription for the customer is a conflict', async () => {
      const { e, customer, plan } = await setup();
      const first = await e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: plan.id });
      await rejectsWith(e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: plan.id }), 'conflict');
      expect((await e.ledger.subscriptions.listByCustomer(e.scope, customer.id)).items).toEqual([first]);
    });

    it('unknown customer or plan is not_found', async () => {
      const { e, customer, plan } = await setup();
      await rejectsWith(
        e.ledger.subscriptions.create(e.scope, { customerId: 'cst_01h455vb4pex5vsknk084sn02q', planId: plan.id }),
        'not_found',
      );
      await rejectsWith(
        e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: 'pln_01h455vb4pex5vsknk084sn02q' }),
        'not_found',
      );
    });
  });

  describe('ids from outside', () => {
    let e: TestEngine;
    let customer: Customer;
    let plan: Plan;
    beforeEach(async () => {
      ({ e, customer, plan } = await setup());
    });

    it('ids with the wrong prefix are invalid, saying which prefix was expected', async () => {
      const err = await rejectsWith(
        e.ledger.subscriptions.create(e.scope, { customerId: plan.id, planId: plan.id }),
        'invalid',
      );
      expect(err.message).toContain('"cst_…"');
      await rejectsWith(e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: customer.id }), 'invalid');
      await rejectsWith(e.ledger.subscriptions.get(e.scope, plan.id), 'invalid');
      await rejectsWith(e.ledger.subscriptions.cancel(e.scope, customer.id), 'invalid');
      await rejectsWith(e.ledger.subscriptions.resume(e.scope, 'sub_not-a-typeid'), 'invalid');
      await rejectsWith(e.ledger.subscriptions.listByCustomer(e.scope, plan.id), 'invalid');
    });

    it('a well-formed id nobody has is not_found', async () => {
      await rejectsWith(e.ledger.subscriptions.get(e.scope, 'sub_01h455vb4pex5vsknk084sn02q'), 'not_found');
      await rejectsWith(e.ledger.subscriptions.cancel(e.scope, 'sub_01h455vb4pex5vsknk084sn02q'), 'not_found');
      await rejectsWith(e.ledger.subscriptions.listByCustomer(e.scope, 'cst_01h455vb4pex5vsknk084sn02q'), 'not_found');
    });
  });

  describe('cancel and resume', () => {
    it('cancel at period end keeps it active, flagged; resume clears the flag', async () => {
      const { e, customer, plan } = await setup();
      const sub = await e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: plan.id });
      e.clock.advance(3 * DAY);
      const t = new Date(T0.getTime() + 3 * DAY);

      const scheduled = await e.ledger.subscriptions.cancel(e.scope, sub.id, { at: 'period_end' });
      expect(scheduled).toEqual({ ...sub, cancelAtPeriodEnd: true, canceledAt: t, updatedAt: t, version: sub.version + 1 });
      expect(await e.ledger.subscriptions.get(e.scope, sub.id)).toEqual(scheduled);
      // scheduling again changes nothing
      expect(await e.ledger.subscriptions.cancel(e.scope, sub.id)).toEqual(scheduled);

      e.clock.advance(DAY);
      const resumed = await e.ledger.subscriptions.resume(e.scope, sub.id);
      expect(resumed).toMatchObject({ status: 'active', cancelAtPeriodEnd: false, canceledAt: null, endedAt: null });
      expect(await e.ledger.subscriptions.get(e.scope, sub.id)).toEqual(resumed);
    });

    it('cancel now ends it: canceled, with endedAt; a second cancel or a resume is illegal_state', async () => {
      const { e, customer, plan } = await setup();
      const sub = await e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: plan.id });
      e.clock.advance(DAY);
      const t = new Date(T0.getTime() + DAY);

      const ended = await e.ledger.subscriptions.cancel(e.scope, sub.id, { at: 'now' });
      expect(ended).toMatchObject({ status: 'canceled', canceledAt: t, endedAt: t, cancelAtPeriodEnd: false });
      expect(await e.ledger.subscriptions.get(e.scope, sub.id)).toEqual(ended);

      await rejectsWith(e.ledger.subscriptions.cancel(e.scope, sub.id, { at: 'now' }), 'illegal_state');
      await rejectsWith(e.ledger.subscriptions.cancel(e.scope, sub.id, { at: 'period_end' }), 'illegal_state');
      await rejectsWith(e.ledger.subscriptions.resume(e.scope, sub.id), 'illegal_state');
      expect(await e.ledger.subscriptions.get(e.scope, sub.id)).toEqual(ended);
    });

    it('a scheduled cancellation can still be made immediate', async () => {
      const { e, customer, plan } = await setup();
      const sub = await e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: plan.id });
      await e.ledger.subscriptions.cancel(e.scope, sub.id);
      const ended = await e.ledger.subscriptions.cancel(e.scope, sub.id, { at: 'now' });
      expect(ended).toMatchObject({ status: 'canceled', cancelAtPeriodEnd: false, endedAt: T0 });
    });

    it('after a cancellation the customer may subscribe again; both are listed', async () => {
      const { e, customer, plan } = await setup();
      const first = await e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: plan.id });
      const ended = await e.ledger.subscriptions.cancel(e.scope, first.id, { at: 'now' });
      e.clock.advance(1);
      const second = await e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: plan.id });
      const listed = await e.ledger.subscriptions.listByCustomer(e.scope, customer.id);
      expect(listed.items.map((s) => s.id).sort()).toEqual([ended.id, second.id].sort());
      expect(listed.nextCursor).toBeNull();
    });

    it('an unknown cancellation mode is invalid', async () => {
      const { e, customer, plan } = await setup();
      const sub = await e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: plan.id });
      await rejectsWith(e.ledger.subscriptions.cancel(e.scope, sub.id, { at: 'tomorrow' } as never), 'invalid');
      expect(await e.ledger.subscriptions.get(e.scope, sub.id)).toEqual(sub);
    });
  });
});
