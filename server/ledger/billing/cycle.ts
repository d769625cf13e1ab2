import { couponAppliesToPeriod } from '../coupon/apply';
import type { EngineContext } from '../context';
import type { InvoiceService } from '../invoice/service';
import type { Invoice, InvoiceBasis } from '../invoice/types';
import type { Plan } from '../plan/types';
import { nthPeriod, periodFor } from '../subscription/period';
import type { Subscription } from '../subscription/types';
import { illegalState, invalid, isLedgerError, notFound, parseId, type PlanId, type Scope } from '../types';
import { canonicalJson } from '../types';
import type { TestClocks } from './test-clocks';

/** What a run of the billing cycle did. */
export interface CycleReport {
  /** Subscription periods moved through (renewals, trial ends, cancellations). */
  periods: number;
  invoicesCreated: number;
  invoicesFinalized: number;
}

/** How many subscriptions (and drafts) a run takes per query. */
const PAGE = 100;

/**
 * The billing cycle of a scope: `run(scope, now)` finds every live subscription whose
 * period ended by `now` and moves it, period by period, oldest first:
 * - a trial that ended becomes active; its first invoice bills the first paid period's
 *   fees (the trial's usage is free);
 * - a period that ended with a cancellation scheduled ends the subscription; its last
 *   invoice bills the period's usage;
 * - any other period that ended renews: the invoice bills the ended period's usage in
 *   arrears and the next period's fees in advance, with a downgrade scheduled for the
 *   period end applied to the next period.
 * Then drafts whose grace period has passed are finalized.
 *
 * Idempotent and safe to run concurrently: an invoice is one per subscription and key
 * (a unique key), a subscription moves only if it has not moved since it was read (its
 * version), a draft is finalized once (a conditional update); a run that loses a race
 * re-reads and carries on.
 */
export class BillingCycle {
  constructor(
    private readonly ctx: EngineContext,
    private readonly invoices: InvoiceService,
    private readonly clocks: TestClocks,
  ) {}

  async run(scope: Scope, at?: Date): Promise<CycleReport> {
    const now = at ?? this.ctx.now(scope);
    const scopeNow = this.ctx.now(scope);
    if (now > scopeNow) {
      throw invalid(`cannot run the billing cycle at ${now.toISOString()}, after the scope's time ${scopeNow.toISOString()}; advance a test clock to rehearse the future`);
    }
    const report: CycleReport = { periods: 0, invoicesCreated: 0, invoicesFinalized: 0 };
    // Invoices owed by changes already made (a change whose own drain failed), canceled
    // subscriptions' final invoices included.
    for (let round = 0; round < 100; round++) {
      const owing = await this.ctx.store.subscriptions.listWithOutbox(scope, PAGE);
      if (owing.length === 0) break;
      for (const sub of owing) await this.drainOutbox(scope, sub);
      if (owing.length < PAGE) break;
    }
    for (;;) {
      const due = await this.ctx.store.subscriptions.listDue(scope, now, PAGE);
      if (due.length === 0) break;
      let moved = 0;
      for (const sub of due) moved += await this.settle(scope, sub, now, report);
      if (moved === 0) break; // every due subscription was moved by someone else meanwhile
    }
    for (;;) {
      const drafts = await this.ctx.store.invoices.listDraftsDue(scope, now, PAGE);
      if (drafts.length === 0) break;
      for (const draft of drafts) if (await this.finalizeDue(scope, draft)) report.invoicesFinalized++;
      if (drafts.length < PAGE) break;
    }
    return report;
  }

  /**
   * Moves a test clock to `to`, running the cycle at every instant on the way where
   * something is due (a period end, a draft's finalization), in order, so a year of
   * monthly billing is twelve renewals, each at its own time.
   */
  async advanceClock(scope: Scope, to: Date): Promise<{ now: Date; report: CycleReport }> {
    const total: CycleReport = { periods: 0, invoicesCreated: 0, invoicesFinalized: 0 };
    const current = (await this.clocks.get(scope)).now;
    if (to < current) throw invalid(`a test clock only moves forward: it is at ${current.toISOString()}, asked for ${to.toISOString()}`);
    for (let guard = 0; guard < 100_000; guard++) {
      const [sub] = await this.ctx.store.subscriptions.listDue(scope, to, 1);
      const [draft] = await this.ctx.store.invoices.listDraftsDue(scope, to, 1);
      const times = [sub?.currentPeriodEnd, draft?.finalizeAt].filter((d): d is Date => !!d).map((d) => d.getTime());
      const next = times.length ? new Date(Math.max(Math.min(...times), this.ctx.now(scope).getTime())) : null;
      if (!next) break;
      await this.clocks.move(scope, next);
      const r = await this.run(scope, next);
      total.periods += r.periods;
      total.invoicesCreated += r.invoicesCreated;
      total.invoicesFinalized += r.invoicesFinalized;
    }
    await this.clocks.move(scope, to);
    return { now: to, report: total };
  }

