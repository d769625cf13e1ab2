import { z } from 'zod';
import type { EngineContext } from '../context';
import type { CouponValidator } from '../extensions/types';
import type { Customer } from '../customer/types';
import type { Plan } from '../plan/types';
import { currencySchema } from '../plan/types';
import {
  findById,
  illegalState,
  invalid,
  LedgerError,
  newId,
  notFound,
  pageOf,
  parseId,
  parseInput,
  type CouponId,
  type Currency,
  type CustomerId,
  type Page,
  type PageInput,
  type Scope,
  type SubscriptionId,
  requiredText,
} from '../types';
import { couponWindowEnd } from './apply';
import { amountRemaining } from './balance';
import {
  createCouponSchema,
  discountTermsOf,
  durationOf,
  normalizeCouponCode,
  updateCouponSchema,
  type Coupon,
  type CreateCouponInput,
  type RedemptionTarget,
  type UpdateCouponInput,
} from './types';

const codeInput = requiredText(100);

/**
 * A subscription's coupon as it stands: what it has discounted, and what it still will
 * (the fields of its terms that say so; the others are null).
 */
export interface CouponRedemption {
  subscriptionId: SubscriptionId;
  customerId: CustomerId;
  couponId: CouponId;
  code: string;
  /** When it was applied: a `durationInMonths` window starts here. */
  appliedAt: Date;
  /** Invoices it has discounted so far. */
  invoicesDiscounted: number;
  /** Counted in invoices (once, durationPeriods): how many more it discounts; else null. */
  invoicesLeft: number | null;
  /** durationInMonths: invoices issued from this instant on are not discounted; else null. */
  endsAt: Date | null;
  /** carryOver: minor units of the amount still to discount (the customer's balance); else null. */
  amountRemaining: number | null;
  /** The currency of an amount-off coupon; null for a percentage. */
  currency: Currency | null;
}

const targetSchema = z.object({
  planKey: z.string().min(1),
  currency: currencySchema,
  at: z.date(),
  customerId: z.string().min(1).optional(),
  planId: z.string().min(1).optional(),
});

/**
 * Coupons: created by a product team, redeemed by code. A redemption checks the coupon
 * (archived, expired, plan, currency) and then counts itself with one conditional write,
 * so a capped coupon is never redeemed more often than its cap, however many redeem at
 * once. Every failure is a typed error and changes nothing.
 */
export class CouponService {
  constructor(
    protected readonly ctx: EngineContext,
    /** A rule of the engine's user checked after the built-in ones (first-time customers only …). */
    private readonly validator: CouponValidator | null = null,
  ) {}

  async create(scope: Scope, input: CreateCouponInput): Promise<Coupon> {
    const data = parseInput(createCouponSchema, input, 'coupon');
    const now = this.ctx.now(scope);
    if (data.expiresAt !== null) this.checkExpiryAhead(data.expiresAt, now);
    const coupon: Coupon = {
      id: newId('coupon'),
      code: data.code,
      name: data.name,
      ...discountTermsOf(data),
      ...durationOf(data),
      expiresAt: data.expiresAt,
      maxRedemptions: data.maxRedemptions,
      timesRedeemed: 0,
      appliesToPlans: data.appliesToPlans,
      status: 'active',
      metadata: data.metadata,
      createdAt: now,
      updatedAt: now,
    };
    await this.ctx.events.atomic(scope, async (record) => {
      await this.ctx.store.coupons.insert(scope, coupon);
      record({ type: 'coupon.created', object: coupon, customerId: null });
    });
    return coupon;
  }

  get(scope: Scope, id: string): Promise<Coupon> {
    return findById('coupon', id, (cid) => this.ctx.store.coupons.get(scope, cid));
  }

  /** Case-insensitive: "summer25" finds "SUMMER25". */
  async getByCode(scope: Scope, code: string): Promise<Coupon> {
    const normalized = normalizeCouponCode(parseInput(codeInput, code, 'coupon code'));
    const c = await this.ctx.store.coupons.getByCode(scope, normalized);
    if (!c) throw notFound('coupon', normalized);
    return c;
  }

