import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { conflict, invalid, requiredText, type Ledger, type Plan, type Scope, type Subscription } from '../../ledger';
import { advanceLines } from '../../ledger/invoice/build';
import { periodFrom } from '../../ledger/subscription/calendar';
import { plansIn, pricesIn } from '../../ledger/plan/currency-prices';
import { canManageBilling, type PortalContext } from '../../portal/session';
import { CANCEL_REASONS, invoicePreview, losses, planCard, subscriptionCard, type InvoicePreview } from '../../portal/views/plans';
import { portalBillingProcedure, portalProcedure, router } from '../init';

/**
 * The /portal/plans page's procedures, mounted as `accountPlans`: the pricing table, and
 * subscribing, changing plan or seats (with their previews), cancelling, resuming and
 * redeeming a coupon. Scope and customer come from the session (ctx.portal) only; the
 * subscription acted on is always the customer's own live one, found here, never named
 * by the input. Reads are open to every role; writes to owner and billing only.
 */

const planKey = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a plan key such as "pro"');
const seats = z.number().int().min(1).max(1_000_000);

/** The customer's live (not canceled) subscription, or null. A customer has a handful at most. */
async function liveSubscription(ledger: Ledger, portal: PortalContext): Promise<Subscription | null> {
  const { items } = await ledger.subscriptions.listByCustomer(portal.scope, portal.customerId, { limit: 100 });
  return items.filter((s) => s.status !== 'canceled').sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0] ?? null;
}

async function requireLive(ledger: Ledger, portal: PortalContext): Promise<Subscription> {
  const sub = await liveSubscription(ledger, portal);
  if (!sub) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'there is no subscription to change: choose a plan first' });
  return sub;
}

/** The latest version of an active plan, by key (the table lists those only). */
async function planForSale(ledger: Ledger, scope: Scope, key: string): Promise<Plan> {
  const plan = await ledger.plans.getByKey(scope, key);
  if (plan.status !== 'active') throw invalid(`plan "${key}" is not for sale`, [{ path: 'planKey', message: 'not for sale' }]);
  return plan;
}

/**
 * The next regular invoice after a change: the fees of `plan` × `quantity` for the period
 * after `from`, taxed as the customer is (usage and coupons come on top, and are said so).
 */
async function nextInvoiceOf(ledger: Ledger, scope: Scope, sub: Subscription, plan: Plan, quantity: number, from: Date): Promise<{ at: Date; invoice: InvoicePreview | null }> {
  const period = periodFrom(from, plan.interval, sub.billingCycle, sub.timeZone).period;
  if (advanceLines(plan, quantity, sub.priceOverrides, period).length === 0) return { at: from, invoice: null };
  const computed = await ledger.invoices.compute(
    scope,
    sub.customerId,
    plan.currency,
    { advance: { planId: plan.id, quantity, overrides: sub.priceOverrides, start: period.start, end: period.end }, usage: null, prorations: [], couponId: null },
    from,
  );
  return { at: from, invoice: invoicePreview(computed) };
}

