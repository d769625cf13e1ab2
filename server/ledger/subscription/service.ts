import type { BillingCycle } from '../billing/cycle';
import type { EngineContext } from '../context';
import type { CouponService } from '../coupon/service';
import type { InvoiceService } from '../invoice/service';
import type { Invoice, InvoiceBasis, InvoiceLine } from '../invoice/types';
import type { Plan } from '../plan/types';
import {
  conflict,
  findById,
  illegalState,
  invalid,
  newId,
  notFound,
  pageOf,
  parseId,
  parseInput,
  type CouponId,
  type Page,
  type PageInput,
  type Scope,
} from '../types';
import { feesChanged, isUpgrade } from './changes';
import { advanceLines } from '../invoice/build';
import { nthPeriod } from './period';
import {
  cancelSchema,
  changePlanSchema,
  changeSeatsSchema,
  createSubscriptionSchema,
  type CancelInput,
  type ChangePlanInput,
  type ChangeSeatsInput,
  type CreateSubscriptionInput,
  type PriceOverrides,
  type Subscription,
} from './types';

const DAY_MS = 86_400_000;

export interface SubscriptionDeps {
  invoices: InvoiceService;
  coupons: CouponService;
  cycle: BillingCycle;
}

/** A plan or seat change as it would be made now: when, and what it would bill. */
export interface ChangePreview {
  effective: 'now' | 'period_end';
  upgrade: boolean;
  /** For a change made now: the invoice it would make (prorations, usage so far). */
  invoice: Awaited<ReturnType<InvoiceService['compute']>> | null;
}

/**
 * The subscription lifecycle: create (trial, seats, coupon, price overrides; the first
 * period's fees invoiced), cancel (now or at the period end), resume, end a trial early,
 * redeem a coupon, change plan or seats mid-period with proration. Moving subscriptions
 * across period ends is the billing cycle's (billing/cycle.ts).
 *
 * Every write is conditional on the version the subscription was read with, so a change
 * racing the billing cycle fails cleanly (`conflict`: retry) instead of undoing it.
 */
export class SubscriptionService {
  constructor(
    private readonly ctx: EngineContext,
    private readonly deps: SubscriptionDeps,
  ) {}

  async create(scope: Scope, input: CreateSubscriptionInput): Promise<Subscription> {
    const data = parseInput(createSubscriptionSchema, input, 'subscription');
    const customerId = parseId('customer', data.customerId);
    const planId = parseId('plan', data.planId);
    const [customer, plan] = await Promise.all([
      this.ctx.store.customers.get(scope, customerId),
      this.ctx.store.plans.get(scope, planId),
    ]);
    if (!customer) throw notFound('customer', customerId);
    if (!plan) throw notFound('plan', planId);
    if (plan.status !== 'active') throw illegalState(`plan "${plan.key}" is archived and takes no new subscriptions`);
    if (!plan.isLatest) {
      throw illegalState(`plan ${plan.id} is an old version of "${plan.key}"; subscribe to the latest version`);
    }
    checkSeats(plan, data.quantity);
    checkOverrides(plan, data.priceOverrides);

    const now = this.ctx.now(scope);
    const trialDays = data.trialDays ?? plan.trialDays;
    const trialEnd = trialDays > 0 ? new Date(now.getTime() + trialDays * DAY_MS) : null;
    // During a trial the period is the trial; paid periods are counted from its end.
    const anchor = trialEnd ?? now;
    const first = trialEnd ? { start: now, end: trialEnd } : nthPeriod(anchor, plan.interval, 0);
    const coupon = data.couponCode
      ? await this.deps.coupons.redeem(scope, data.couponCode, { planKey: plan.key, currency: plan.currency, at: now })
      : null;
    const sub: Subscription = {
      id: newId('subscription'),
      customerId,
      planId,
      status: trialEnd ? 'trialing' : 'active',
      quantity: data.quantity,
      trialStart: trialEnd ? now : null,
      trialEnd,
      billingAnchor: anchor,
      currentPeriodStart: first.start,
      currentPeriodEnd: first.end,
      cancelAtPeriodEnd: false,
      canceledAt: null,
      endedAt: null,
      unbilledFrom: first.start,
      discount: coupon ? { couponId: coupon.id as CouponId, code: coupon.code, appliedAt: now, periodsApplied: 0 } : null,
      priceOverrides: data.priceOverrides,
      pendingChange: null,
      version: 0,
      metadata: data.metadata,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.ctx.store.subscriptions.insert(scope, sub);
    } catch (e) {
      if (coupon) await this.deps.coupons.release(scope, coupon.id);
      throw e;
    }
    this.ctx.changes.subscriptionWritten(scope, sub);
    await this.ctx.plugins.emit('onSubscriptionCreated', scope, sub);
    if (sub.status === 'trialing') return sub;

    // The first period's fees, billed in advance, now (a coupon's first period).
    const basis: InvoiceBasis = {
      advance: { planId: plan.id, quantity: sub.quantity, overrides: sub.priceOverrides, start: first.start, end: first.end },
      usage: null,
      prorations: [],
      couponId: sub.discount?.couponId ?? null,
    };
    const { invoice } = await this.deps.invoices.create(scope, sub, 'subscription_create', 'create', now, basis);
    const billed = sub.discount ? await this.save(scope, sub, { discount: { ...sub.discount, periodsApplied: 1 } }) : sub;
    await this.finalizeIfReady(scope, invoice);
    return billed;
  }

