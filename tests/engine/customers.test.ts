import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DAY, T0, rejectsWith, testEngine, type TestEngine } from '../support/engine';
import { storeFactories, useStore } from '../support/stores';

describe.each(storeFactories())('customers ($name store)', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let e: TestEngine;
  beforeEach(async () => {
    e = await testEngine(store());
  });

  describe('create', () => {
    it('stores a customer with a cst_ id, the clock\'s time and defaults for what was not given', async () => {
      const c = await e.ledger.customers.create(e.scope, { email: 'ada@example.com', name: '  Ada  ', country: 'gb' });
      expect(c.id).toMatch(/^cst_[0-9a-z]{26}$/);
      expect(c).toMatchObject({
        email: 'ada@example.com',
        name: 'Ada',
        country: 'GB',
        region: null,
        externalId: null,
        metadata: {},
        createdAt: T0,
        updatedAt: T0,
      });
      expect(await e.ledger.customers.get(e.scope, c.id)).toEqual(c);
    });

    it('rejects a bad email as invalid, naming the field, and stores nothing', async () => {
      const err = await rejectsWith(e.ledger.customers.create(e.scope, { email: 'not-an-email', name: 'Ada' }), 'invalid');
      expect(err.issues.map((i) => i.path)).toEqual(['email']);
      expect(err.message).toContain('email');
      expect((await e.ledger.customers.list(e.scope)).items).toEqual([]);
    });

    it('names every offending field at once', async () => {
      const err = await rejectsWith(
        e.ledger.customers.create(e.scope, { email: 'x', name: '   ', country: 'Germany' }),
        'invalid',
      );
      expect(err.issues.map((i) => i.path).sort()).toEqual(['country', 'email', 'name']);
      expect((await e.ledger.customers.list(e.scope)).items).toEqual([]);
    });

    it('rejects a second customer with the same external id as a conflict', async () => {
      const first = await e.ledger.customers.create(e.scope, { email: 'a@example.com', name: 'A', externalId: 'crm-42' });
      await rejectsWith(
        e.ledger.customers.create(e.scope, { email: 'b@example.com', name: 'B', externalId: 'crm-42' }),
        'conflict',
      );
      expect(await e.ledger.customers.getByExternalId(e.scope, 'crm-42')).toEqual(first);
      expect((await e.ledger.customers.list(e.scope)).items).toHaveLength(1);
    });
  });

  describe('read', () => {
    it('finds a customer by external id; an unknown one is not_found', async () => {
      const c = await e.ledger.customers.create(e.scope, { email: 'a@example.com', name: 'A', externalId: 'crm-1' });
      expect(await e.ledger.customers.getByExternalId(e.scope, 'crm-1')).toEqual(c);
      await rejectsWith(e.ledger.customers.getByExternalId(e.scope, 'crm-2'), 'not_found');
    });

    it('rejects an id of another entity as invalid, and an unknown customer id as not_found', async () => {
      const plan = await e.ledger.plans.create(e.scope, { key: 'p', name: 'P', currency: 'USD', interval: { unit: 'month' } });
      const err = await rejectsWith(e.ledger.customers.get(e.scope, plan.id), 'invalid');
      expect(err.message).toContain('"pln_"');
      await rejectsWith(e.ledger.customers.get(e.scope, 'cst_01h455vb4pex5vsknk084sn02q'), 'not_found');
    });

    it('pages through customers oldest first: 3 customers, 2 a page', async () => {
      const made = [];
      for (const n of ['a', 'b', 'c']) {
        made.push(await e.ledger.customers.create(e.scope, { email: `${n}@example.com`, name: n }));
        e.clock.advance(1);
      }
      const ids = made.map((c) => c.id).sort();
      const p1 = await e.ledger.customers.list(e.scope, { limit: 2 });
      expect(p1.items.map((c) => c.id)).toEqual(ids.slice(0, 2));
      expect(p1.nextCursor).toBe(ids[1]);
      const p2 = await e.ledger.customers.list(e.scope, { limit: 2, cursor: p1.nextCursor! });
      expect(p2.items.map((c) => c.id)).toEqual(ids.slice(2));
      expect(p2.nextCursor).toBeNull();
    });

    it('rejects a page limit above 100 as invalid', async () => {
      const err = await rejectsWith(e.ledger.customers.list(e.scope, { limit: 101 }), 'invalid');
      expect(err.issues.map((i) => i.path)).toEqual(['limit']);
    });
  });

  describe('update', () => {
    it('changes the given fields, keeps the others and createdAt, and stamps updatedAt', async () => {
      const c = await e.ledger.customers.create(e.scope, { email: 'a@example.com', name: 'A', metadata: { k: 'v' } });
      e.clock.advance(DAY);
      const u = await e.ledger.customers.update(e.scope, c.id, { name: 'Ada', region: 'CA' });
      expect(u).toEqual({ ...c, name: 'Ada', region: 'CA', updatedAt: new Date(T0.getTime() + DAY) });
      expect(await e.ledger.customers.get(e.scope, c.id)).toEqual(u);
    });

    it('rejects an unknown field or a bad value as invalid and changes nothing', async () => {
      const c = await e.ledger.customers.create(e.scope, { email: 'a@example.com', name: 'A' });
      await rejectsWith(e.ledger.customers.update(e.scope, c.id, { plan: 'pro' } as never), 'invalid');
      const err = await rejectsWith(e.ledger.customers.update(e.scope, c.id, { email: 'nope' }), 'invalid');
      expect(err.issues.map((i) => i.path)).toEqual(['email']);
      expect(await e.ledger.customers.get(e.scope, c.id)).toEqual(c);
    });

    it('an unknown customer is not_found', async () => {
      await rejectsWith(e.ledger.customers.update(e.scope, 'cst_01h455vb4pex5vsknk084sn02q', { name: 'X' }), 'not_found');
    });

    it('taking another customer\'s external id is a conflict', async () => {
      await e.ledger.customers.create(e.scope, { email: 'a@example.com', name: 'A', externalId: 'crm-1' });
      const b = await e.ledger.customers.create(e.scope, { email: 'b@example.com', name: 'B', externalId: 'crm-2' });
      await rejectsWith(e.ledger.customers.update(e.scope, b.id, { externalId: 'crm-1' }), 'conflict');
      expect(await e.ledger.customers.get(e.scope, b.id)).toEqual(b);
    });
  });
});
