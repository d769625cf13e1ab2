import { updateSubscription } from '../subscription/write';
import { couponApplies } from '../coupon/apply';
import type { EngineContext } from '../context';
import type { InvoiceService } from '../invoice/service';
import type { Invoice, InvoiceBasis } from '../invoice/types';
import type { Plan } from '../plan/types';
import { nthPeriod, periodFor } from '../subscription/period';
import type { Subscription } from '../subscription/types';
import { illegalState, invalid, isLedgerError, notFound, parseId, type PlanId, type Scope } from '../types';
import { canonicalJson } from '../types';
import { z } from 'zod';
import type { ScopeModes } from '../scope/service';
import { addInterval } from '../subscription/period';
import { periodFrom } from '../subscription/calendar';
import { periodFees } from '../subscription/fees';
import { pricesIn } from '../plan/currency-prices';
import { idSchema, instant, parseInput } from '../types';
import type { OnClock } from './store';
import type { TestClock, TestClocks } from './test-clocks';

/** What a run of the billing cycle did. */
export interface CycleReport {
  /** Subscription periods moved through (renewals, trial ends, cancellations). */
  periods: number;
  invoicesCreated: number;
  invoicesFinalized: number;
}

/** How many subscriptions (and drafts) a run takes per query. */
const PAGE = 100;

const emptyReport = (): CycleReport => ({ periods: 0, invoicesCreated: 0, invoicesFinalized: 0 });

/**
 * The bound of one test clock advance: at most this many years ahead, and at most this
 * many period ends of the clock's subscriptions passed (Stripe allows two intervals of
 * the clock's shortest subscription per advance). Larger rehearsals take several calls.
 */
export const MAX_ADVANCE_YEARS = 2;
/** Period ends one advance may pass, per subscription of the clock's customers… */
export const MAX_PERIODS_PER_ADVANCE = 50;
/**
 * …and across them all. A clock holds at most MAX_CUSTOMERS_PER_CLOCK (100) customers with
 * one live subscription each, so every clock can always be advanced past the next period
 * end of all of them at once: a per-clock total alone (the first rule) made a clock of 51
 * monthly customers impossible to advance past their renewal day.
 */
export const MAX_TOTAL_PERIODS_PER_ADVANCE = 200;