  /** Moves one subscription through every period that ended by `now`; returns how many. */
  private async settle(scope: Scope, start: Subscription, now: Date, report: CycleReport): Promise<number> {
    let sub: Subscription | null = start;
    let moved = 0;
    while (sub && sub.status !== 'canceled' && sub.currentPeriodEnd <= now) {
      const next = await this.step(scope, sub, report);
      if (next?.moved) {
        moved++;
        report.periods++;
        sub = next.sub;
      } else if (next) {
        if (next.sub.outbox.length > 0) break; // could not drain (it keeps changing): the next run will
        sub = next.sub; // its outbox drained: due still, or not (the loop decides)
      } else {
        // Moved by a concurrent run: carry on from what it did.
        sub = await this.ctx.store.subscriptions.get(scope, sub.id);
      }
    }
    return moved;
  }

  /**
   * What the period end of `sub` bills and what it moves the subscription to: the
   * basis of its invoice, the invoice's reason and key, the fields that change.
   * `usageTo` ends the usage read early (a preview before the period has ended).
   */
  async nextInvoice(scope: Scope, sub: Subscription, usageTo = sub.currentPeriodEnd) {
    const boundary = sub.currentPeriodEnd;
    const plan = await this.plan(scope, sub.planId);
    const { couponId, used } = await this.coupon(scope, sub);
    const usage = { planId: plan.id, overrides: sub.priceOverrides, start: sub.unbilledFrom, end: usageTo, trial: sub.status === 'trialing' };
    if (sub.cancelAtPeriodEnd) {
      // The last period: its usage, nothing in advance (a trial's usage is free).
      return {
        reason: 'subscription_cancel' as const,
        key: `period:${boundary.toISOString()}`,
        basis: { advance: null, usage, prorations: [], couponId } satisfies InvoiceBasis,
        after: { status: 'canceled', endedAt: boundary, cancelAtPeriodEnd: false, unbilledFrom: boundary } satisfies Partial<Subscription>,
        plan,
        nextPlan: plan,
        used,
      };
    }
    const change = sub.status === 'active' ? sub.pendingChange : null;
    const nextPlan = change ? await this.plan(scope, change.planId) : plan;
    const quantity = change?.quantity ?? sub.quantity;
    // The next period: from the anchor, unless the trial ends or the interval changes
    // (then anchored at this boundary).
    const sameInterval = nextPlan.interval.unit === plan.interval.unit && nextPlan.interval.count === plan.interval.count;
    const anchor = sub.status === 'trialing' || !sameInterval ? boundary : sub.billingAnchor;
    const period = anchor === boundary ? nthPeriod(boundary, nextPlan.interval, 0) : periodFor(anchor, nextPlan.interval, boundary);
    return {
      reason: 'subscription_cycle' as const,
      key: `period:${boundary.toISOString()}`,
      basis: {
        advance: { planId: nextPlan.id, quantity, overrides: sub.priceOverrides, start: period.start, end: period.end },
        usage,
        prorations: [],
        couponId,
      } satisfies InvoiceBasis,
      after: {
        status: 'active',
        planId: nextPlan.id,
        quantity,
        pendingChange: null,
        billingAnchor: anchor,
        currentPeriodStart: period.start,
        currentPeriodEnd: period.end,
        // Never back: a change in the period may have billed usage up to a later instant.
        unbilledFrom: sub.unbilledFrom > boundary ? sub.unbilledFrom : boundary,
      } satisfies Partial<Subscription>,
      plan,
      nextPlan,
      used,
    };
  }

  /**
   * Makes the invoices a subscription's outbox owes (changes already made: each invoice
   * once, by its key), then empties the outbox if the subscription has not moved
   * meanwhile (else re-reads and tries again). Invoices with nothing to wait for are
   * finalized. Returns the subscription as it is now.
   */
  async drainOutbox(scope: Scope, start: Subscription): Promise<Subscription> {
    let sub = start;
    for (let attempt = 0; sub.outbox.length > 0 && attempt < 10; attempt++) {
      const made: Invoice[] = [];
      for (const o of sub.outbox) made.push((await this.invoices.create(scope, sub, o.reason, o.key, o.issueAt, o.basis)).invoice);
      const drained: Subscription = { ...sub, outbox: [], version: sub.version + 1, updatedAt: this.ctx.now(scope) };
      if (await this.ctx.store.subscriptions.update(scope, drained, sub.version)) {
        this.ctx.changes.subscriptionWritten(scope, drained);
        for (const inv of made) if (inv.status === 'draft' && inv.finalizeAt <= this.ctx.now(scope)) await this.finalizeDue(scope, inv);
        return drained;
      }
      const again = await this.ctx.store.subscriptions.get(scope, sub.id);
      if (!again) throw notFound('subscription', sub.id);
      sub = again;
    }
    return sub;
  }