  get(scope: Scope, id: string): Promise<Subscription> {
    return findById('subscription', id, (sid) => this.ctx.store.subscriptions.get(scope, sid));
  }

  async listByCustomer(scope: Scope, customerId: string, page: PageInput = {}): Promise<Page<Subscription>> {
    const customer = await findById('customer', customerId, (cid) => this.ctx.store.customers.get(scope, cid));
    return pageOf(page, (p) => this.ctx.store.subscriptions.listByCustomer(scope, customer.id, p));
  }

  /**
   * `now`: ends the subscription at once; its final invoice bills the usage up to now
   * and, with `prorate`, credits the unused part of the period's in-advance fees.
   * `period_end`: it stays active until the end of the current period, when the billing
   * cycle ends it and bills the period's usage; `resume` undoes that until then.
   */
  async cancel(scope: Scope, id: string, input: CancelInput = {}): Promise<Subscription> {
    const { at, prorate } = parseInput(cancelSchema, input, 'cancellation');
    const sub = await this.get(scope, id);
    if (sub.status === 'canceled') throw illegalState(`subscription ${sub.id} is already canceled`);
    const now = this.ctx.now(scope);
    if (at === 'period_end') {
      if (sub.cancelAtPeriodEnd) return sub;
      const scheduled = await this.save(scope, sub, { cancelAtPeriodEnd: true, canceledAt: now, updatedAt: now });
      await this.ctx.plugins.emit('onSubscriptionCancelScheduled', scope, scheduled);
      return scheduled;
    }
    let invoice: Invoice | null = null;
    let created = false;
    if (sub.status === 'active') {
      const plan = await this.plan(scope, sub);
      const period = { start: sub.currentPeriodStart, end: sub.currentPeriodEnd };
      const credits = prorate ? feesChanged(advanceLines(plan, sub.quantity, sub.priceOverrides, period), [], period, now, plan.currency) : [];
      const basis: InvoiceBasis = {
        advance: null,
        usage: { planId: plan.id, overrides: sub.priceOverrides, start: sub.unbilledFrom, end: now, trial: false },
        prorations: credits,
        couponId: null,
      };
      ({ invoice, created } = await this.deps.invoices.create(scope, sub, 'subscription_cancel', `cancel:${now.toISOString()}`, now, basis));
    }
    const ended = await this.save(scope, sub, {
      status: 'canceled',
      canceledAt: now,
      endedAt: now,
      cancelAtPeriodEnd: false,
      unbilledFrom: now,
      updatedAt: now,
    }).catch(async (e: unknown) => {
      if (invoice && created) await this.ctx.store.invoices.deleteDraft(scope, invoice.id);
      throw e;
    });
    await this.ctx.plugins.emit('onSubscriptionCanceled', scope, ended);
    if (invoice) await this.finalizeIfReady(scope, invoice);
    return ended;
  }