  /** Oldest first, archived ones included (their status says so). */
  list(scope: Scope, page: PageInput = {}): Promise<Page<Coupon>> {
    return pageOf(page, (p) => this.ctx.store.coupons.list(scope, p));
  }

  /**
   * Changes name, metadata, expiresAt or maxRedemptions. An archived coupon cannot be
   * changed; maxRedemptions may not go below the times it has been redeemed.
   */
  async update(scope: Scope, id: string, patch: UpdateCouponInput): Promise<Coupon> {
    const data = parseInput(updateCouponSchema, patch, 'coupon update');
    const old = await this.get(scope, id);
    if (old.status === 'archived') throw illegalState(`coupon ${old.code} is archived`);
    const now = this.ctx.now(scope);
    if (data.expiresAt != null) this.checkExpiryAhead(data.expiresAt, now);
    const candidate: Coupon = { ...old, ...data, updatedAt: now };
    if (candidate.maxRedemptions !== null && candidate.maxRedemptions < old.timesRedeemed) {
      throw this.capBelowRedeemed(candidate, old.timesRedeemed);
    }
    const stored = await this.ctx.events.atomic(scope, async (record) => {
      const written = await this.ctx.store.coupons.update(scope, candidate);
      if (written) record({ type: 'coupon.updated', object: written, before: old, customerId: null });
      return written;
    });
    if (stored) return stored;
    // Redeemed past the new cap since it was read, or gone.
    const current = await this.get(scope, old.id);
    throw this.capBelowRedeemed(candidate, current.timesRedeemed);
  }

  /** Stops new redemptions; redeemed coupons keep discounting. Archiving twice is a no-op. */
  async archive(scope: Scope, id: string): Promise<Coupon> {
    const old = await this.get(scope, id);
    if (old.status === 'archived') return old;
    const stored = await this.ctx.events.atomic(scope, async (record) => {
      const written = await this.ctx.store.coupons.update(scope, { ...old, status: 'archived', updatedAt: this.ctx.now(scope) });
      if (!written) throw notFound('coupon', old.id);
      record({ type: 'coupon.archived', object: written, before: old, customerId: null });
      return written;
    });
    return stored;
  }

  /**
   * Redeems the coupon by its code for a plan, in a currency, at an instant, and returns
   * it with timesRedeemed as it is after the redemption. Errors, checked in this order,
   * each leaving the coupon unchanged:
   * - `not_found`: no coupon has the code;
   * - `illegal_state`: it is archived, or expired (at or after expiresAt);
   * - `invalid`: it does not apply to the plan, or is an amount in another currency;
   * - `limit_exceeded`: it has been redeemed maxRedemptions times;
   * - `invalid`: the engine's coupon validator refused it, with its reason.
   */
  async redeem(scope: Scope, code: string, target: RedemptionTarget): Promise<Coupon> {
    const t = parseInput(targetSchema, target, 'redemption');
    const coupon = await this.getByCode(scope, code);
    this.checkRedeemable(coupon, t);
    if (this.validator) await this.validate(scope, coupon, t);
    if (!(await this.ctx.store.coupons.redeem(scope, coupon.id, t.at))) {
      // The conditional write refused: find out why from the coupon as it is now.
      const now = await this.get(scope, coupon.id);
      this.checkRedeemable(now, t);
      throw this.exhausted(now);
    }
    const after = await this.ctx.store.coupons.get(scope, coupon.id);
    return after ?? { ...coupon, timesRedeemed: coupon.timesRedeemed + 1 };
  }

