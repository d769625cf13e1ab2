import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Customer } from '../../server/ledger/customer/types';
import type { Ledger } from '../../server/ledger/ledger';
import type { Plan } from '../../server/ledger/plan/types';
import type { Subscription } from '../../server/ledger/subscription/types';
import type { Scope } from '../../server/ledger/types';
import { proPlanInput } from '../support/builders';
import { rejectsWith, testEngine } from '../support/engine';
import { otherAppOf, storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * No read or write crosses a tenant/app scope. Tenant A owns a customer, a plan and a
 * subscription in one engine (one store); tenant B, and another app of tenant A, ask for
 * them by id, list, change them: they are not found, lists are empty, and A's rows are
 * as they were.
 */
describe.each(storeFactories())('tenant isolation through the engine ($name store)', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  describe.each([
    ['another tenant', (_a: Scope) => uniqueScope()],
    ['another app of the same tenant', (a: Scope) => otherAppOf(a)],
  ] as const)('%s', (_label, otherOf) => {
    let ledger: Ledger;
    let a: Scope;
    let b: Scope;
    let customer: Customer;
    let plan: Plan;
    let sub: Subscription;

    beforeEach(async () => {
      const e = await testEngine(store());
      ledger = e.ledger;
      a = e.scope;
      b = otherOf(a);
      customer = await ledger.customers.create(a, { email: 'ada@example.com', name: 'Ada', externalId: 'crm-1' });
      plan = await ledger.plans.create(a, proPlanInput());
      sub = await ledger.subscriptions.create(a, { customerId: customer.id, planId: plan.id });
      // Its first subscription fixed the customer's currency (USD): A as it now stands.
      customer = await ledger.customers.get(a, customer.id);
    });

    async function expectAUnchanged() {
      expect(await ledger.customers.get(a, customer.id)).toEqual(customer);
      expect(await ledger.plans.get(a, plan.id)).toEqual(plan);
      expect(await ledger.plans.getByKey(a, 'pro')).toEqual(plan);
      expect(await ledger.subscriptions.get(a, sub.id)).toEqual(sub);
      expect((await ledger.subscriptions.listByCustomer(a, customer.id)).items).toEqual([sub]);
    }

    it('B cannot see A\'s customers, plans or subscriptions', async () => {
      await rejectsWith(ledger.customers.get(b, customer.id), 'not_found');
      await rejectsWith(ledger.customers.getByExternalId(b, 'crm-1'), 'not_found');
      expect(await ledger.customers.list(b)).toEqual({ items: [], nextCursor: null });

      await rejectsWith(ledger.plans.get(b, plan.id), 'not_found');
      await rejectsWith(ledger.plans.getByKey(b, 'pro'), 'not_found');
      expect(await ledger.plans.list(b, { includeArchived: true })).toEqual({ items: [], nextCursor: null });

      await rejectsWith(ledger.subscriptions.get(b, sub.id), 'not_found');
      await rejectsWith(ledger.subscriptions.listByCustomer(b, customer.id), 'not_found');
    });

    it('B cannot update A\'s customer or plan, nor archive the plan', async () => {
      await rejectsWith(ledger.customers.update(b, customer.id, { name: 'Mallory' }), 'not_found');
      await rejectsWith(ledger.plans.update(b, plan.id, { name: 'Hijacked' }), 'not_found');
      await rejectsWith(ledger.plans.update(b, plan.id, { basePrice: 1 }), 'not_found');
      await rejectsWith(ledger.plans.archive(b, plan.id), 'not_found');
      await expectAUnchanged();
    });

    it('B cannot cancel or resume A\'s subscription', async () => {
      await rejectsWith(ledger.subscriptions.cancel(b, sub.id, { at: 'now' }), 'not_found');
      await rejectsWith(ledger.subscriptions.cancel(b, sub.id, { at: 'period_end' }), 'not_found');
      await rejectsWith(ledger.subscriptions.resume(b, sub.id), 'not_found');
      await expectAUnchanged();
    });

    it('B cannot subscribe A\'s customer, nor its own customer to A\'s plan', async () => {
      const theirs = await ledger.customers.create(b, { email: 'bob@example.com', name: 'Bob' });
      await rejectsWith(ledger.subscriptions.create(b, { customerId: customer.id, planId: plan.id }), 'not_found');
      await rejectsWith(ledger.subscriptions.create(b, { customerId: theirs.id, planId: plan.id }), 'not_found');
      expect((await ledger.subscriptions.listByCustomer(b, theirs.id)).items).toEqual([]);
      await expectAUnchanged();
    });

    it('B\'s own plan key and external id are its own: no conflict, no mix-up', async () => {
      const theirPlan = await ledger.plans.create(b, proPlanInput({ basePrice: 100 }));
      const theirCustomer = await ledger.customers.create(b, { email: 'bob@example.com', name: 'Bob', externalId: 'crm-1' });
      expect(await ledger.plans.getByKey(b, 'pro')).toEqual(theirPlan);
      expect(await ledger.customers.getByExternalId(b, 'crm-1')).toEqual(theirCustomer);
      expect((await ledger.plans.list(b)).items).toEqual([theirPlan]);
      expect((await ledger.customers.list(b)).items).toEqual([theirCustomer]);
      await expectAUnchanged();
      expect((await ledger.plans.list(a)).items).toEqual([plan]);
      expect((await ledger.customers.list(a)).items).toEqual([customer]);
    });
  });
});