  /** Withdraws a cancellation scheduled for the period end. */
  async resume(scope: Scope, id: string): Promise<Subscription> {
    const sub = await this.get(scope, id);
    if (sub.status === 'canceled') throw illegalState(`subscription ${sub.id} has ended and cannot be resumed`);
    if (!sub.cancelAtPeriodEnd) return sub;
    return this.save(scope, sub, { cancelAtPeriodEnd: false, canceledAt: null, updatedAt: this.ctx.now(scope) });
  }

  /** Ends a trial now: the first paid period starts, and its fees are invoiced. */
  async endTrial(scope: Scope, id: string): Promise<Subscription> {
    const sub = await this.get(scope, id);
    if (sub.status !== 'trialing') throw illegalState(`subscription ${sub.id} is ${sub.status}, not trialing`);
    const now = this.ctx.now(scope);
    const ending = await this.save(scope, sub, { trialEnd: now, billingAnchor: now, currentPeriodEnd: now, updatedAt: now });
    await this.deps.cycle.settleOne(scope, ending, now);
    return this.get(scope, id);
  }

  /** Redeems a coupon on the subscription (replacing any coupon it had). */
  async applyCoupon(scope: Scope, id: string, code: string): Promise<Subscription> {
    const sub = await this.get(scope, id);
    if (sub.status === 'canceled') throw illegalState(`subscription ${sub.id} has ended`);
    const plan = await this.plan(scope, sub);
    const now = this.ctx.now(scope);
    const coupon = await this.deps.coupons.redeem(scope, code, { planKey: plan.key, currency: plan.currency, at: now });
    try {
      return await this.save(scope, sub, {
        discount: { couponId: coupon.id as CouponId, code: coupon.code, appliedAt: now, periodsApplied: 0 },
        updatedAt: now,
      });
    } catch (e) {
      await this.deps.coupons.release(scope, coupon.id);
      throw e;
    }
  }

  /** What changing plan (and seats) would do now, without doing it. */
  async previewChange(scope: Scope, id: string, input: ChangePlanInput): Promise<ChangePreview> {
    const { sub, plan, next, quantity, effective, upgrade, data } = await this.planChange(scope, id, input);
    if (effective === 'period_end') return { effective, upgrade, invoice: null };
    const { basis } = this.changeBasis(sub, plan, next, quantity, this.ctx.now(scope), data.prorate, true);
    return { effective, upgrade, invoice: await this.deps.invoices.compute(scope, sub.customerId, plan.currency, basis) };
  }

  /**
   * Switches plan. Upgrades (higher in-advance fees) take effect at once: an invoice
   * credits the unused part of the old fees, charges the new ones for the rest of the
   * period (prorated by seconds) and bills the usage so far at the old plan's prices.
   * Downgrades take effect at the period end (the cycle applies them), or at once with
   * `downgradeAt: 'now'`. A change of interval starts a new period now. During a trial,
   * the plan changes at once and nothing is billed.
   */
  async changePlan(scope: Scope, id: string, input: ChangePlanInput): Promise<Subscription> {
    const { sub, plan, next, quantity, effective, data } = await this.planChange(scope, id, input);
    const now = this.ctx.now(scope);
    if (sub.status === 'trialing') {
      const changed = await this.save(scope, sub, { planId: next.id, quantity, updatedAt: now });
      await this.ctx.plugins.emit('onSubscriptionChanged', scope, changed, plan, next);
      return changed;
    }
    if (effective === 'period_end') {
      return this.save(scope, sub, { pendingChange: { planId: next.id, quantity }, updatedAt: now });
    }
    const { basis, after } = this.changeBasis(sub, plan, next, quantity, now, data.prorate, true);
    const changed = await this.applyChange(scope, sub, basis, { ...after, pendingChange: null, updatedAt: now });
    await this.ctx.plugins.emit('onSubscriptionChanged', scope, changed, plan, next);
    return changed;
  }