  /**
   * The coupon on a subscription as it stands (null when it has none): invoices discounted
   * and left, the end of a months window, what is left of a carried-over amount.
   */
  async redemption(scope: Scope, subscriptionId: string): Promise<CouponRedemption | null> {
    const sub = await findById('subscription', subscriptionId, (sid) => this.ctx.store.subscriptions.get(scope, sid));
    if (!sub.discount) return null;
    const coupon = await this.get(scope, sub.discount.couponId);
    const applied = sub.discount.periodsApplied;
    const counted = coupon.duration === 'once' ? 1 : coupon.duration === 'repeating' ? coupon.durationPeriods : null;
    return {
      subscriptionId: sub.id,
      customerId: sub.customerId,
      couponId: coupon.id,
      code: coupon.code,
      appliedAt: sub.discount.appliedAt,
      invoicesDiscounted: applied,
      invoicesLeft: counted === null ? null : Math.max(0, counted - applied),
      endsAt: couponWindowEnd(coupon, sub.discount.appliedAt),
      amountRemaining: await amountRemaining(this.ctx, scope, sub.customerId, coupon),
      currency: coupon.currency,
    };
  }

  /** Gives back one redemption that could not be completed (never below zero). */
  async release(scope: Scope, id: string): Promise<Coupon> {
    const cid = parseId('coupon', id);
    if (!(await this.ctx.store.coupons.release(scope, cid))) throw notFound('coupon', cid);
    return this.get(scope, cid);
  }

  /** The validator's verdict, asked with the customer and the plan as stored; a refusal is `invalid`. */
  private async validate(scope: Scope, coupon: Coupon, t: RedemptionTarget): Promise<void> {
    const customer: Customer | null = t.customerId ? await this.ctx.store.customers.get(scope, parseId('customer', t.customerId)) : null;
    const plan: Plan | null = t.planId
      ? await this.ctx.store.plans.get(scope, parseId('plan', t.planId))
      : await this.ctx.store.plans.getLatestByKey(scope, t.planKey);
    const verdict = await this.validator!.validate(scope, { coupon, customer, plan, at: t.at });
    if (!verdict.ok) {
      throw invalid(`coupon ${coupon.code} cannot be redeemed: ${verdict.reason}`, [{ path: 'couponCode', message: verdict.reason }]);
    }
  }

  private checkRedeemable(c: Coupon, t: RedemptionTarget): void {
    if (c.status === 'archived') throw illegalState(`coupon ${c.code} is archived`);
    if (c.expiresAt !== null && t.at.getTime() >= c.expiresAt.getTime()) {
      throw illegalState(`coupon ${c.code} expired on ${c.expiresAt.toISOString()}`);
    }
    if (c.appliesToPlans !== null && !c.appliesToPlans.includes(t.planKey)) {
      throw invalid(`coupon ${c.code} does not apply to plan ${t.planKey}`, [
        { path: 'planKey', message: `the coupon applies to ${c.appliesToPlans.join(', ')}` },
      ]);
    }
    if (c.currency !== null && c.currency !== t.currency) {
      throw invalid(`coupon ${c.code} takes ${c.currency} off and cannot apply to a ${t.currency} subscription`, [
        { path: 'currency', message: `the coupon is in ${c.currency}` },
      ]);
    }
    if (c.maxRedemptions !== null && c.timesRedeemed >= c.maxRedemptions) throw this.exhausted(c);
  }

  private exhausted(c: Coupon): LedgerError {
    return new LedgerError(
      'limit_exceeded',
      `coupon ${c.code} has been redeemed the maximum ${c.maxRedemptions ?? c.timesRedeemed} times`,
    );
  }

  private capBelowRedeemed(c: Coupon, timesRedeemed: number): LedgerError {
    return invalid(
      `maxRedemptions ${c.maxRedemptions} is below the ${timesRedeemed} times coupon ${c.code} has been redeemed`,
      [{ path: 'maxRedemptions', message: `must be at least ${timesRedeemed}` }],
    );
  }

  private checkExpiryAhead(expiresAt: Date, now: Date): void {
    if (expiresAt.getTime() <= now.getTime()) {
      throw invalid(`expiresAt ${expiresAt.toISOString()} is not in the future (now is ${now.toISOString()})`, [
        { path: 'expiresAt', message: 'must be in the future' },
      ]);
    }
  }
}