  /** One period end: the invoice, then the subscription's move. Null if it lost a race. */
  private async step(scope: Scope, start: Subscription, report: CycleReport): Promise<{ sub: Subscription; moved: boolean } | null> {
    // Invoices owed by changes made in the period come first.
    if (start.outbox.length > 0) return { sub: await this.drainOutbox(scope, start), moved: false };
    const sub = start;
    const boundary = sub.currentPeriodEnd;
    const next = await this.nextInvoice(scope, sub);
    const billsNothing = !next.basis.advance && next.basis.usage.trial;
    if (!billsNothing) {
      const { invoice, created } = await this.invoices.create(scope, sub, next.reason, next.key, boundary, next.basis);
      if (created) report.invoicesCreated++;
      // Made earlier (generateInvoice, or a run that lost its move) for a subscription that
      // has changed since (a cancellation scheduled, a coupon applied): still a draft, it
      // is made to match what the period end bills now.
      else if (invoice.status === 'draft' && canonicalJson(invoice.basis) !== canonicalJson(next.basis)) {
        await this.invoices.rebase(scope, invoice.id, next.reason, next.basis);
      }
    }
    const moved: Subscription = {
      ...sub,
      ...next.after,
      discount: sub.discount && next.used ? { ...sub.discount, periodsApplied: sub.discount.periodsApplied + 1 } : sub.discount,
      version: sub.version + 1,
      updatedAt: this.ctx.now(scope),
    };
    if (!(await this.ctx.store.subscriptions.update(scope, moved, sub.version))) return null;
    this.ctx.changes.subscriptionWritten(scope, moved);
    if (next.reason === 'subscription_cancel') await this.ctx.plugins.emit('onSubscriptionExpired', scope, moved);
    else if (sub.status === 'trialing') await this.ctx.plugins.emit('onSubscriptionTrialEnded', scope, moved);
    else await this.ctx.plugins.emit('onSubscriptionRenewed', scope, moved, { start: sub.currentPeriodStart, end: boundary });
    if (next.nextPlan.id !== next.plan.id) await this.ctx.plugins.emit('onSubscriptionChanged', scope, moved, next.plan, next.nextPlan);
    return { sub: moved, moved: true };
  }

  /**
   * The invoice of a subscription for its period that ended, `period` (its current
   * period: the cycle has not moved it yet), as a draft; made once, like the cycle's
   * (the cycle then finds it and moves the subscription on).
   */
  async generateInvoice(scope: Scope, subscriptionId: string, period: { start: Date; end: Date }): Promise<Invoice> {
    const id = parseId('subscription', subscriptionId);
    const sub = await this.ctx.store.subscriptions.get(scope, id);
    if (!sub) throw notFound('subscription', id);
    if (sub.status === 'canceled') throw illegalState(`subscription ${sub.id} has ended`);
    if (sub.currentPeriodStart.getTime() !== period.start.getTime() || sub.currentPeriodEnd.getTime() !== period.end.getTime()) {
      throw invalid(
        `subscription ${sub.id} is in the period ${sub.currentPeriodStart.toISOString()} – ${sub.currentPeriodEnd.toISOString()}, not the one asked for`,
        [{ path: 'period', message: 'the subscription\'s current period' }],
      );
    }
    if (period.end > this.ctx.now(scope)) throw invalid(`the period ends at ${period.end.toISOString()}: it has not ended yet`);
    const next = await this.nextInvoice(scope, sub);
    if (!next.basis.advance && next.basis.usage.trial) throw illegalState(`a trial that ends with the subscription bills nothing`);
    return (await this.invoices.create(scope, sub, next.reason, next.key, period.end, next.basis)).invoice;
  }

  /** Moves one subscription through its period ends up to `now` (ending a trial early, say). */
  async settleOne(scope: Scope, sub: Subscription, now: Date): Promise<CycleReport> {
    const report: CycleReport = { periods: 0, invoicesCreated: 0, invoicesFinalized: 0 };
    await this.settle(scope, sub, now, report);
    for (const draft of await this.ctx.store.invoices.listDraftsDue(scope, now, PAGE)) {
      if (draft.subscriptionId === sub.id && (await this.finalizeDue(scope, draft))) report.invoicesFinalized++;
    }
    return report;
  }

  /** Finalizes a draft whose grace period passed. */
  private async finalizeDue(scope: Scope, draft: Invoice): Promise<boolean> {
    try {
      return (await this.invoices.finalize(scope, draft.id)).status !== 'draft';
    } catch (e) {
      // Finalized by a concurrent run between the listing and now: nothing left to do.
      if (isLedgerError(e) && e.code === 'illegal_state') return false;
      throw e;
    }
  }

  private async plan(scope: Scope, id: PlanId): Promise<Plan> {
    const plan = await this.ctx.store.plans.get(scope, id);
    if (!plan) throw notFound('plan', id);
    return plan;
  }

  /** The subscription's coupon, if it discounts the next invoice. */
  async coupon(scope: Scope, sub: Subscription): Promise<{ couponId: InvoiceBasis['couponId']; used: boolean }> {
    if (!sub.discount) return { couponId: null, used: false };
    const coupon = await this.ctx.store.coupons.get(scope, sub.discount.couponId);
    if (!coupon || !couponAppliesToPeriod(coupon, sub.discount.periodsApplied)) return { couponId: null, used: false };
    return { couponId: sub.discount.couponId, used: true };
  }
}