  /** Changes the seat count now, prorating the licensed fees for the rest of the period. */
  async changeSeats(scope: Scope, id: string, input: ChangeSeatsInput): Promise<Subscription> {
    const data = parseInput(changeSeatsSchema, input, 'seat change');
    const sub = await this.get(scope, id);
    if (sub.status === 'canceled') throw illegalState(`subscription ${sub.id} has ended`);
    const plan = await this.plan(scope, sub);
    checkSeats(plan, data.quantity);
    const now = this.ctx.now(scope);
    if (sub.status === 'trialing' || data.quantity === sub.quantity) {
      return this.save(scope, sub, { quantity: data.quantity, updatedAt: now });
    }
    const { basis, after } = this.changeBasis(sub, plan, plan, data.quantity, now, data.prorate, false);
    return this.applyChange(scope, sub, basis, { ...after, updatedAt: now });
  }

  // --- changes ---------------------------------------------------------------------

  private async planChange(scope: Scope, id: string, input: ChangePlanInput) {
    const data = parseInput(changePlanSchema, input, 'plan change');
    const sub = await this.get(scope, id);
    if (sub.status === 'canceled') throw illegalState(`subscription ${sub.id} has ended`);
    const next = await this.ctx.store.plans.get(scope, parseId('plan', data.planId));
    if (!next) throw notFound('plan', data.planId);
    if (next.status !== 'active' || !next.isLatest) throw illegalState(`plan ${next.id} is not for sale: use the latest version of an active plan`);
    const plan = await this.plan(scope, sub);
    if (next.currency !== plan.currency) {
      throw invalid(`a subscription cannot change currency: ${plan.currency} to ${next.currency}`, [{ path: 'planId', message: `a ${plan.currency} plan` }]);
    }
    const quantity = data.quantity ?? sub.quantity;
    checkSeats(next, quantity);
    checkOverrides(next, sub.priceOverrides);
    const period = { start: sub.currentPeriodStart, end: sub.currentPeriodEnd };
    const upgrade = isUpgrade(plan, sub.quantity, next, quantity, sub.priceOverrides, period);
    const effective: 'now' | 'period_end' = upgrade || data.downgradeAt === 'now' ? 'now' : 'period_end';
    return { sub, plan, next, quantity, effective, upgrade, data };
  }

  /**
   * The invoice of a change made at `at` and the subscription after it. Same interval:
   * proration of the fees that change, for the rest of the period. Another interval: a
   * new period starts now (credit for the old one's rest, the new one's fees in full).
   * With `billUsage`, the usage so far is billed at the old plan's prices.
   */
  private changeBasis(sub: Subscription, plan: Plan, next: Plan, quantity: number, at: Date, prorate: boolean, billUsage: boolean) {
    const period = { start: sub.currentPeriodStart, end: sub.currentPeriodEnd };
    const oldFees = advanceLines(plan, sub.quantity, sub.priceOverrides, period);
    const sameInterval = next.interval.unit === plan.interval.unit && next.interval.count === plan.interval.count;
    const usage = billUsage ? { planId: plan.id, overrides: sub.priceOverrides, start: sub.unbilledFrom, end: at, trial: false } : null;
    const moved: Partial<Subscription> = { planId: next.id, quantity, ...(billUsage ? { unbilledFrom: at } : {}) };
    if (sameInterval) {
      const newFees = advanceLines(next, quantity, sub.priceOverrides, period);
      const prorations: InvoiceLine[] = prorate ? feesChanged(oldFees, newFees, period, at, plan.currency) : [];
      return { basis: { advance: null, usage, prorations, couponId: null } satisfies InvoiceBasis, after: moved };
    }
    const fresh = nthPeriod(at, next.interval, 0);
    const credits = prorate ? feesChanged(oldFees, [], period, at, plan.currency) : [];
    return {
      basis: {
        advance: { planId: next.id, quantity, overrides: sub.priceOverrides, start: fresh.start, end: fresh.end },
        usage,
        prorations: credits,
        couponId: null,
      } satisfies InvoiceBasis,
      after: { ...moved, billingAnchor: at, currentPeriodStart: fresh.start, currentPeriodEnd: fresh.end, unbilledFrom: at },
    };
  }

