import { insertSubscription, updateSubscription } from './write';
import type { BillingCycle } from '../billing/cycle';
import type { EngineContext } from '../context';
import type { CouponService } from '../coupon/service';
import type { InvoiceService } from '../invoice/service';
import type { InvoiceLine } from '../invoice/types';
import type { Plan } from '../plan/types';
import {
  conflict,
  findById,
  illegalState,
  invalid,
  money,
  newId,
  notFound,
  pageOf,
  parseId,
  parseInput,
  type CouponId,
  type Currency,
  type Page,
  type PageInput,
  type Scope,
} from '../types';
import { feesChanged, isUpgrade } from './changes';
import { advanceLines } from '../invoice/build';
import { offersCurrency, planCurrencies, pricesIn, subscriptionCurrency } from '../plan/currency-prices';
import { adoptCurrency } from '../customer/currency';
import { calendarPeriodFor, periodFrom } from './calendar';
import type { BillingPeriod } from './period';
import { DEFAULT_CHANGE_RULES, isPercentagePrice } from '../plan/types';
import { creditsAfterCoupon, periodFees, renumber } from './fees';
import { percentOff } from '../coupon/discount';
import {
  cancelSchema,
  changePlanSchema,
  changeSeatsSchema,
  createSubscriptionSchema,
  type CancelInput,
  type ChangePlanInput,
  type ChangeSeatsInput,
  type CreateSubscriptionInput,
  type OutboxInvoice,
  type PriceOverrides,
  type ProrationBehavior,
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
  /**
   * For a change made now: the invoice it would make (prorations, usage so far); with
   * `create_prorations`, what the lines kept for the next invoice come to.
   */
  invoice: Awaited<ReturnType<InvoiceService['compute']>> | null;
  /** When the change's proration lines are billed: `now`, at the `next_invoice`, or null (none). */
  prorationsBilled: 'now' | 'next_invoice' | null;
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
    const currency = subscriptionCurrency(customer, plan);

    await this.ctx.customerSeen(scope, customer);
    const now = this.ctx.now(scope, customerId);
    const trialDays = data.trialDays ?? plan.trialDays;
    const trialEnd = trialDays > 0 ? new Date(now.getTime() + trialDays * DAY_MS) : null;
    // During a trial the period is the trial; paid periods are counted from its end.
    const anchor = trialEnd ?? now;
    // Calendar billing: the first paid period runs to the next calendar boundary in the
    // customer's time zone, its fees prorated (periodFees).
    const billingCycle = data.billingCycle ?? plan.billingCycle ?? 'anniversary';
    const timeZone = billingCycle === 'calendar' ? (customer.timeZone ?? null) : null;
    const firstPaid = periodFrom(anchor, plan.interval, billingCycle, timeZone);
    const first = trialEnd ? { start: now, end: trialEnd } : firstPaid.period;
    const coupon = data.couponCode
      ? await this.deps.coupons.redeem(scope, data.couponCode, { planKey: plan.key, currency, at: now, customerId, planId: plan.id })
      : null;
    const sub: Subscription = {
      id: newId('subscription'),
      customerId,
      planId,
      currency,
      status: trialEnd ? 'trialing' : 'active',
      quantity: data.quantity,
      trialStart: trialEnd ? now : null,
      trialEnd,
      billingAnchor: anchor,
      currentPeriodStart: first.start,
      currentPeriodEnd: first.end,
      cancelAtPeriodEnd: false,
      billingCycle,
      timeZone,
      pendingProrations: [],
      canceledAt: null,
      endedAt: null,
      unbilledFrom: first.start,
      discount: coupon ? { couponId: coupon.id as CouponId, code: coupon.code, appliedAt: now, periodsApplied: 0 } : null,
      priceOverrides: data.priceOverrides,
      pendingChange: null,
      outbox: [],
      version: 0,
      metadata: data.metadata,
      createdAt: now,
      updatedAt: now,
    };
    if (sub.status === 'active') {
      // The first period's fees, billed in advance, now: owed from the insert on (the
      // outbox), the coupon's first period.
      sub.outbox = [
        {
          key: 'create',
          reason: 'subscription_create',
          issueAt: now,
          basis: {
            ...periodFees(pricesIn(plan, currency), sub.quantity, sub.priceOverrides, firstPaid, timeZone, (await this.ctx.store.scopes.settings(scope))?.roundingMode),
            usage: null,
            couponId: sub.discount?.couponId ?? null,
          },
        },
      ];
      if (sub.discount) sub.discount = { ...sub.discount, periodsApplied: 1 };
    }
    try {
      await insertSubscription(this.ctx, scope, sub);
    } catch (e) {
      if (coupon) await this.deps.coupons.release(scope, coupon.id);
      throw e;
    }
    await adoptCurrency(this.ctx, scope, customer, currency);
    await this.ctx.plugins.emit('onSubscriptionCreated', scope, sub);
    return sub.outbox.length > 0 ? this.drain(scope, sub) : sub;
  }

  get(scope: Scope, id: string): Promise<Subscription> {
    return findById('subscription', id, (sid) => this.ctx.store.subscriptions.get(scope, sid));
  }

  async listByCustomer(scope: Scope, customerId: string, page: PageInput = {}): Promise<Page<Subscription>> {
    const customer = await findById('customer', customerId, (cid) => this.ctx.store.customers.get(scope, cid));
    return pageOf(page, (p) => this.ctx.store.subscriptions.listByCustomer(scope, customer.id, p));
  }

  /**
   * The subscription as a change must see it: the invoices its earlier changes owe made,
   * and moved through every period end that has passed (as the billing cycle would), so
   * that a change never lands in a period that is already over.
   */
  private async current(scope: Scope, id: string): Promise<Subscription> {
    let sub = await this.get(scope, id);
    if (sub.outbox.length > 0) sub = await this.drain(scope, sub);
    const now = await this.ctx.customerNow(scope, sub.customerId);
    if (sub.status !== 'canceled' && sub.currentPeriodEnd <= now) {
      await this.deps.cycle.settleOne(scope, sub, now);
      sub = await this.get(scope, id);
    }
    return sub;
  }

  /**
   * `now`: ends the subscription at once; its final invoice bills the usage up to now
   * (the period ends here) and, with `prorate`, credits the unused part of the period's
   * in-advance fees. `period_end`: it stays active until the end of the current period,
   * when the billing cycle ends it and bills the period's usage; `resume` undoes that.
   */
  async cancel(scope: Scope, id: string, input: CancelInput = {}): Promise<Subscription> {
    const { at, prorate, feedback, comment } = parseInput(cancelSchema, input, 'cancellation');
    const sub = await this.current(scope, id);
    if (sub.status === 'canceled') throw illegalState(`subscription ${sub.id} is already canceled`);
    const now = await this.ctx.customerNow(scope, sub.customerId);
    const metadata = {
      ...sub.metadata,
      ...(feedback ? { cancellation_feedback: feedback } : {}),
      ...(comment ? { cancellation_comment: comment } : {}),
    };
    if (at === 'period_end') {
      if (sub.cancelAtPeriodEnd) return sub;
      const scheduled = await this.save(scope, sub, { cancelAtPeriodEnd: true, canceledAt: now, metadata, updatedAt: now });
      await this.ctx.plugins.emit('onSubscriptionCancelScheduled', scope, scheduled);
      return scheduled;
    }
    const ending: Partial<Subscription> = { status: 'canceled', canceledAt: now, endedAt: now, cancelAtPeriodEnd: false, pendingChange: null, metadata, updatedAt: now };
    let entry: OutboxInvoice | null = null;
    // Active, or in dunning (past_due, unpaid): the final invoice bills the usage so far.
    if (sub.status !== 'trialing') {
      const plan = await this.plan(scope, sub);
      const period = { start: sub.currentPeriodStart, end: sub.currentPeriodEnd };
      // Proration lines kept for the next invoice (create_prorations): this is the last one.
      const credits = renumber([...sub.pendingProrations, ...(prorate ? await this.cancelCredits(scope, sub, plan, now) : [])], 0);
      const { couponId, used } = await this.deps.cycle.coupon(scope, sub, now);
      entry = {
        key: `cancel:${now.toISOString()}`,
        reason: 'subscription_cancel',
        issueAt: now,
        basis: {
          advance: null,
          usage: { planId: plan.id, overrides: sub.priceOverrides, start: sub.unbilledFrom, end: now, trial: false, quantity: sub.quantity, timeZone: sub.timeZone },
          prorations: credits,
          couponId,
        },
      };
      Object.assign(ending, { unbilledFrom: now, pendingProrations: [], discount: used && sub.discount ? { ...sub.discount, periodsApplied: sub.discount.periodsApplied + 1 } : sub.discount });
    }
    const ended = await this.withInvoice(scope, sub, ending, entry);
    await this.ctx.plugins.emit('onSubscriptionCanceled', scope, ended);
    return ended;
  }

  /**
   * What cancelling now with `prorate` would credit: the unused part of the period's
   * in-advance fees over the period they were priced for, less a percent-off coupon's
   * share (the lines the cancellation itself writes). Nothing during a trial.
   */
  async previewCancel(scope: Scope, id: string): Promise<{ lines: InvoiceLine[]; credit: number; currency: Currency }> {
    const sub = await this.current(scope, id);
    const plan = await this.plan(scope, sub);
    if (sub.status === 'trialing' || sub.status === 'canceled') return { lines: [], credit: 0, currency: plan.currency };
    const lines = await this.cancelCredits(scope, sub, plan, await this.ctx.customerNow(scope, sub.customerId));
    return { lines, credit: lines.reduce((a, l) => a - l.amount, 0), currency: plan.currency };
  }

  private async cancelCredits(scope: Scope, sub: Subscription, plan: Plan, now: Date): Promise<InvoiceLine[]> {
    const period = { start: sub.currentPeriodStart, end: sub.currentPeriodEnd };
    const rounding = (await this.ctx.store.scopes.settings(scope))?.roundingMode; // the scope's, for every line of the change
    const credits = feesChanged(advanceLines(plan, sub.quantity, sub.priceOverrides, period, rounding), [], pricedPeriod(sub, plan), now, plan.currency, rounding);
    const paidWith = credits.length > 0 ? await this.periodCoupon(scope, sub) : null;
    return paidWith ? creditsAfterCoupon(credits, paidWith.percentOff, plan.currency, rounding) : credits;
  }

  /** Withdraws a cancellation scheduled for the period end. */
  async resume(scope: Scope, id: string): Promise<Subscription> {
    const sub = await this.current(scope, id);
    if (sub.status === 'canceled') throw illegalState(`subscription ${sub.id} has ended and cannot be resumed`);
    if (!sub.cancelAtPeriodEnd) return sub;
    return this.save(scope, sub, { cancelAtPeriodEnd: false, canceledAt: null, updatedAt: await this.ctx.customerNow(scope, sub.customerId) });
  }

  /** Ends a trial now: the first paid period starts, and its fees are invoiced. */
  async endTrial(scope: Scope, id: string): Promise<Subscription> {
    const sub = await this.current(scope, id);
    if (sub.status !== 'trialing') throw illegalState(`subscription ${sub.id} is ${sub.status}, not trialing`);
    if (sub.cancelAtPeriodEnd) {
      throw illegalState(`subscription ${sub.id} is set to end with its trial; resume it before ending the trial`);
    }
    const now = await this.ctx.customerNow(scope, sub.customerId);
    const ending = await this.save(scope, sub, { trialEnd: now, billingAnchor: now, currentPeriodEnd: now, updatedAt: now });
    await this.deps.cycle.settleOne(scope, ending, now);
    return this.get(scope, id);
  }

  /** Redeems a coupon on the subscription (replacing any coupon it had). */
  async applyCoupon(scope: Scope, id: string, code: string): Promise<Subscription> {
    const sub = await this.current(scope, id);
    if (sub.status === 'canceled') throw illegalState(`subscription ${sub.id} has ended`);
    const plan = await this.plan(scope, sub);
    const now = await this.ctx.customerNow(scope, sub.customerId);
    const coupon = await this.deps.coupons.redeem(scope, code, { planKey: plan.key, currency: plan.currency, at: now, customerId: sub.customerId, planId: plan.id });
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
    const { sub, plan, next, quantity, effective, upgrade, how } = await this.planChange(scope, id, input);
    if (effective === 'period_end' || sub.status === 'trialing') return { effective, upgrade, invoice: null, prorationsBilled: null };
    const now = await this.ctx.customerNow(scope, sub.customerId);
    const { entry, held } = await this.changeOf(scope, sub, plan, next, quantity, now, how);
    // create_prorations: what the lines kept for the next invoice come to, as an invoice would show them.
    const basis = entry?.basis ?? (held.length > 0 ? { advance: null, usage: null, prorations: held, couponId: null } : null);
    return {
      effective,
      upgrade,
      invoice: basis ? await this.deps.invoices.compute(scope, sub.customerId, plan.currency, basis, now) : null,
      prorationsBilled: entry ? 'now' : held.length > 0 ? 'next_invoice' : null,
    };
  }

  /**
   * Switches plan. Upgrades (higher in-advance fees) take effect at once: an invoice
   * credits the unused part of the old fees and charges the new ones for the rest of the
   * period (prorated by seconds). Downgrades take effect at the period end (the cycle
   * applies them), or at once with `downgradeAt: 'now'`. The period's usage is billed at
   * its end, at the prices of the plan then in force (its included units once). A
   * change of interval ends the period now: its usage is billed at the old plan's prices
   * and a new period starts, its fees in full. During a trial the plan changes at once
   * and nothing is billed.
   */
  async changePlan(scope: Scope, id: string, input: ChangePlanInput): Promise<Subscription> {
    const { sub, plan, next, quantity, effective, how } = await this.planChange(scope, id, input);
    const now = await this.ctx.customerNow(scope, sub.customerId);
    if (sub.status === 'trialing') {
      const changed = await this.save(scope, sub, { planId: next.id, quantity, updatedAt: now });
      await this.ctx.plugins.emit('onSubscriptionChanged', scope, changed, plan, next);
      return changed;
    }
    if (effective === 'period_end') {
      return this.save(scope, sub, { pendingChange: { planId: next.id, quantity }, updatedAt: now });
    }
    const { entry, after } = await this.changeOf(scope, sub, plan, next, quantity, now, how);
    const changed = await this.withInvoice(scope, sub, { ...after, pendingChange: null, updatedAt: now }, entry);
    await this.ctx.plugins.emit('onSubscriptionChanged', scope, changed, plan, next);
    return changed;
  }

  /**
   * Changes the seat count now, prorating the licensed fees for the rest of the period.
   * A downgrade scheduled for the period end keeps the new seat count.
   */
  async changeSeats(scope: Scope, id: string, input: ChangeSeatsInput): Promise<Subscription> {
    const data = parseInput(changeSeatsSchema, input, 'seat change');
    const sub = await this.current(scope, id);
    if (sub.status === 'canceled') throw illegalState(`subscription ${sub.id} has ended`);
    const plan = await this.plan(scope, sub);
    checkSeats(plan, data.quantity);
    let pendingChange = sub.pendingChange;
    if (pendingChange) {
      const pendingPlan = await this.ctx.store.plans.get(scope, pendingChange.planId);
      if (pendingPlan) checkSeats(pendingPlan, data.quantity);
      pendingChange = { ...pendingChange, quantity: data.quantity };
    }
    const now = await this.ctx.customerNow(scope, sub.customerId);
    if (sub.status === 'trialing' || data.quantity === sub.quantity) {
      return this.save(scope, sub, { quantity: data.quantity, pendingChange, updatedAt: now });
    }
    // Seats change at once, prorated by seconds; the plan's changeRules govern plan changes only.
    const how: ChangeHow = { behavior: prorationBehaviorOf(data), proration: 'prorate' };
    const { entry, after } = await this.changeOf(scope, sub, plan, plan, data.quantity, now, how);
    return this.withInvoice(scope, sub, { ...after, pendingChange, updatedAt: now }, entry);
  }

  // --- changes ---------------------------------------------------------------------

  private async planChange(scope: Scope, id: string, input: ChangePlanInput) {
    const data = parseInput(changePlanSchema, input, 'plan change');
    const sub = await this.current(scope, id);
    if (sub.status === 'canceled') throw illegalState(`subscription ${sub.id} has ended`);
    const target = await this.ctx.store.plans.get(scope, parseId('plan', data.planId));
    if (!target) throw notFound('plan', data.planId);
    if (target.status !== 'active' || !target.isLatest) throw illegalState(`plan ${target.id} is not for sale: use the latest version of an active plan`);
    const plan = await this.plan(scope, sub);
    // Multi-currency: the new plan must be offered in the subscription's currency, and is priced in it.
    if (!offersCurrency(target, plan.currency)) {
      const offered = planCurrencies(target).join(', ');
      throw invalid(`a subscription cannot change currency: it is in ${plan.currency}, and plan "${target.key}" is offered in ${offered}`, [
        { path: 'planId', message: `not offered in ${plan.currency}; offered in ${offered}` },
      ]);
    }
    const next = pricesIn(target, plan.currency);
    const quantity = data.quantity ?? sub.quantity;
    checkSeats(next, quantity);
    checkOverrides(next, sub.priceOverrides);
    const period = { start: sub.currentPeriodStart, end: sub.currentPeriodEnd };
    const rounding = (await this.ctx.store.scopes.settings(scope))?.roundingMode;
    const upgrade = isUpgrade(plan, sub.quantity, next, quantity, sub.priceOverrides, period, rounding);
    // The rules of the plan being left, unless the change says when.
    const rule = (plan.changeRules ?? DEFAULT_CHANGE_RULES)[upgrade ? 'upgrade' : 'downgrade'];
    const asked = upgrade ? data.upgradeAt : data.downgradeAt;
    const effective: 'now' | 'period_end' = asked ?? (rule.when === 'immediately' ? 'now' : 'period_end');
    const how: ChangeHow = { behavior: prorationBehaviorOf(data), proration: rule.proration };
    return { sub, plan, next, quantity, effective, upgrade, how };
  }

  /**
   * The invoice a change made at `at` owes, and the subscription after it. Same interval:
   * the fees that change, prorated for the rest of the period (`full`: for all of it);
   * usage waits for the period end. The lines are invoiced at once (`always_invoice`,
   * with any kept from earlier changes), kept for the next invoice (`create_prorations`:
   * `held`), or not made (`none`). Another interval: the period ends now (its usage billed
   * at the old plan's prices, the unused fees credited) and a new one starts (its fees in
   * full, or to the calendar boundary, prorated; with the coupon if it applies).
   *
   * Proration counts seconds of the period the fees were priced for: the current period,
   * or for a calendar subscription's short first period the calendar period around it.
   * A percent-off coupon that discounted the period's fees discounts its prorations.
   */
  private async changeOf(scope: Scope, sub: Subscription, plan: Plan, next: Plan, quantity: number, at: Date, how: ChangeHow) {
    const period = { start: sub.currentPeriodStart, end: sub.currentPeriodEnd };
    const priced = pricedPeriod(sub, plan);
    const from = how.proration === 'full' ? period.start : at;
    const rounding = (await this.ctx.store.scopes.settings(scope))?.roundingMode; // the scope's, for every line of the change
    const oldFees = advanceLines(plan, sub.quantity, sub.priceOverrides, period, rounding);
    const sameInterval = next.interval.unit === plan.interval.unit && next.interval.count === plan.interval.count;
    const key = `update:${sub.version}`;
    const discounted = async (lines: InvoiceLine[]) => {
      const paidWith = lines.length > 0 ? await this.periodCoupon(scope, sub) : null;
      return { lines: paidWith ? creditsAfterCoupon(lines, paidWith.percentOff, plan.currency, rounding) : lines, couponId: paidWith?.id ?? null, percent: paidWith?.percentOff ?? null };
    };
    const none: InvoiceLine[] = [];
    if (sameInterval) {
      if (how.behavior === 'none') return { entry: null, held: none, after: { planId: next.id, quantity } satisfies Partial<Subscription> };
      const made = await discounted(feesChanged(oldFees, advanceLines(next, quantity, sub.priceOverrides, period, rounding), priced, from, plan.currency, rounding));
      if (how.behavior === 'create_prorations') {
        // Each charge keeps the discount it would have had invoiced now (the period's
        // percent-off coupon, else none), whatever coupon the invoice that bills it has.
        const withDiscount = made.lines.map((l) =>
          l.amount > 0 ? { ...l, heldDiscount: made.percent ? percentOff(money(l.amount, plan.currency), made.percent, rounding).amount : 0 } : l,
        );
        const held = renumber(withDiscount, sub.pendingProrations.length);
        return { entry: null, held, after: { planId: next.id, quantity, pendingProrations: [...sub.pendingProrations, ...held] } satisfies Partial<Subscription> };
      }
      const prorations = renumber([...sub.pendingProrations, ...made.lines], 0);
      const entry: OutboxInvoice | null =
        prorations.length > 0 ? { key, reason: 'subscription_update', issueAt: at, basis: { advance: null, usage: null, prorations, couponId: made.couponId } } : null;
      return { entry, held: none, after: { planId: next.id, quantity, pendingProrations: [] } satisfies Partial<Subscription> };
    }
    const entered = periodFrom(at, next.interval, sub.billingCycle, sub.timeZone);
    const fees = periodFees(next, quantity, sub.priceOverrides, entered, sub.timeZone, rounding);
    const credits = how.behavior === 'none' ? none : (await discounted(feesChanged(oldFees, [], priced, from, plan.currency, rounding))).lines;
    const { couponId, used } = await this.deps.cycle.coupon(scope, sub, at);
    const entry: OutboxInvoice = {
      key,
      reason: 'subscription_update',
      issueAt: at,
      basis: {
        advance: fees.advance,
        usage: { planId: plan.id, overrides: sub.priceOverrides, start: sub.unbilledFrom, end: at, trial: false, quantity: sub.quantity, timeZone: sub.timeZone },
        prorations: [...fees.prorations, ...renumber([...sub.pendingProrations, ...credits], 0)],
        couponId,
      },
    };
    const after: Partial<Subscription> = {
      planId: next.id,
      quantity,
      billingAnchor: at,
      currentPeriodStart: entered.period.start,
      currentPeriodEnd: entered.period.end,
      unbilledFrom: at,
      pendingProrations: [],
      discount: used && sub.discount ? { ...sub.discount, periodsApplied: sub.discount.periodsApplied + 1 } : sub.discount,
    };
    return { entry, held: none, after };
  }

  /**
   * The percent-off coupon that discounted the current period's fees (the invoice that
   * billed them shows a discount on a fee line starting with the period), if any: the
   * period's prorations are discounted by it too, as Stripe does. An amount-off coupon
   * took its fixed amount off that invoice already and is not taken again.
   */
  private async periodCoupon(scope: Scope, sub: Subscription): Promise<{ id: CouponId; percentOff: string } | null> {
    const start = sub.currentPeriodStart.getTime();
    const feeKinds = new Set(['base_fee', 'license', 'flat_fee']);
    const billed = (await this.ctx.store.invoices.listBySubscription(scope, sub.id)).find(
      (inv) => inv.status !== 'void' && inv.couponId !== null && inv.lines.some((l) => feeKinds.has(l.kind) && l.periodStart.getTime() === start && l.discount > 0),
    );
    if (!billed?.couponId) return null;
    const coupon = await this.ctx.store.coupons.get(scope, billed.couponId);
    return coupon && coupon.percentOff !== null ? { id: billed.couponId, percentOff: coupon.percentOff } : null;
  }

  /**
   * Writes a change together with the invoice it owes: the invoice goes into the
   * subscription's outbox in the same conditional write as the change (both or neither),
   * and is then made from there, once, by its key.
   */
  private async withInvoice(scope: Scope, sub: Subscription, changes: Partial<Subscription>, entry: OutboxInvoice | null): Promise<Subscription> {
    const changed = await this.save(scope, sub, entry ? { ...changes, outbox: [...sub.outbox, entry] } : changes);
    return entry ? this.drain(scope, changed) : changed;
  }

  /**
   * Makes the invoices the outbox owes. The change is committed already: if making them
   * fails now, the change stands and the billing cycle makes them on its next run.
   */
  private async drain(scope: Scope, sub: Subscription): Promise<Subscription> {
    try {
      return await this.deps.cycle.drainOutbox(scope, sub);
    } catch (e) {
      this.ctx.logger.warn('invoices owed by a subscription change are left for the billing cycle', {
        subscriptionId: sub.id,
        error: (e as Error).message,
      });
      return sub;
    }
  }

  private async plan(scope: Scope, sub: Subscription): Promise<Plan> {
    const plan = await this.ctx.store.plans.get(scope, sub.planId);
    if (!plan) throw notFound('plan', sub.planId);
    return pricesIn(plan, sub.currency); // the plan as priced in the subscription's currency
  }

  /**
   * Writes `changes` over `from`, if the subscription has not changed since `from` was
   * read (its version); a concurrent change (the billing cycle moving it) is a conflict
   * the caller can retry.
   */
  private async save(scope: Scope, from: Subscription, changes: Partial<Subscription>): Promise<Subscription> {
    const next: Subscription = { ...from, ...changes, version: from.version + 1 };
    if (!(await updateSubscription(this.ctx, scope, from, next))) {
      if (!(await this.ctx.store.subscriptions.get(scope, from.id))) throw notFound('subscription', from.id);
      throw conflict(`subscription ${from.id} changed while it was being updated; retry`);
    }
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
  for (const [key, price] of Object.entries(overrides.features ?? {})) {
    const f = plan.features.find((x) => x.key === key);
    const path = `priceOverrides.features.${key}`;
    if (!f || f.kind === 'boolean') {
      throw invalid(`price override for "${key}": plan "${plan.key}" has no priced feature "${key}"`, [{ path, message: 'not a priced feature of the plan' }]);
    }
    // What the plan's schema refuses of a feature's own price, an override may not bring in.
    if (price && isPercentagePrice(price)) {
      const why =
        f.kind !== 'metered' || !f.amountProperty
          ? `"${key}" carries no transaction amount (a percentage price needs the feature's amountProperty)`
          : f.limitByCredits
            ? `"${key}" is limited by credits, which prices a consumption by its quantity`
            : null;
      if (why) throw invalid(`price override for "${key}": a percentage price cannot apply: ${why}`, [{ path, message: 'a percentage price cannot apply to this feature' }]);
    }
  }
}

/** How a change bills the rest of the period: when its lines are invoiced, and how much they come to. */
interface ChangeHow {
  behavior: ProrationBehavior;
  /** `prorate`: the rest of the period, by seconds; `full`: all of the current period. */
  proration: 'prorate' | 'full';
}

/** `prorationBehavior` when given; else `prorate: false` is `none`, and the default invoices at once (the behaviour before the option). */
function prorationBehaviorOf(data: { prorate: boolean; prorationBehavior?: ProrationBehavior | undefined }): ProrationBehavior {
  return data.prorationBehavior ?? (data.prorate ? 'always_invoice' : 'none');
}

/**
 * The period the current fees were priced for, which mid-period changes prorate over:
 * the current period, or for a calendar subscription the calendar period around it (its
 * short first period paid 22/31 of August: a change on August 20 credits 12/31).
 */
function pricedPeriod(sub: Subscription, plan: Plan): BillingPeriod {
  const current = { start: sub.currentPeriodStart, end: sub.currentPeriodEnd };
  if (sub.billingCycle !== 'calendar') return current;
  const full = calendarPeriodFor(sub.currentPeriodStart, plan.interval, sub.timeZone);
  return full.end.getTime() === current.end.getTime() ? full : current;
}