export const advanceTestClockSchema = z.object({
  /** The clock (`clk_…`). */
  id: idSchema('testClock'),
  /** Where the clock moves to: not before its time, at most MAX_ADVANCE_YEARS ahead. */
  to: instant,
});
export type AdvanceTestClockInput = z.input<typeof advanceTestClockSchema>;

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
    private readonly modes: ScopeModes,
  ) {}

  /**
   * The cycle of the scope's customers that are on no test clock, at the real time (or
   * an earlier `at`). Customers on a test clock move only when their clock is advanced.
   */
  async run(scope: Scope, at?: Date): Promise<CycleReport> {
    const real = this.ctx.now(scope);
    const now = at ?? real;
    if (now > real) {
      throw invalid(`cannot run the billing cycle at ${now.toISOString()}, after the current time ${real.toISOString()}; advance a test clock to rehearse the future`, [
        { path: 'at', message: 'at most the current time' },
      ]);
    }
    // A live scope has no clocks: no need to look at its customers' clocks.
    const on: OnClock | undefined = (await this.modes.mode(scope)) === 'test' ? { testClockId: null } : undefined;
    return this.#run(scope, now, on);
  }

  /**
   * The cycle of a test clock's customers at the clock's time, without moving it: what
   * an advance left undone (it failed midway, or a change's invoice could not be made).
   */
  async runClock(scope: Scope, testClockId: string): Promise<CycleReport> {
    const clock = await this.clocks.get(scope, testClockId);
    return this.#run(scope, clock.now, { testClockId: clock.id });
  }

  async #run(scope: Scope, now: Date, on: OnClock | undefined, report: CycleReport = emptyReport(), outboxes = true): Promise<CycleReport> {
    // Invoices owed by changes already made (a change whose own drain failed), canceled
    // subscriptions' final invoices included. (An advance looks once, at its first step:
    // the cycle itself owes none.)
    for (let round = 0; outboxes && round < 100; round++) {
      const owing = await this.ctx.store.subscriptions.listWithOutbox(scope, PAGE, on);
      if (owing.length === 0) break;
      for (const sub of owing) await this.drainOutbox(scope, sub, report);
      if (owing.length < PAGE) break;
    }
    for (;;) {
      const due = await this.ctx.store.subscriptions.listDue(scope, now, PAGE, on);
      if (due.length === 0) break;
      let moved = 0;
      for (const sub of due) moved += await this.settle(scope, sub, now, report);
      // Each one was moved through `now` (by this run or a concurrent one), or is waiting
      // for its outbox: a full page may have more behind it.
      if (moved === 0 || due.length < PAGE) break;
    }
    for (;;) {
      const drafts = await this.ctx.store.invoices.listDraftsDue(scope, now, PAGE, on);
      if (drafts.length === 0) break;
      for (const draft of drafts) if (await this.finalizeDue(scope, draft)) report.invoicesFinalized++;
      if (drafts.length < PAGE) break;
    }
    // Dunning, on the customers' clock: automatic charges whose retry is due, sent
    // invoices whose due date came.
    const collected = await this.invoices.collectDue(scope, now, on);
    if (collected.retried + collected.pastDue > 0) {
      this.ctx.logger.info('dunning', { ...scope, testClockId: on?.testClockId ?? null, at: now.toISOString(), ...collected });
    }
    return report;
  }

  /**
   * Moves a test clock to `to`, running the cycle of its customers at every instant on
   * the way where something is due (a period end, a draft's finalization), in order, so
   * a year of monthly billing is twelve renewals, each at its own time. Bounded: at most
   * `MAX_ADVANCE_YEARS` ahead and `MAX_PERIODS_PER_ADVANCE` period ends of the clock's
   * subscriptions per call; beyond, `invalid`, and nothing moves.
   *
   * Concurrent advances of one clock are safe: the clock only moves forward, every step
   * is the idempotent cycle, and each report counts only what its own call did.
   */
  async advanceClock(scope: Scope, input: AdvanceTestClockInput): Promise<{ clock: TestClock; now: Date; report: CycleReport }> {
    const { id, to } = parseInput(advanceTestClockSchema, input, 'test clock advance');
    const start = await this.clocks.get(scope, id);
    const on: OnClock = { testClockId: start.id };
    if (to < start.now) {
      throw invalid(`a test clock only moves forward: it is at ${start.now.toISOString()}, asked for ${to.toISOString()}`, [
        { path: 'to', message: `at or after ${start.now.toISOString()}` },
      ]);
    }
    const furthest = addInterval(start.now, { unit: 'year', count: MAX_ADVANCE_YEARS }, 1);
    if (to > furthest) {
      throw invalid(
        `one advance moves a test clock at most ${MAX_ADVANCE_YEARS} years ahead: from ${start.now.toISOString()} to ${furthest.toISOString()} at most; advance in several steps`,
        [{ path: 'to', message: `at most ${furthest.toISOString()}` }],
      );
    }
    const periods = await this.periodEndsBy(scope, on, to);
    if (periods.most > MAX_PERIODS_PER_ADVANCE) {
      throw invalid(
        `one advance passes at most ${MAX_PERIODS_PER_ADVANCE} period ends of each subscription of the clock's customers; up to ${to.toISOString()} one has more: advance in several steps`,
        [{ path: 'to', message: `at most ${MAX_PERIODS_PER_ADVANCE} period ends away` }],
      );
    }
    if (periods.total > MAX_TOTAL_PERIODS_PER_ADVANCE) {
      throw invalid(
        `one advance passes at most ${MAX_TOTAL_PERIODS_PER_ADVANCE} period ends of the clock's subscriptions in all; up to ${to.toISOString()} there are more: advance in several steps`,
        [{ path: 'to', message: `at most ${MAX_TOTAL_PERIODS_PER_ADVANCE} period ends in all` }],
      );
    }
    const total = emptyReport();
    // Each period end is a step, and so is each instant a draft is due for finalization
    // (those of the period ends on the way, and drafts made before the advance: a
    // cancellation's, a change's), each retry of a failed charge and each due date of a
    // sent invoice: dunning is rehearsed at its own times. Each step settles everything due at its instant, so the
    // steps' instants increase; work still due at a step's instant after a few tries (a
    // concurrent write may win a race once) did not settle.
    let last = -Infinity;
    let stalled = 0;
    for (let steps = 0; ; steps++) {
      const [sub] = await this.ctx.store.subscriptions.listDue(scope, to, 1, on);
      const [draft] = await this.ctx.store.invoices.listDraftsDue(scope, to, 1, on);
      const collection = await this.invoices.nextCollectionDue(scope, to, on);
      const times = [sub?.currentPeriodEnd, draft?.finalizeAt, collection].filter((d): d is Date => !!d).map((d) => d.getTime());
      if (times.length === 0) break;
      const next = new Date(Math.min(...times));
      if (next.getTime() > last) (last = next.getTime()), (stalled = 0);
      else if (++stalled > 3) {
        throw illegalState(`test clock ${start.id}: billing did not settle by ${next.toISOString()}; the clock stays there`);
      }
      await this.clocks.move(scope, start.id, next);
      await this.#run(scope, next, on, total, steps === 0);
    }
    const clock = await this.clocks.move(scope, start.id, to);
    await this.#run(scope, to, on, total);
    return { clock, now: clock.now, report: total };
  }

  /**
   * How many period ends the subscriptions of the clock's customers pass up to `to`
   * (stopping once past the bound), counted from each one's plan (and a downgrade
   * scheduled for its period end): what an advance to `to` would bill.
   */
  private async periodEndsBy(scope: Scope, on: OnClock, to: Date): Promise<{ most: number; total: number }> {
    let total = 0;
    let most = 0;
    for (const sub of await this.ctx.store.subscriptions.listDue(scope, to, MAX_TOTAL_PERIODS_PER_ADVANCE + 1, on)) {
      let interval = (await this.plan(scope, sub.planId)).interval;
      let anchor = sub.status === 'trialing' ? sub.currentPeriodEnd : sub.billingAnchor;
      const next = sub.status !== 'trialing' && sub.pendingChange ? (await this.plan(scope, sub.pendingChange.planId)).interval : interval;
      if (next.unit !== interval.unit || next.count !== interval.count) {
        interval = next;
        anchor = sub.currentPeriodEnd;
      }
      let ends = 0;
      const after = (end: Date) =>
        sub.billingCycle === 'calendar' ? periodFrom(end, interval, 'calendar', sub.timeZone).period.end : periodFor(anchor, interval, end).end;
      for (let end = sub.currentPeriodEnd; end <= to; end = after(end)) {
        ends++;
        if (ends > MAX_PERIODS_PER_ADVANCE || total + ends > MAX_TOTAL_PERIODS_PER_ADVANCE) break; // past a bound: enough counted
        if (sub.cancelAtPeriodEnd) break;
      }
      most = Math.max(most, ends);
      total += ends;
      if (most > MAX_PERIODS_PER_ADVANCE || total > MAX_TOTAL_PERIODS_PER_ADVANCE) break;
    }
    return { most, total };
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
    const usage = { planId: plan.id, overrides: sub.priceOverrides, start: sub.unbilledFrom, end: usageTo, trial: sub.status === 'trialing', quantity: sub.quantity, timeZone: sub.timeZone };
    if (sub.cancelAtPeriodEnd) {
      // The last period: its usage, nothing in advance (a trial's usage is free).
      return {
        reason: 'subscription_cancel' as const,
        key: `period:${boundary.toISOString()}`,
        basis: { advance: null, usage, prorations: sub.pendingProrations, couponId } satisfies InvoiceBasis,
        after: { status: 'canceled', endedAt: boundary, cancelAtPeriodEnd: false, unbilledFrom: boundary, pendingProrations: [] } satisfies Partial<Subscription>,
        plan,
        nextPlan: plan,
        used,
      };
    }
    const change = sub.status !== 'trialing' ? sub.pendingChange : null;
    const nextPlan = change ? await this.plan(scope, change.planId) : plan;
    const quantity = change?.quantity ?? sub.quantity;
    // The next period: from the anchor, unless the trial ends or the interval changes
    // (then anchored at this boundary).
    const sameInterval = nextPlan.interval.unit === plan.interval.unit && nextPlan.interval.count === plan.interval.count;
    const anchor = sub.status === 'trialing' || !sameInterval ? boundary : sub.billingAnchor;
    // Calendar billing: to the next calendar boundary (a whole calendar period from a
    // boundary; a trial's end starts a short one, its fees prorated: periodFees).
    const entered =
      sub.billingCycle === 'calendar'
        ? periodFrom(boundary, nextPlan.interval, 'calendar', sub.timeZone)
        : { period: anchor === boundary ? nthPeriod(boundary, nextPlan.interval, 0) : periodFor(anchor, nextPlan.interval, boundary), full: null };
    const period = entered.period;
    const fees = entered.full
      ? periodFees(pricesIn(nextPlan, sub.currency ?? nextPlan.currency), quantity, sub.priceOverrides, { period, full: entered.full }, sub.timeZone, (await this.ctx.store.scopes.settings(scope))?.roundingMode)
      : { advance: { planId: nextPlan.id, quantity, overrides: sub.priceOverrides, start: period.start, end: period.end }, prorations: [] };
    return {
      reason: 'subscription_cycle' as const,
      key: `period:${boundary.toISOString()}`,
      basis: {
        advance: fees.advance,
        usage,
        // Lines kept from the period's changes (create_prorations) come with it.
        prorations: [...fees.prorations, ...sub.pendingProrations],
        couponId,
      } satisfies InvoiceBasis,
      after: {
        // A trial ends into `active`; a subscription in dunning (past_due, unpaid) renews
        // as it is: only a payment makes it active again.
        status: sub.status === 'trialing' ? 'active' : sub.status,
        planId: nextPlan.id,
        quantity,
        pendingChange: null,
        pendingProrations: [],
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
  async drainOutbox(scope: Scope, start: Subscription, report?: CycleReport): Promise<Subscription> {
    let sub = start;
    for (let attempt = 0; sub.outbox.length > 0 && attempt < 10; attempt++) {
      const made: Invoice[] = [];
      for (const o of sub.outbox) {
        const { invoice, created } = await this.invoices.create(scope, sub, o.reason, o.key, o.issueAt, o.basis);
        if (created && report) report.invoicesCreated++;
        made.push(invoice);
      }
      const now = await this.ctx.customerNow(scope, sub.customerId);
      const drained: Subscription = { ...sub, outbox: [], version: sub.version + 1, updatedAt: now };
      if (await updateSubscription(this.ctx, scope, sub, drained)) {
        let finalized = 0;
        for (const inv of made) {
          if (inv.status === 'draft' && inv.finalizeAt <= now && (await this.finalizeDue(scope, inv))) finalized++;
        }
        if (report) report.invoicesFinalized += finalized;
        // Collecting a finalized invoice may have moved the subscription (past_due).
        return finalized > 0 ? ((await this.ctx.store.subscriptions.get(scope, sub.id)) ?? drained) : drained;
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
    if (start.outbox.length > 0) return { sub: await this.drainOutbox(scope, start, report), moved: false };
    const sub = start;
    const boundary = sub.currentPeriodEnd;
    const next = await this.nextInvoice(scope, sub);
    const billsNothing = !next.basis.advance && next.basis.usage.trial && next.basis.prorations.length === 0;
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
      updatedAt: await this.ctx.customerNow(scope, sub.customerId),
    };
    if (!(await updateSubscription(this.ctx, scope, sub, moved))) return null;
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
    if (period.end > await this.ctx.customerNow(scope, sub.customerId)) throw invalid(`the period ends at ${period.end.toISOString()}: it has not ended yet`);
    const next = await this.nextInvoice(scope, sub);
    if (!next.basis.advance && next.basis.usage.trial && next.basis.prorations.length === 0) throw illegalState(`a trial that ends with the subscription bills nothing`);
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

  /** Finalizes a draft whose grace period passed; true only if this call finalized it. */
  private async finalizeDue(scope: Scope, draft: Invoice): Promise<boolean> {
    try {
      return (await this.invoices.finalizeDraft(scope, draft.id)).finalized;
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

  /** The subscription's coupon, if it discounts its invoice issued at `at` (by default its period end's). */
  async coupon(scope: Scope, sub: Subscription, at: Date = sub.currentPeriodEnd): Promise<{ couponId: InvoiceBasis['couponId']; used: boolean }> {
    if (!sub.discount) return { couponId: null, used: false };
    const coupon = await this.ctx.store.coupons.get(scope, sub.discount.couponId);
    if (!coupon || !couponApplies(coupon, sub.discount, at)) return { couponId: null, used: false };
    return { couponId: sub.discount.couponId, used: true };
  }
}
