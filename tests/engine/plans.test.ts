import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Plan } from '../../server/ledger/plan/types';
import { proPlanInput } from '../support/builders';
import { DAY, T0, rejectsWith, testEngine, type TestEngine } from '../support/engine';
import { storeFactories, useStore } from '../support/stores';

/**
 * Plans are versioned: a change of what anyone pays makes a new version with a new id;
 * existing subscriptions keep theirs. Runs on memory and on PostgreSQL (PGlite, and a
 * server when TEST_DATABASE_URL is set), since versioning relies on the store.
 */
describe.each(storeFactories())('plans ($name store)', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let e: TestEngine;
  let customerSeq = 0;
  beforeEach(async () => {
    e = await testEngine(store());
  });
  const newCustomer = () =>
    e.ledger.customers.create(e.scope, { email: `c${++customerSeq}@example.com`, name: `C${customerSeq}` });

  describe('create', () => {
    it('creates version 1 of a plan line, with tiers, ids for its features and defaults applied', async () => {
      const plan = await e.ledger.plans.create(e.scope, proPlanInput());
      expect(plan.id).toMatch(/^pln_/);
      expect(plan).toMatchObject({
        key: 'pro',
        version: 1,
        isLatest: true,
        status: 'active',
        currency: 'USD',
        interval: { unit: 'month', count: 1 },
        basePrice: 4900,
        trialDays: 0,
        createdAt: T0,
        updatedAt: T0,
      });
      expect(plan.features.map((f) => f.key)).toEqual(['api_calls', 'seats', 'sso']);
      for (const f of plan.features) expect(f.id).toMatch(/^fea_/);
      const calls = plan.features[0]!;
      expect(calls.kind === 'metered' && calls.price).toEqual({
        model: 'graduated',
        tiers: [
          { upTo: 100, unitPrice: '0.10', flatFee: 0 },
          { upTo: null, unitPrice: '0.05', flatFee: 0 },
        ],
      });
      expect(await e.ledger.plans.get(e.scope, plan.id)).toEqual(plan);
      expect(await e.ledger.plans.getByKey(e.scope, 'pro')).toEqual(plan);
    });

    it('rejects tiers that leave a gap as invalid, naming the tier, and stores nothing', async () => {
      const input = proPlanInput({
        features: [
          {
            key: 'api_calls',
            name: 'API calls',
            kind: 'metered',
            aggregation: 'sum',
            price: { model: 'graduated', tiers: [{ upTo: 100, unitPrice: '0.10' }, { upTo: 50, unitPrice: '0.05' }] },
          },
        ],
      });
      const err = await rejectsWith(e.ledger.plans.create(e.scope, input), 'invalid');
      expect(err.issues.map((i) => i.path)).toContain('features.0.price.tiers.1.upTo');
      expect((await e.ledger.plans.list(e.scope, { includeArchived: true })).items).toEqual([]);
    });

    it('rejects a float price in minor units and an unknown currency as invalid', async () => {
      const err = await rejectsWith(
        e.ledger.plans.create(e.scope, proPlanInput({ basePrice: 49.99, currency: 'XXY' })),
        'invalid',
      );
      expect(err.issues.map((i) => i.path).sort()).toEqual(['basePrice', 'currency']);
    });

    it('rejects a second plan line with the same key as a conflict', async () => {
      await e.ledger.plans.create(e.scope, proPlanInput());
      await rejectsWith(e.ledger.plans.create(e.scope, proPlanInput({ name: 'Pro again' })), 'conflict');
    });
  });

  describe('update', () => {
    let v1: Plan;
    beforeEach(async () => {
      v1 = await e.ledger.plans.create(e.scope, proPlanInput({ trialDays: 7 }));
      e.clock.advance(DAY);
    });

    it('a new name is edited in place: same id, same version, every price kept', async () => {
      const u = await e.ledger.plans.update(e.scope, v1.id, { name: 'Pro 2025' });
      expect(u).toEqual({ ...v1, name: 'Pro 2025', updatedAt: new Date(T0.getTime() + DAY) });
      expect(await e.ledger.plans.get(e.scope, v1.id)).toEqual(u);
      expect(await e.ledger.plans.getByKey(e.scope, 'pro')).toEqual(u);
    });

    it('description and metadata are edited in place too', async () => {
      const u = await e.ledger.plans.update(e.scope, v1.id, { description: 'New words', metadata: { tier: 'platinum' } });
      expect(u).toMatchObject({ id: v1.id, version: 1, description: 'New words', metadata: { tier: 'platinum' } });
      expect(u.features).toEqual(v1.features);
    });

    it('the same price sent again is no change: no new version', async () => {
      const u = await e.ledger.plans.update(e.scope, v1.id, { basePrice: 4900, features: proPlanInput().features });
      expect(u.id).toBe(v1.id);
      expect(u.version).toBe(1);
    });

    it('a new price makes version 2 with a new id; version 1 stays readable and stops being the latest', async () => {
      const v2 = await e.ledger.plans.update(e.scope, v1.id, { basePrice: 5900 });
      expect(v2.id).not.toBe(v1.id);
      expect(v2).toMatchObject({ key: 'pro', version: 2, isLatest: true, basePrice: 5900, trialDays: 7 });
      expect(v2.createdAt).toEqual(new Date(T0.getTime() + DAY));
      // features keep their ids across versions: they are the same features
      expect(v2.features).toEqual(v1.features);

      const old = await e.ledger.plans.get(e.scope, v1.id);
      expect(old).toMatchObject({ id: v1.id, version: 1, isLatest: false, basePrice: 4900 });
      expect(await e.ledger.plans.getByKey(e.scope, 'pro')).toEqual(v2);
      expect((await e.ledger.plans.list(e.scope)).items.map((p) => p.id)).toEqual([v2.id]);
    });

    it('existing subscriptions stay pinned to the version they bought', async () => {
      const customer = await newCustomer();
      const sub = await e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: v1.id });
      const v2 = await e.ledger.plans.update(e.scope, v1.id, { basePrice: 5900 });
      const again = await e.ledger.subscriptions.get(e.scope, sub.id);
      expect(again.planId).toBe(v1.id);
      expect((await e.ledger.plans.get(e.scope, again.planId)).basePrice).toBe(4900);

      // new subscriptions get the new version, and only the new version
      const other = await newCustomer();
      await rejectsWith(e.ledger.subscriptions.create(e.scope, { customerId: other.id, planId: v1.id }), 'illegal_state');
      const fresh = await e.ledger.subscriptions.create(e.scope, { customerId: other.id, planId: v2.id });
      expect(fresh.planId).toBe(v2.id);
    });

    it('changing a version that is not the latest is illegal_state', async () => {
      await e.ledger.plans.update(e.scope, v1.id, { basePrice: 5900 });
      await rejectsWith(e.ledger.plans.update(e.scope, v1.id, { name: 'Old renamed' }), 'illegal_state');
      await rejectsWith(e.ledger.plans.update(e.scope, v1.id, { basePrice: 100 }), 'illegal_state');
      expect((await e.ledger.plans.get(e.scope, v1.id)).name).toBe('Pro');
    });

    it('rejects a change of key (not updatable) and bad values as invalid, changing nothing', async () => {
      await rejectsWith(e.ledger.plans.update(e.scope, v1.id, { key: 'other' } as never), 'invalid');
      const err = await rejectsWith(e.ledger.plans.update(e.scope, v1.id, { trialDays: -1 }), 'invalid');
      expect(err.issues.map((i) => i.path)).toEqual(['trialDays']);
      expect(await e.ledger.plans.get(e.scope, v1.id)).toEqual(v1);
    });

    it('an unknown plan is not_found; a customer id is invalid', async () => {
      await rejectsWith(e.ledger.plans.update(e.scope, 'pln_01h455vb4pex5vsknk084sn02q', { name: 'X' }), 'not_found');
      const c = await newCustomer();
      await rejectsWith(e.ledger.plans.update(e.scope, c.id, { name: 'X' }), 'invalid');
    });
  });

  describe('archive', () => {
    it('withdraws the plan line: no new subscriptions, no changes, off the list; existing ones continue', async () => {
      const plan = await e.ledger.plans.create(e.scope, proPlanInput());
      const customer = await newCustomer();
      const sub = await e.ledger.subscriptions.create(e.scope, { customerId: customer.id, planId: plan.id });
      e.clock.advance(DAY);

      const archived = await e.ledger.plans.archive(e.scope, plan.id);
      expect(archived).toMatchObject({ id: plan.id, status: 'archived', updatedAt: new Date(T0.getTime() + DAY) });
      expect(await e.ledger.plans.get(e.scope, plan.id)).toMatchObject({ status: 'archived' });

      const other = await newCustomer();
      await rejectsWith(e.ledger.subscriptions.create(e.scope, { customerId: other.id, planId: plan.id }), 'illegal_state');
      await rejectsWith(e.ledger.plans.update(e.scope, plan.id, { name: 'Back' }), 'illegal_state');

      expect((await e.ledger.plans.list(e.scope)).items).toEqual([]);
      expect((await e.ledger.plans.list(e.scope, { includeArchived: true })).items.map((p) => p.id)).toEqual([plan.id]);
      expect(await e.ledger.subscriptions.get(e.scope, sub.id)).toEqual(sub);
    });

    it('archives every version of the line, and is idempotent', async () => {
      const v1 = await e.ledger.plans.create(e.scope, proPlanInput());
      const v2 = await e.ledger.plans.update(e.scope, v1.id, { basePrice: 5900 });
      await e.ledger.plans.archive(e.scope, v1.id);
      expect((await e.ledger.plans.get(e.scope, v1.id)).status).toBe('archived');
      expect((await e.ledger.plans.get(e.scope, v2.id)).status).toBe('archived');
      const again = await e.ledger.plans.archive(e.scope, v2.id);
      expect(again.status).toBe('archived');
    });
  });

  describe('list', () => {
    it('lists the latest version of each line by key, paged by key', async () => {
      for (const key of ['team', 'basic', 'pro']) await e.ledger.plans.create(e.scope, proPlanInput({ key }));
      const p1 = await e.ledger.plans.list(e.scope, { limit: 2 });
      expect(p1.items.map((p) => p.key)).toEqual(['basic', 'pro']);
      expect(p1.nextCursor).toBe('pro');
      const p2 = await e.ledger.plans.list(e.scope, { limit: 2, cursor: p1.nextCursor! });
      expect(p2.items.map((p) => p.key)).toEqual(['team']);
      expect(p2.nextCursor).toBeNull();
    });
  });
});