export const accountPlansRouter = router({
  /**
   * The pricing table: every active plan (latest version) with its features, the current
   * one marked; the customer's live subscription (status, seats, trial, a cancellation
   * or a downgrade scheduled, its coupon); whether this user may change it.
   */
  list: portalProcedure.query(async ({ ctx }) => {
    const { ledger, scope } = ctx;
    const [plans, sub, customer] = await Promise.all([ledger.plans.list(scope, { limit: 100 }), liveSubscription(ledger, ctx.portal), ledger.customers.get(scope, ctx.portal.customerId)]);
    // Multi-currency: prices in the subscription's currency, else the customer's; plans not offered in it are not listed.
    const currency = sub?.currency ?? customer.currency;
    const [current, pending] = await Promise.all([
      sub ? ledger.plans.get(scope, sub.planId).then((p) => pricesIn(p, currency)) : null,
      sub?.pendingChange ? ledger.plans.get(scope, sub.pendingChange.planId).then((p) => pricesIn(p, currency)) : null,
    ]);
    // Cheapest first, as a pricing table reads (then by name, for plans of one price).
    const active = plansIn(plans.items, currency).filter((p) => p.status === 'active').sort((a, b) => a.basePrice - b.basePrice || a.name.localeCompare(b.name));
    return {
      plans: active.map((p) => planCard(p, sub, current)),
      subscription: sub && current ? subscriptionCard(sub, current, pending) : null,
      /** The current plan's features, for "what you lose" in the cancel dialog. */
      losses: current ? losses(current) : [],
      canManageBilling: canManageBilling(ctx.portal.role),
    };
  }),

  /**
   * What a change to `planKey` (and `quantity` seats) would do, nothing stored: when it
   * takes effect (upgrades now, downgrades at the period end), the invoice charged now (the
   * proration: credit for the unused old fees, the new fees for the rest of the period),
   * and the next regular invoice. During a trial nothing is charged now.
   */
  previewChange: portalProcedure.input(z.object({ planKey: planKey.optional(), quantity: seats.optional() }).strict()).query(async ({ ctx, input }) => {
    const { ledger, scope } = ctx;
    const sub = await requireLive(ledger, ctx.portal);
    const current = pricesIn(await ledger.plans.get(scope, sub.planId), sub.currency);
    const next = input.planKey ? pricesIn(await planForSale(ledger, scope, input.planKey), sub.currency) : current;
    const quantity = input.quantity ?? sub.quantity;
    // A seat change alone is made at once (changeSeats), so its preview is "now" too.
    const seatsOnly = next.id === current.id;
    const p = await ledger.subscriptions.previewChange(scope, sub.id, { planId: next.id, quantity, ...(seatsOnly ? { downgradeAt: 'now' as const } : {}) });
    const trial = sub.status === 'trialing';
    const sameInterval = next.interval.unit === current.interval.unit && next.interval.count === current.interval.count;
    // A change of interval made now starts a new period now; otherwise the next invoice comes at the period end.
    const nextFrom = p.effective === 'now' && !trial && !sameInterval ? periodFrom(ledger.now(scope, sub.customerId), next.interval, sub.billingCycle, sub.timeZone).period.end : sub.currentPeriodEnd;
    const following = await nextInvoiceOf(ledger, scope, sub, next, quantity, nextFrom);
    return {
      plan: { key: next.key, name: next.name },
      quantity,
      upgrade: p.upgrade,
      effective: trial ? ('now' as const) : p.effective,
      effectiveAt: p.effective === 'now' || trial ? ledger.now(scope, sub.customerId) : sub.currentPeriodEnd,
      trial,
      chargeNow: p.invoice ? invoicePreview(p.invoice) : null,
      nextInvoice: following.invoice ? { at: following.at, ...following.invoice } : null,
    };
  }),

  /** Subscribes the customer to `planKey` (its trial as the plan says), with an optional coupon code. */
  subscribe: portalBillingProcedure
    .input(z.object({ planKey, couponCode: requiredText(100).optional() }).strict())
    .mutation(async ({ ctx, input }) => {
      const { ledger, scope } = ctx;
      if (await liveSubscription(ledger, ctx.portal)) throw conflict('you already have a subscription: change its plan instead');
      const plan = await planForSale(ledger, scope, input.planKey);
      const sub = await ledger.subscriptions.create(scope, {
        customerId: ctx.portal.customerId,
        planId: plan.id,
        ...(input.couponCode ? { couponCode: input.couponCode.trim() } : {}),
        metadata: { source: 'portal' },
      });
      return { id: sub.id, status: sub.status, trialEnd: sub.trialEnd };
    }),

  /** Upgrades now (prorated); downgrades at the period end. */
  changePlan: portalBillingProcedure.input(z.object({ planKey, quantity: seats.optional() }).strict()).mutation(async ({ ctx, input }) => {
    const { ledger, scope } = ctx;
    const sub = await requireLive(ledger, ctx.portal);
    const next = await planForSale(ledger, scope, input.planKey);
    const changed = await ledger.subscriptions.changePlan(scope, sub.id, { planId: next.id, ...(input.quantity ? { quantity: input.quantity } : {}) });
    return { planId: changed.planId, quantity: changed.quantity, pendingChange: changed.pendingChange };
  }),

  /** Seats now, the seat fees prorated for the rest of the period. */
  changeSeats: portalBillingProcedure.input(z.object({ quantity: seats }).strict()).mutation(async ({ ctx, input }) => {
    const sub = await requireLive(ctx.ledger, ctx.portal);
    const changed = await ctx.ledger.subscriptions.changeSeats(ctx.scope, sub.id, { quantity: input.quantity });
    return { quantity: changed.quantity };
  }),

  /**
   * What cancelling now would credit: the unused part of the period's in-advance fees
   * (before tax), kept as balance for later invoices. Nothing during a trial.
   */
  previewCancel: portalProcedure.query(async ({ ctx }) => {
    const { ledger, scope } = ctx;
    const sub = await requireLive(ledger, ctx.portal);
    const plan = pricesIn(await ledger.plans.get(scope, sub.planId), sub.currency);
    // The engine's own computation of the cancellation's credits (calendar periods, coupon).
    const { credit } = await ledger.subscriptions.previewCancel(scope, sub.id);
    return { credit, currency: plan.currency, periodEnd: sub.currentPeriodEnd, trial: sub.status === 'trialing', losses: losses(plan) };
  }),

  /**
   * Cancels now (the unused fees credited as balance) or at the period end, with the
   * reason and an optional comment, kept on the subscription (its metadata's
   * `cancellation_feedback` and `cancellation_comment`, as Stripe's cancellation_details).
   */
  cancel: portalBillingProcedure
    .input(z.object({ at: z.enum(['now', 'period_end']), reason: z.enum(CANCEL_REASONS), comment: z.string().max(500).default('') }).strict())
    .mutation(async ({ ctx, input }) => {
      const { ledger, scope } = ctx;
      const sub = await requireLive(ledger, ctx.portal);
      const comment = input.comment.trim();
      const done = await ledger.subscriptions.cancel(scope, sub.id, { at: input.at, prorate: input.at === 'now', feedback: input.reason, ...(comment ? { comment } : {}) });
      return { status: done.status, cancelAtPeriodEnd: done.cancelAtPeriodEnd, endedAt: done.endedAt };
    }),

  /** Withdraws a cancellation scheduled for the period end. */
  resume: portalBillingProcedure.mutation(async ({ ctx }) => {
    const sub = await requireLive(ctx.ledger, ctx.portal);
    const done = await ctx.ledger.subscriptions.resume(ctx.scope, sub.id);
    return { cancelAtPeriodEnd: done.cancelAtPeriodEnd };
  }),

  /** Redeems a coupon code on the subscription (replacing its coupon, if any). */
  applyCoupon: portalBillingProcedure.input(z.object({ code: requiredText(100) }).strict()).mutation(async ({ ctx, input }) => {
    const sub = await requireLive(ctx.ledger, ctx.portal);
    const done = await ctx.ledger.subscriptions.applyCoupon(ctx.scope, sub.id, input.code.trim());
    return { coupon: done.discount?.code ?? null };
  }),
});
