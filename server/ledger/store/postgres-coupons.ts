import { and, asc, eq, gt, gte, isNull, lt, lte, or, sql, TransactionRollbackError, type SQL } from 'drizzle-orm';
import type { Database } from '../../../db/client';
import { couponBalances, coupons, couponSpends } from '../../../db/schema';
import type { CouponStore } from '../coupon/store';
import { discountTermsOf, durationOf, type Coupon } from '../coupon/types';
import { conflict, Dec, type CouponId, type Currency, type CustomerId, type Scope } from '../types';

/**
 * Coupons on PostgreSQL (a server or PGlite). Every query starts from `inScope`, so none
 * can forget the tenant. A redemption is one conditional UPDATE … RETURNING: the row lock
 * it takes makes concurrent redemptions queue, and each re-checks the condition on the
 * row as the previous one left it, so `max_redemptions` is never passed.
 */
const inScope = (s: Scope, ...more: (SQL | undefined)[]): SQL =>
  and(eq(coupons.tenantId, s.tenantId), eq(coupons.appId, s.appId), ...more)!;

/** Maps a unique-key violation to a typed conflict; rethrows anything else. */
function uniqueViolation(e: unknown, message: string): never {
  const err = e as { code?: string; cause?: { code?: string } };
  if ((err.code ?? err.cause?.code) === '23505') throw conflict(message);
  throw e;
}

type Row = typeof coupons.$inferSelect;