  /**
   * Writes a mid-period change with its invoice: the invoice first (keyed by the version
   * it changes, so it is made once), then the subscription if it has not moved; if it
   * has, the invoice is withdrawn and the caller gets a conflict to retry.
   */
  private async applyChange(scope: Scope, sub: Subscription, basis: InvoiceBasis, after: Partial<Subscription>): Promise<Subscription> {
    const now = this.ctx.now(scope);
    const bills = basis.prorations.length > 0 || basis.advance !== null || (basis.usage !== null && basis.usage.end > basis.usage.start);
    const made = bills ? await this.deps.invoices.create(scope, sub, 'subscription_update', `update:${sub.version}`, now, basis) : null;
    const changed = await this.save(scope, sub, after).catch(async (e: unknown) => {
      if (made?.created) await this.ctx.store.invoices.deleteDraft(scope, made.invoice.id);
      throw e;
    });
    if (made) await this.finalizeIfReady(scope, made.invoice);
    return changed;
  }

  /** Finalizes an invoice with nothing to wait for (no usage, or its grace is over). */
  private async finalizeIfReady(scope: Scope, invoice: Invoice): Promise<void> {
    if (invoice.status === 'draft' && invoice.finalizeAt <= this.ctx.now(scope)) await this.deps.invoices.finalize(scope, invoice.id);
  }

  private async plan(scope: Scope, sub: Subscription): Promise<Plan> {
    const plan = await this.ctx.store.plans.get(scope, sub.planId);
    if (!plan) throw notFound('plan', sub.planId);
    return plan;
  }

  /**
   * Writes `changes` over `from`, if the subscription has not changed since `from` was
   * read (its version); a concurrent change (the billing cycle moving it) is a conflict
   * the caller can retry.
   */
  private async save(scope: Scope, from: Subscription, changes: Partial<Subscription>): Promise<Subscription> {
    const next: Subscription = { ...from, ...changes, version: from.version + 1 };
    if (!(await this.ctx.store.subscriptions.update(scope, next, from.version))) {
      if (!(await this.ctx.store.subscriptions.get(scope, from.id))) throw notFound('subscription', from.id);
      throw conflict(`subscription ${from.id} changed while it was being updated; retry`);
    }
    this.ctx.changes.subscriptionWritten(scope, next);
    return next;
  }
}

function checkSeats(plan: Plan, quantity: number): void {
  for (const f of plan.features) {
    if (f.kind === 'licensed' && f.limit !== null && quantity > f.limit) {
      throw invalid(`plan "${plan.key}" allows at most ${f.limit} seats of "${f.key}", asked for ${quantity}`, [
        { path: 'quantity', message: `at most ${f.limit}` },
      ]);
    }
  }
}

/** Overrides may only name features of the plan that carry a price. */
function checkOverrides(plan: Plan, overrides: PriceOverrides): void {
  for (const key of Object.keys(overrides.features ?? {})) {
    const f = plan.features.find((x) => x.key === key);
    if (!f || f.kind === 'boolean') {
      throw invalid(`price override for "${key}": plan "${plan.key}" has no priced feature "${key}"`, [
        { path: `priceOverrides.features.${key}`, message: 'not a priced feature of the plan' },
      ]);
    }
  }
}
