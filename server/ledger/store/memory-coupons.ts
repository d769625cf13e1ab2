import type { CouponBalance, CouponSpend, CouponStore } from '../coupon/store';
import type { Coupon } from '../coupon/types';
import { conflict, scopeKey, type Scope } from '../types';

/**
 * Coupons in memory, per scope, copied on the way in and out. Every method runs
 * synchronously between its start and its answer, so a conditional write (redeem) is
 * atomic: no other call can interleave between its check and its write.
 */
export function createMemoryCouponStore(): CouponStore {
  const byScope = new Map<string, Map<string, Coupon>>();

  const rows = (scope: Scope) => {
    const k = scopeKey(scope);
    let m = byScope.get(k);
    if (!m) byScope.set(k, (m = new Map()));
    return m;
  };
  const copy = (c: Coupon | undefined): Coupon | null => (c ? structuredClone(c) : null);
  // Carried-over amounts: by scope, then customer + coupon; spends by scope + invoice.
  const balances = new Map<string, CouponBalance>();
  const spends = new Map<string, CouponSpend>();
  const balanceKey = (scope: Scope, customerId: string, couponId: string) => `${scopeKey(scope)}|${customerId}|${couponId}`;

  return {
    async insert(scope, c) {
      const table = rows(scope);
      if ([...table.values()].some((r) => r.code === c.code)) {
        throw conflict(`a coupon with code "${c.code}" already exists`);
      }
      if (table.has(c.id)) throw conflict(`coupon ${c.id} already exists`);
      table.set(c.id, structuredClone(c));
    },
    async get(scope, id) {
      return copy(rows(scope).get(id));
    },
    async getByCode(scope, code) {
      return copy([...rows(scope).values()].find((r) => r.code === code));
    },
    async list(scope, page) {
      return [...rows(scope).values()]
        .filter((r) => !page.cursor || r.id > page.cursor)
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .slice(0, page.limit + 1)
        .map((r) => structuredClone(r));
    },
    async update(scope, c) {
      const current = rows(scope).get(c.id);
      if (!current) return null;
      if (c.maxRedemptions !== null && current.timesRedeemed > c.maxRedemptions) return null;
      const { name, metadata, expiresAt, maxRedemptions, status, updatedAt } = c;
      const next: Coupon = { ...current, name, metadata, expiresAt, maxRedemptions, status, updatedAt };
      rows(scope).set(c.id, structuredClone(next));
      return structuredClone(next);
    },
    async redeem(scope, id, at) {
      const c = rows(scope).get(id);
      if (!c || c.status !== 'active') return false;
      if (c.expiresAt !== null && c.expiresAt.getTime() <= at.getTime()) return false;
      if (c.maxRedemptions !== null && c.timesRedeemed >= c.maxRedemptions) return false;
      c.timesRedeemed += 1;
      return true;
    },
    async balance(scope, customerId, couponId) {
      const b = balances.get(balanceKey(scope, customerId, couponId));
      return b ? { ...b } : null;
    },
    async spend(scope, sp) {
      const spendKey = `${scopeKey(scope)}|${sp.invoiceId}`;
      const done = spends.get(spendKey);
      if (done) return done.couponId === sp.couponId && done.amount === sp.amount;
      const key = balanceKey(scope, sp.customerId, sp.couponId);
      const b = balances.get(key) ?? { customerId: sp.customerId, couponId: sp.couponId, currency: sp.currency, amountRemaining: sp.initial, updatedAt: sp.at };
      if (b.amountRemaining < sp.amount) return false;
      balances.set(key, { ...b, amountRemaining: b.amountRemaining - sp.amount, updatedAt: sp.at });
      spends.set(spendKey, { ...sp });
      return true;
    },
    async giveBack(scope, invoiceId, at) {
      const spendKey = `${scopeKey(scope)}|${invoiceId}`;
      const sp = spends.get(spendKey);
      if (!sp) return 0;
      const key = balanceKey(scope, sp.customerId, sp.couponId);
      const b = balances.get(key);
      if (!b) throw new Error(`coupon ${sp.couponId}: invoice ${invoiceId} spent from a balance that is missing`);
      spends.delete(spendKey);
      balances.set(key, { ...b, amountRemaining: b.amountRemaining + sp.amount, updatedAt: at });
      return sp.amount;
    },
    async release(scope, id) {
      const c = rows(scope).get(id);
      if (!c) return false;
      c.timesRedeemed = Math.max(c.timesRedeemed - 1, 0);
      return true;
    },
  };
}