const toCoupon = (r: Row): Coupon => ({
  id: r.id as CouponId,
  code: r.code,
  name: r.name,
  // numeric comes back as written ("12.5"); the shortest form is what the engine stores.
  ...discountTermsOf({
    percentOff: r.percentOff === null ? null : new Dec(r.percentOff).toFixed(),
    amountOff: r.amountOff,
    currency: r.currency as Currency | null,
    carryOver: r.carryOver,
  }),
  ...durationOf({ duration: r.duration, durationPeriods: r.durationPeriods, durationInMonths: r.durationInMonths }),
  expiresAt: r.expiresAt,
  maxRedemptions: r.maxRedemptions,
  timesRedeemed: r.timesRedeemed,
  appliesToPlans: r.appliesToPlans ?? null,
  status: r.status,
  metadata: r.metadata,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const couponRow = (s: Scope, c: Coupon): typeof coupons.$inferInsert => ({
  tenantId: s.tenantId,
  appId: s.appId,
  id: c.id,
  code: c.code,
  name: c.name,
  percentOff: c.percentOff,
  amountOff: c.amountOff,
  currency: c.currency,
  duration: c.duration,
  durationPeriods: c.durationPeriods,
  durationInMonths: c.durationInMonths,
  carryOver: c.carryOver,
  expiresAt: c.expiresAt,
  maxRedemptions: c.maxRedemptions,
  timesRedeemed: c.timesRedeemed,
  appliesToPlans: c.appliesToPlans,
  status: c.status,
  metadata: c.metadata,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
});

export function createPostgresCouponStore(db: Database): CouponStore {
  return {
    async insert(s, c) {
      await db
        .insert(coupons)
        .values(couponRow(s, c))
        .catch((e) => uniqueViolation(e, `a coupon with code "${c.code}" already exists`));
    },
    async get(s, id) {
      const [r] = await db.select().from(coupons).where(inScope(s, eq(coupons.id, id)));
      return r ? toCoupon(r) : null;
    },
    async getByCode(s, code) {
      const [r] = await db.select().from(coupons).where(inScope(s, eq(coupons.code, code)));
      return r ? toCoupon(r) : null;
    },
    async list(s, page) {
      const rows = await db
        .select()
        .from(coupons)
        .where(inScope(s, page.cursor ? gt(coupons.id, page.cursor) : undefined))
        .orderBy(asc(coupons.id))
        .limit(page.limit + 1);
      return rows.map(toCoupon);
    },
    async update(s, c) {
      const [r] = await db
        .update(coupons)
        .set({
          name: c.name,
          metadata: c.metadata,
          expiresAt: c.expiresAt,
          maxRedemptions: c.maxRedemptions,
          status: c.status,
          updatedAt: c.updatedAt,
        })
        .where(
          inScope(
            s,
            eq(coupons.id, c.id),
            c.maxRedemptions === null ? undefined : lte(coupons.timesRedeemed, c.maxRedemptions),
          ),
        )
        .returning();
      return r ? toCoupon(r) : null;
    },
    async redeem(s, id, at) {
      const r = await db
        .update(coupons)
        .set({ timesRedeemed: sql`${coupons.timesRedeemed} + 1` })
        .where(
          inScope(
            s,
            eq(coupons.id, id),
            eq(coupons.status, 'active'),
            or(isNull(coupons.expiresAt), gt(coupons.expiresAt, at)),
            or(isNull(coupons.maxRedemptions), lt(coupons.timesRedeemed, coupons.maxRedemptions)),
          ),
        )
        .returning({ id: coupons.id });
      return r.length === 1;
    },
    async balance(s, customerId, couponId) {
      const [r] = await db
        .select()
        .from(couponBalances)
        .where(
          and(
            eq(couponBalances.tenantId, s.tenantId),
            eq(couponBalances.appId, s.appId),
            eq(couponBalances.customerId, customerId),
            eq(couponBalances.couponId, couponId),
          ),
        );
      return r
        ? { customerId: r.customerId as CustomerId, couponId: r.couponId as CouponId, currency: r.currency as Currency, amountRemaining: r.amountRemaining, updatedAt: r.updatedAt }
        : null;
    },
    async spend(s, sp) {
      const key = and(
        eq(couponBalances.tenantId, s.tenantId),
        eq(couponBalances.appId, s.appId),
        eq(couponBalances.customerId, sp.customerId),
        eq(couponBalances.couponId, sp.couponId),
      );
      // A transaction of its own (a savepoint inside the finalization's): the spend row
      // and the balance's decrement are written together or not at all.
      try {
        return await db.transaction(async (tx) => {
          // The invoice's spend first: a concurrent finalization of the same invoice waits
          // here on the key, then finds it and spends nothing more.
          const [recorded] = await tx
            .insert(couponSpends)
            .values({ tenantId: s.tenantId, appId: s.appId, invoiceId: sp.invoiceId, customerId: sp.customerId, couponId: sp.couponId, amount: sp.amount, createdAt: sp.at })
            .onConflictDoNothing()
            .returning({ invoiceId: couponSpends.invoiceId });
          if (!recorded) {
            const [done] = await tx
              .select()
              .from(couponSpends)
              .where(and(eq(couponSpends.tenantId, s.tenantId), eq(couponSpends.appId, s.appId), eq(couponSpends.invoiceId, sp.invoiceId)));
            return !!done && done.couponId === sp.couponId && done.amount === sp.amount;
          }
          await tx
            .insert(couponBalances)
            .values({ tenantId: s.tenantId, appId: s.appId, customerId: sp.customerId, couponId: sp.couponId, currency: sp.currency, amountRemaining: sp.initial, updatedAt: sp.at })
            .onConflictDoNothing();
          // The row lock queues concurrent spends; each re-checks what the previous one left.
          const taken = await tx
            .update(couponBalances)
            .set({ amountRemaining: sql`${couponBalances.amountRemaining} - ${sp.amount}`, updatedAt: sp.at })
            .where(and(key, gte(couponBalances.amountRemaining, sp.amount)))
            .returning({ left: couponBalances.amountRemaining });
          if (taken.length === 0) tx.rollback();
          return true;
        });
      } catch (e) {
        if (e instanceof TransactionRollbackError) return false;
        throw e;
      }
    },
    async giveBack(s, invoiceId, at) {
      // One transaction (a savepoint inside the void's): the spend's row is deleted and its
      // amount added back together. Of two voids at once, one deletes the row; the other
      // waits on it, then finds nothing to give back.
      return db.transaction(async (tx) => {
        const [spent] = await tx
          .delete(couponSpends)
          .where(and(eq(couponSpends.tenantId, s.tenantId), eq(couponSpends.appId, s.appId), eq(couponSpends.invoiceId, invoiceId)))
          .returning();
        if (!spent) return 0;
        const back = await tx
          .update(couponBalances)
          .set({ amountRemaining: sql`${couponBalances.amountRemaining} + ${spent.amount}`, updatedAt: at })
          .where(
            and(
              eq(couponBalances.tenantId, s.tenantId),
              eq(couponBalances.appId, s.appId),
              eq(couponBalances.customerId, spent.customerId),
              eq(couponBalances.couponId, spent.couponId),
            ),
          )
          .returning({ left: couponBalances.amountRemaining });
        if (back.length === 0) throw new Error(`coupon ${spent.couponId}: invoice ${invoiceId} spent from a balance that is missing`);
        return spent.amount;
      });
    },
    async release(s, id) {
      const r = await db
        .update(coupons)
        .set({ timesRedeemed: sql`greatest(${coupons.timesRedeemed} - 1, 0)` })
        .where(inScope(s, eq(coupons.id, id)))
        .returning({ id: coupons.id });
      return r.length === 1;
    },
  };
}
