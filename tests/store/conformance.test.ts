import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../server/ledger/store/store';
import { currency, toPage, type Scope } from '../../server/ledger/types';
import {
  AT,
  customerRow,
  nextVersionOf,
  planRow,
  subscriptionRow,
} from '../support/builders';
import { rejectsWith } from '../support/engine';
import { otherAppOf, storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * The Store contract, once, for every store: memory, PGlite, and PostgreSQL when
 * TEST_DATABASE_URL is set. Each test works in a fresh scope, so tests on a shared
 * database never see each other's rows.
 */

const byId = <T extends { id: string }>(rows: T[]) => [...rows].sort((a, b) => (a.id < b.id ? -1 : 1));
const later = (ms: number) => new Date(AT.getTime() + ms);

describe.each(storeFactories())('$name store', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let s: Scope;
  beforeEach(() => {
    s = uniqueScope();
  });

  /** A customer and a plan, which a subscription refers to. */
  async function seedCustomerAndPlan(st: Store, sc: Scope) {
    const customer = customerRow();
    const plan = planRow();
    await st.customers.insert(sc, customer);
    await st.plans.insert(sc, plan);
    return { customer, plan };
  }

  describe('customers', () => {
    it('round-trips a customer: Dates, metadata and nulls come back equal', async () => {
      const c = customerRow({ region: null, country: 'US' });
      await store().customers.insert(s, c);
      const got = await store().customers.get(s, c.id);
      expect(got).toEqual(c);
      expect(got!.createdAt).toBeInstanceOf(Date);
      expect(got!.createdAt.getTime()).toBe(AT.getTime());
    });

    it('returns null for an unknown id or external id', async () => {
      const c = customerRow();
      expect(await store().customers.get(s, c.id)).toBeNull();
      expect(await store().customers.getByExternalId(s, 'nobody')).toBeNull();
    });

    it('finds a customer by its external id', async () => {
      const a = customerRow({ externalId: 'crm-1' });
      const b = customerRow({ externalId: 'crm-2' });
      await store().customers.insert(s, a);
      await store().customers.insert(s, b);
      expect(await store().customers.getByExternalId(s, 'crm-2')).toEqual(b);
    });

    it('rejects a second customer with the same external id as a conflict, and keeps the first', async () => {
      const a = customerRow({ externalId: 'crm-1', name: 'First' });
      await store().customers.insert(s, a);
      await rejectsWith(store().customers.insert(s, customerRow({ externalId: 'crm-1', name: 'Second' })), 'conflict');
      expect(await store().customers.getByExternalId(s, 'crm-1')).toEqual(a);
      expect(await store().customers.list(s, { limit: 10 })).toHaveLength(1);
    });

    it('allows any number of customers without an external id', async () => {
      await store().customers.insert(s, customerRow({ externalId: null }));
      await store().customers.insert(s, customerRow({ externalId: null }));
      expect(await store().customers.list(s, { limit: 10 })).toHaveLength(2);
    });

    it('lists by id, limit + 1 rows after the cursor, so the extra row tells there is a next page', async () => {
      const rows = Array.from({ length: 5 }, (_, i) => customerRow({ name: `c${i}` }));
      for (const r of [...rows].reverse()) await store().customers.insert(s, r);
      const sorted = byId(rows);

      const first = await store().customers.list(s, { limit: 2 });
      expect(first.map((c) => c.id)).toEqual(sorted.slice(0, 3).map((c) => c.id));
      const page1 = toPage(first, 2);
      expect(page1.nextCursor).toBe(sorted[1]!.id);

      const second = await store().customers.list(s, { limit: 2, cursor: page1.nextCursor! });
      expect(second.map((c) => c.id)).toEqual(sorted.slice(2, 5).map((c) => c.id));
      const page2 = toPage(second, 2);
      expect(page2.nextCursor).toBe(sorted[3]!.id);

      const third = await store().customers.list(s, { limit: 2, cursor: page2.nextCursor! });
      expect(third).toEqual([sorted[4]]);
      expect(toPage(third, 2).nextCursor).toBeNull();
    });

    it('lists nothing in an empty scope', async () => {
      expect(await store().customers.list(s, { limit: 20 })).toEqual([]);
    });

    it('replaces a customer on update and returns true', async () => {
      const c = customerRow();
      await store().customers.insert(s, c);
      const updated = { ...c, name: 'Ada King', email: 'ada@king.example', metadata: { plan: 'x' }, updatedAt: later(1000) };
      expect(await store().customers.update(s, updated)).toBe(true);
      expect(await store().customers.get(s, c.id)).toEqual(updated);
    });

    it('returns false when updating an unknown customer, and stores nothing', async () => {
      const c = customerRow();
      expect(await store().customers.update(s, c)).toBe(false);
      expect(await store().customers.get(s, c.id)).toBeNull();
    });

    it('rejects an update to an external id another customer has as a conflict', async () => {
      const a = customerRow({ externalId: 'crm-1' });
      const b = customerRow({ externalId: 'crm-2' });
      await store().customers.insert(s, a);
      await store().customers.insert(s, b);
      await rejectsWith(store().customers.update(s, { ...b, externalId: 'crm-1' }), 'conflict');
      expect(await store().customers.get(s, b.id)).toEqual(b);
    });
  });

  describe('plans', () => {
    it('round-trips a plan: features of every kind, metadata, Dates and money deep-equal', async () => {
      const p = planRow({ basePrice: Number.MAX_SAFE_INTEGER });
      await store().plans.insert(s, p);
      const got = await store().plans.get(s, p.id);
      expect(got).toEqual(p);
      expect(got!.updatedAt).toBeInstanceOf(Date);
      expect(Number.isSafeInteger(got!.basePrice)).toBe(true);
      expect(got!.basePrice).toBe(9_007_199_254_740_991);
    });

    it('keeps a zero-exponent currency and a multi-count interval', async () => {
      const p = planRow({ key: 'yen', currency: currency('JPY'), basePrice: 500, interval: { unit: 'week', count: 2 }, features: [] });
      await store().plans.insert(s, p);
      expect(await store().plans.get(s, p.id)).toEqual(p);
    });

    it('returns null for an unknown id or key', async () => {
      expect(await store().plans.get(s, planRow().id)).toBeNull();
      expect(await store().plans.getLatestByKey(s, 'nope')).toBeNull();
    });

    it('rejects a second plan with the same key as a conflict', async () => {
      const p = planRow({ key: 'pro' });
      await store().plans.insert(s, p);
      await rejectsWith(store().plans.insert(s, planRow({ key: 'pro', name: 'Other' })), 'conflict');
      expect(await store().plans.getLatestByKey(s, 'pro')).toEqual(p);
    });

    it('gets the latest version of a key', async () => {
      const p = planRow({ key: 'team' });
      await store().plans.insert(s, p);
      expect(await store().plans.getLatestByKey(s, 'team')).toEqual(p);
    });

    it('insertVersion: the previous version stops being the latest, the next one is the latest', async () => {
      const v1 = planRow();
      await store().plans.insert(s, v1);
      const v2 = nextVersionOf(v1);
      await store().plans.insertVersion(s, v1, v2);

      expect(await store().plans.get(s, v1.id)).toEqual({ ...v1, isLatest: false, updatedAt: v2.createdAt });
      expect(await store().plans.get(s, v2.id)).toEqual(v2);
      expect(await store().plans.getLatestByKey(s, v1.key)).toEqual(v2);
      const listed = await store().plans.listLatest(s, { limit: 10 }, { includeArchived: false });
      expect(listed.map((p) => p.id)).toEqual([v2.id]);
    });

    it('insertVersion from a stale previous version is a conflict and changes nothing', async () => {
      const v1 = planRow();
      await store().plans.insert(s, v1);
      const v2 = nextVersionOf(v1);
      await store().plans.insertVersion(s, v1, v2);
      const rival = nextVersionOf(v1, { name: 'Rival' });
      await rejectsWith(store().plans.insertVersion(s, v1, rival), 'conflict');
      expect(await store().plans.get(s, rival.id)).toBeNull();
      expect(await store().plans.getLatestByKey(s, v1.key)).toEqual(v2);
    });

    it('insertVersion of an unknown previous version is a conflict', async () => {
      const ghost = planRow();
      await rejectsWith(store().plans.insertVersion(s, ghost, nextVersionOf(ghost)), 'conflict');
      expect(await store().plans.getLatestByKey(s, ghost.key)).toBeNull();
    });

    it('listLatest: ordered by key, the cursor is a key, limit + 1 rows', async () => {
      const keys = ['delta', 'alpha', 'echo', 'charlie', 'bravo'];
      for (const key of keys) await store().plans.insert(s, planRow({ key }));
      // a second version of "bravo": only the latest is listed
      const bravo1 = (await store().plans.getLatestByKey(s, 'bravo'))!;
      const bravo2 = nextVersionOf(bravo1);
      await store().plans.insertVersion(s, bravo1, bravo2);

      const first = await store().plans.listLatest(s, { limit: 2 }, { includeArchived: false });
      expect(first.map((p) => p.key)).toEqual(['alpha', 'bravo', 'charlie']);
      expect(first[1]!.id).toBe(bravo2.id);
      const page1 = toPage(first, 2, (p) => p.key);
      expect(page1.nextCursor).toBe('bravo');

      const second = await store().plans.listLatest(s, { limit: 2, cursor: 'bravo' }, { includeArchived: false });
      expect(second.map((p) => p.key)).toEqual(['charlie', 'delta', 'echo']);
      const third = await store().plans.listLatest(s, { limit: 2, cursor: 'delta' }, { includeArchived: false });
      expect(third.map((p) => p.key)).toEqual(['echo']);
    });

    it('listLatest leaves archived plan lines out unless asked for them', async () => {
      await store().plans.insert(s, planRow({ key: 'basic' }));
      await store().plans.insert(s, planRow({ key: 'legacy' }));
      await store().plans.archive(s, 'legacy', later(1000));
      const active = await store().plans.listLatest(s, { limit: 10 }, { includeArchived: false });
      expect(active.map((p) => p.key)).toEqual(['basic']);
      const all = await store().plans.listLatest(s, { limit: 10 }, { includeArchived: true });
      expect(all.map((p) => [p.key, p.status])).toEqual([
        ['basic', 'active'],
        ['legacy', 'archived'],
      ]);
    });

    it('updateInPlace changes name, description and metadata only, and returns true', async () => {
      const p = planRow();
      await store().plans.insert(s, p);
      const at = later(5000);
      const ok = await store().plans.updateInPlace(s, {
        ...p,
        name: 'Pro (2025)',
        description: 'Renamed',
        metadata: { tier: 'platinum' },
        updatedAt: at,
        // not cosmetic: a store must not change what anyone pays in place
        basePrice: 1,
        features: [],
        trialDays: 0,
      });
      expect(ok).toBe(true);
      expect(await store().plans.get(s, p.id)).toEqual({
        ...p,
        name: 'Pro (2025)',
        description: 'Renamed',
        metadata: { tier: 'platinum' },
        updatedAt: at,
      });
    });

    it('updateInPlace from a stale copy does not undo a newer version or an archive', async () => {
      const v1 = planRow();
      await store().plans.insert(s, v1);
      const v2 = nextVersionOf(v1);
      await store().plans.insertVersion(s, v1, v2);
      await store().plans.archive(s, v1.key, later(120_000));
      // v1 as read before the new version and the archive
      expect(await store().plans.updateInPlace(s, { ...v1, name: 'Renamed', updatedAt: later(180_000) })).toBe(true);
      const got = (await store().plans.get(s, v1.id))!;
      expect(got).toMatchObject({ name: 'Renamed', isLatest: false, status: 'archived' });
      expect((await store().plans.getLatestByKey(s, v1.key))!.id).toBe(v2.id);
    });

    it('updateInPlace of an unknown plan returns false and stores nothing', async () => {
      const p = planRow();
      expect(await store().plans.updateInPlace(s, p)).toBe(false);
      expect(await store().plans.get(s, p.id)).toBeNull();
    });

    it('archive marks every version of the line archived, and no other line', async () => {
      const v1 = planRow({ key: 'pro' });
      const other = planRow({ key: 'team' });
      await store().plans.insert(s, v1);
      await store().plans.insert(s, other);
      const v2 = nextVersionOf(v1);
      await store().plans.insertVersion(s, v1, v2);
      const at = later(3_600_000);
      await store().plans.archive(s, 'pro', at);

      expect(await store().plans.get(s, v1.id)).toMatchObject({ status: 'archived', updatedAt: at, isLatest: false });
      expect(await store().plans.get(s, v2.id)).toMatchObject({ status: 'archived', updatedAt: at, isLatest: true });
      expect(await store().plans.getLatestByKey(s, 'pro')).toMatchObject({ id: v2.id, status: 'archived' });
      expect(await store().plans.get(s, other.id)).toEqual(other);
    });
  });

  describe('subscriptions', () => {
    it('round-trips a subscription: Dates, nulls and metadata come back equal', async () => {
      const { customer, plan } = await seedCustomerAndPlan(store(), s);
      const sub = subscriptionRow(customer.id, plan.id);
      await store().subscriptions.insert(s, sub);
      const got = await store().subscriptions.get(s, sub.id);
      expect(got).toEqual(sub);
      expect(got!.billingAnchor).toBeInstanceOf(Date);
      expect(got!.canceledAt).toBeNull();
    });

    it('returns null for an unknown id', async () => {
      const { customer, plan } = await seedCustomerAndPlan(store(), s);
      expect(await store().subscriptions.get(s, subscriptionRow(customer.id, plan.id).id)).toBeNull();
    });

    it('rejects a second live subscription for a customer as a conflict', async () => {
      const { customer, plan } = await seedCustomerAndPlan(store(), s);
      const first = subscriptionRow(customer.id, plan.id, { status: 'active' });
      await store().subscriptions.insert(s, first);
      const second = subscriptionRow(customer.id, plan.id, { status: 'trialing' });
      await rejectsWith(store().subscriptions.insert(s, second), 'conflict');
      expect(await store().subscriptions.get(s, second.id)).toBeNull();
    });

    it('allows a new subscription once the first is canceled', async () => {
      const { customer, plan } = await seedCustomerAndPlan(store(), s);
      const first = subscriptionRow(customer.id, plan.id, { status: 'active' });
      await store().subscriptions.insert(s, first);
      const ended = { ...first, status: 'canceled' as const, canceledAt: later(1000), endedAt: later(1000), updatedAt: later(1000), version: first.version + 1 };
      expect(await store().subscriptions.update(s, ended, first.version)).toBe(true);
      const second = subscriptionRow(customer.id, plan.id, { status: 'active' });
      await store().subscriptions.insert(s, second);
      expect(await store().subscriptions.get(s, first.id)).toEqual(ended);
      expect(await store().subscriptions.get(s, second.id)).toEqual(second);
    });

    it('rejects an update that would make a second live subscription as a conflict', async () => {
      const { customer, plan } = await seedCustomerAndPlan(store(), s);
      const old = subscriptionRow(customer.id, plan.id, { status: 'canceled', endedAt: AT, canceledAt: AT });
      const live = subscriptionRow(customer.id, plan.id, { status: 'active' });
      await store().subscriptions.insert(s, old);
      await store().subscriptions.insert(s, live);
      await rejectsWith(store().subscriptions.update(s, { ...old, status: 'active', endedAt: null }, old.version), 'conflict');
      expect(await store().subscriptions.get(s, old.id)).toEqual(old);
    });

    it('lists a customer\'s subscriptions by id, limit + 1 rows after the cursor', async () => {
      const { customer, plan } = await seedCustomerAndPlan(store(), s);
      const other = customerRow();
      await store().customers.insert(s, other);
      const subs = Array.from({ length: 4 }, () =>
        subscriptionRow(customer.id, plan.id, { status: 'canceled', endedAt: AT, canceledAt: AT }),
      );
      for (const sub of subs) await store().subscriptions.insert(s, sub);
      await store().subscriptions.insert(s, subscriptionRow(other.id, plan.id));
      const sorted = byId(subs);

      const first = await store().subscriptions.listByCustomer(s, customer.id, { limit: 2 });
      expect(first.map((x) => x.id)).toEqual(sorted.slice(0, 3).map((x) => x.id));
      const second = await store().subscriptions.listByCustomer(s, customer.id, { limit: 2, cursor: sorted[1]!.id });
      expect(second).toEqual(sorted.slice(2));
      expect(await store().subscriptions.listByCustomer(s, customer.id, { limit: 2, cursor: sorted[3]!.id })).toEqual([]);
    });

    it('finds the live subscription of a customer, not a canceled one, and none for a customer without', async () => {
      const { customer, plan } = await seedCustomerAndPlan(store(), s);
      expect(await store().subscriptions.getLive(s, customer.id)).toBeNull();
      const ended = subscriptionRow(customer.id, plan.id, { status: 'canceled' });
      await store().subscriptions.insert(s, ended);
      expect(await store().subscriptions.getLive(s, customer.id)).toBeNull();
      const live = subscriptionRow(customer.id, plan.id, { status: 'trialing' });
      await store().subscriptions.insert(s, live);
      expect(await store().subscriptions.getLive(s, customer.id)).toEqual(live);
    });

    it('replaces a subscription on update if its version is the one expected; a stale or unknown one returns false', async () => {
      const { customer, plan } = await seedCustomerAndPlan(store(), s);
      const sub = subscriptionRow(customer.id, plan.id);
      await store().subscriptions.insert(s, sub);
      const changed = { ...sub, status: 'active' as const, quantity: 7, cancelAtPeriodEnd: true, canceledAt: later(10), updatedAt: later(10), version: sub.version + 1 };
      expect(await store().subscriptions.update(s, changed, sub.version)).toBe(true);
      expect(await store().subscriptions.get(s, sub.id)).toEqual(changed);
      // a writer that read the old version loses
      expect(await store().subscriptions.update(s, { ...sub, quantity: 99, version: sub.version + 1 }, sub.version)).toBe(false);
      expect((await store().subscriptions.get(s, sub.id))!.quantity).toBe(7);

      const ghost = subscriptionRow(customer.id, plan.id, { status: 'canceled' });
      expect(await store().subscriptions.update(s, ghost, ghost.version)).toBe(false);
      expect(await store().subscriptions.get(s, ghost.id)).toBeNull();
    });

    it('lists live subscriptions whose period ended by a given instant, oldest end first', async () => {
      const { customer, plan } = await seedCustomerAndPlan(store(), s);
      const other = customerRow();
      const third = customerRow();
      await store().customers.insert(s, other);
      await store().customers.insert(s, third);
      const endsAt = (ms: number) => ({ currentPeriodEnd: later(ms) });
      const late = subscriptionRow(customer.id, plan.id, { status: 'active', ...endsAt(2000) });
      const early = subscriptionRow(other.id, plan.id, { status: 'trialing', ...endsAt(1000) });
      const future = subscriptionRow(third.id, plan.id, { status: 'active', ...endsAt(5000) });
      const ended = subscriptionRow(customer.id, plan.id, { status: 'canceled', ...endsAt(500) });
      for (const x of [late, early, future, ended]) await store().subscriptions.insert(s, x);
      expect((await store().subscriptions.listDue(s, later(2000), 10)).map((x) => x.id)).toEqual([early.id, late.id]);
      expect((await store().subscriptions.listDue(s, later(2000), 1)).map((x) => x.id)).toEqual([early.id]);
      expect(await store().subscriptions.listDue(s, later(999), 10)).toEqual([]);
      expect(await store().subscriptions.listDue(otherAppOf(s), later(9000), 10)).toEqual([]);
    });
  });

  describe.each([
    ['another tenant', (_a: Scope) => uniqueScope()],
    ['another app of the same tenant', (a: Scope) => otherAppOf(a)],
  ] as const)('scope isolation: %s', (_label, otherOf) => {
    let a: Scope;
    let b: Scope;
    beforeEach(() => {
      a = s;
      b = otherOf(a);
    });

    it('customers of A are invisible to B, and B cannot update them', async () => {
      const c = customerRow({ externalId: 'crm-1' });
      await store().customers.insert(a, c);

      expect(await store().customers.get(b, c.id)).toBeNull();
      expect(await store().customers.getByExternalId(b, 'crm-1')).toBeNull();
      expect(await store().customers.list(b, { limit: 100 })).toEqual([]);
      expect(await store().customers.update(b, { ...c, name: 'Hijacked' })).toBe(false);
      expect(await store().customers.get(a, c.id)).toEqual(c);

      // the same external id in B is not a conflict: the uniqueness is per scope
      const theirs = customerRow({ externalId: 'crm-1' });
      await store().customers.insert(b, theirs);
      expect(await store().customers.getByExternalId(a, 'crm-1')).toEqual(c);
      expect(await store().customers.getByExternalId(b, 'crm-1')).toEqual(theirs);
    });

    it('plans of A are invisible to B, and B cannot update, version or archive them', async () => {
      const p = planRow({ key: 'pro' });
      await store().plans.insert(a, p);

      expect(await store().plans.get(b, p.id)).toBeNull();
      expect(await store().plans.getLatestByKey(b, 'pro')).toBeNull();
      expect(await store().plans.listLatest(b, { limit: 100 }, { includeArchived: true })).toEqual([]);
      expect(await store().plans.updateInPlace(b, { ...p, name: 'Hijacked' })).toBe(false);
      await rejectsWith(store().plans.insertVersion(b, p, nextVersionOf(p)), 'conflict');
      await store().plans.archive(b, 'pro', later(1000));
      expect(await store().plans.get(a, p.id)).toEqual(p);
      expect(await store().plans.listLatest(a, { limit: 100 }, { includeArchived: false })).toEqual([p]);

      // the same key in B is B's own plan line
      const theirs = planRow({ key: 'pro', basePrice: 1 });
      await store().plans.insert(b, theirs);
      expect(await store().plans.getLatestByKey(a, 'pro')).toEqual(p);
      expect(await store().plans.getLatestByKey(b, 'pro')).toEqual(theirs);
    });

    it('subscriptions of A are invisible to B, and B cannot update them', async () => {
      const { customer, plan } = await seedCustomerAndPlan(store(), a);
      const sub = subscriptionRow(customer.id, plan.id, { status: 'active' });
      await store().subscriptions.insert(a, sub);

      expect(await store().subscriptions.get(b, sub.id)).toBeNull();
      expect(await store().subscriptions.listByCustomer(b, customer.id, { limit: 100 })).toEqual([]);
      expect(await store().subscriptions.getLive(b, customer.id)).toBeNull();
      expect(
        await store().subscriptions.update(b, { ...sub, status: 'canceled', endedAt: later(1), canceledAt: later(1) }, sub.version),
      ).toBe(false);
      expect(await store().subscriptions.get(a, sub.id)).toEqual(sub);
      expect(await store().subscriptions.listByCustomer(a, customer.id, { limit: 100 })).toEqual([sub]);
    });
  });
});
