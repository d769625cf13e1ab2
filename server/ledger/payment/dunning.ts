import type { OnClock } from '../billing/store';
import type { EngineContext } from '../context';
import type { Customer } from '../customer/types';
import type { CollectionReport, CollectionTerms, InvoiceCollector } from '../invoice/collector';
import type { InvoiceService } from '../invoice/service';
import type { CollectionPatch } from '../invoice/store';
import type { Invoice } from '../invoice/types';
import type { Plugin } from '../plugin/hooks';
import { moveSubscriptionStatus } from '../subscription/status';
import { isLedgerError, type Scope } from '../types';
import type { PaymentService } from './service';
import type { PaymentSettings } from './types';

const DAY_MS = 86_400_000;
/** How many invoices one pass of the cycle takes per query. */
const PAGE = 100;
/**
 * A charge whose outcome is not known yet (the provider did not answer) is asked about
 * again after this long, with the same idempotency key (well inside the 24 hours Stripe
 * keeps a key; past them the payments service looks the charge up instead); it counts as
 * no failure. It is also the lease a retry takes before charging, so a run that dies
 * mid-charge leaves the retry to a later run, not lost.
 */
const ASK_AGAIN_MS = 60 * 60 * 1000;

/**
 * Collection at finalization and dunning, as Stripe's:
 *
 * - At finalization an invoice is collected `charge_automatically` (the customer's
 *   default payment method is charged at once) or `send_invoice` (due N days later). The
 *   customer's own `collectionMethod` decides; when it has none, the scope's setting
 *   `send_invoice` sends every invoice, else the invoice is charged when the customer has
 *   a default payment method and sent when it has none. Nothing due: paid at once.
 * - A failed automatic charge (at finalization or a retry) counts one failure
 *   (`attemptCount`), makes the invoice past due at its first failure (`pastDueAt`,
 *   onInvoicePastDue once) and the subscription `past_due` (from active or trialing),
 *   and plans the next retry at first failure + retrySchedule[failures − 1] days (default
 *   3, 5 and 7 days after the first failure). When the last planned retry has failed, the
 *   scope's final policy applies: `unpaid` (the subscription `unpaid`, its entitlements
 *   refused; the invoice stays open) or `canceled` (the subscription ends now, with no
 *   further invoice; the invoice `uncollectible`).
 * - A sent invoice unpaid when its due date passes is past due once (pastDueAt,
 *   onInvoicePastDue) and its subscription `past_due`; it is never charged automatically.
 * - A manual collection (`collectPayment`, the hosted page) is recorded as any payment
 *   but moves no schedule. Any payment that succeeds, however it arrives (a retry, a
 *   manual payment, a webhook), makes the invoice paid and stops its retries; the
 *   subscription is `active` again once no other invoice of it is past due and open.
 *
 * The billing cycle drives it on each customer's clock, so a test clock advanced 30 days
 * runs every retry at its own instant.
 */
export class Dunning implements InvoiceCollector {
  constructor(
    private readonly ctx: EngineContext,
    private readonly invoices: InvoiceService,
    private readonly payments: PaymentService,
  ) {}

  /** The engine's reactions to invoices settled however they were (registered ahead of user plugins). */
  plugin(): Plugin {
    return {
      name: 'ledger:dunning',
      onInvoicePaid: (scope, inv) => this.settled(scope, inv),
      onInvoiceVoided: (scope, inv) => this.settled(scope, inv),
    };
  }

  // --- at finalization -----------------------------------------------------------------

  async terms(scope: Scope, customer: Customer): Promise<CollectionTerms> {
    const settings = await this.payments.settings(scope);
    const method =
      customer.collectionMethod ??
      (settings.collectionMethod === 'send_invoice'
        ? 'send_invoice'
        : (await this.ctx.store.payments.defaultMethod(scope, customer.id))
          ? 'charge_automatically'
          : 'send_invoice');
    return { method, daysUntilDue: customer.daysUntilDue ?? settings.daysUntilDue };
  }

  async finalized(scope: Scope, inv: Invoice): Promise<void> {
    if (inv.status !== 'open' || inv.collectionMethod !== 'charge_automatically' || inv.amountDue <= 0) return;
    await this.charge(scope, inv);
  }

  // --- the billing cycle ---------------------------------------------------------------

  async due(scope: Scope, now: Date, on: OnClock | undefined): Promise<CollectionReport> {
    const report: CollectionReport = { retried: 0, pastDue: 0 };
    for (;;) {
      const page = await this.invoices.listPastDue(scope, now, PAGE, on);
      let marked = 0;
      for (const inv of page) if (await this.markPastDue(scope, inv, now)) marked++;
      report.pastDue += marked;
      if (page.length < PAGE || marked === 0) break;
    }
    for (;;) {
      const page = await this.invoices.listRetriesDue(scope, now, PAGE, on);
      let claimed = 0;
      for (const inv of page) if (await this.retry(scope, inv, now)) claimed++;
      report.retried += claimed;
      if (page.length < PAGE || claimed === 0) break;
    }
    return report;
  }

  async nextDue(scope: Scope, to: Date, on: OnClock | undefined): Promise<Date | null> {
    const [retry] = await this.invoices.listRetriesDue(scope, to, 1, on);
    const [pastDue] = await this.invoices.listPastDue(scope, to, 1, on);
    const times = [retry?.nextPaymentAttemptAt, pastDue?.dueAt].filter((d): d is Date => !!d).map((d) => d.getTime());
    return times.length ? new Date(Math.min(...times)) : null;
  }

  /** A sent invoice whose due date came: past due, once (of two runs, one marks it). */
  private async markPastDue(scope: Scope, inv: Invoice, now: Date): Promise<boolean> {
    const marked = await this.invoices.updateCollection(scope, inv.id, { status: ['open'], pastDueAt: null }, { pastDueAt: now, updatedAt: now }, inv);
    if (!marked) return false;
    await this.pastDue(scope, marked);
    await this.settledMeanwhile(scope, marked);
    return true;
  }

  /** A retry whose time came: taken (a lease, so a concurrent run does not charge it too), then charged. */
  private async retry(scope: Scope, inv: Invoice, now: Date): Promise<boolean> {
    const claimed = await this.invoices.updateCollection(
      scope,
      inv.id,
      { status: ['open'], attemptCount: inv.attemptCount, nextPaymentAttemptAt: inv.nextPaymentAttemptAt },
      { nextPaymentAttemptAt: new Date(now.getTime() + ASK_AGAIN_MS), updatedAt: now },
    );
    if (!claimed) return false;
    await this.charge(scope, claimed);
    return true;
  }

  // --- charging ------------------------------------------------------------------------

  /**
   * Charges an automatic invoice through the payments service and records what came of
   * it for dunning. Never throws: the caller (a finalization, the cycle) carries on.
   */
  private async charge(scope: Scope, inv: Invoice): Promise<void> {
    try {
      let outcome: 'paid' | 'failed' | 'unsettled';
      try {
        const r = await this.payments.collect(scope, inv.id);
        // A charge waiting for the customer (3-D Secure) is a failed attempt, as Stripe counts
        // it: the schedule goes on (the customer may still confirm it) and the final policy
        // applies in the end, so a card that always asks never means access for ever.
        const status = r.payment?.status;
        outcome = r.invoice.status === 'paid' ? 'paid' : status === 'failed' || status === 'requires_action' ? 'failed' : 'unsettled';
      } catch (e) {
        // No charge could be made (no default payment method, the provider not usable in
        // this scope): a failure, as Stripe counts it. A concurrent collection of the
        // same attempt (a conflict) or anything unexpected: asked again later.
        outcome = isLedgerError(e) && e.code === 'illegal_state' ? 'failed' : 'unsettled';
        this.ctx.logger.warn('an automatic charge could not be made', { invoiceId: inv.id, error: e instanceof Error ? e.message : String(e) });
      }
      // Paid: the payment service marked it (onInvoicePaid: `settled` below).
      if (outcome === 'failed') await this.failed(scope, inv);
      else if (outcome === 'unsettled') await this.askAgain(scope, inv);
    } catch (e) {
      this.ctx.logger.error('dunning could not record a charge; the next billing run looks again', {
        invoiceId: inv.id,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }

  /** The outcome is unknown (pending: the provider did not answer): asked about again later, no failure counted. */
  private async askAgain(scope: Scope, inv: Invoice): Promise<void> {
    const current = await this.invoices.get(scope, inv.id);
    if (current.status !== 'open') return;
    const now = await this.ctx.customerNow(scope, inv.customerId);
    const at = new Date(now.getTime() + ASK_AGAIN_MS);
    if (current.nextPaymentAttemptAt && current.nextPaymentAttemptAt >= at) return;
    await this.invoices.updateCollection(
      scope,
      inv.id,
      { status: ['open'], attemptCount: current.attemptCount, nextPaymentAttemptAt: current.nextPaymentAttemptAt },
      { nextPaymentAttemptAt: at, updatedAt: now },
    );
  }

  /** One more failed automatic charge: the next retry planned, or the final policy applied. */
  private async failed(scope: Scope, inv: Invoice): Promise<void> {
    const settings = await this.payments.settings(scope);
    for (let tries = 0; tries < 5; tries++) {
      const current = await this.invoices.get(scope, inv.id);
      if (current.status !== 'open') return; // paid (a webhook), voided meanwhile
      const now = await this.ctx.customerNow(scope, inv.customerId);
      const failures = current.attemptCount + 1;
      const first = current.pastDueAt ?? now;
      const days = settings.retrySchedule[failures - 1];
      const final = days === undefined;
      const patch: CollectionPatch = {
        attemptCount: failures,
        pastDueAt: first,
        nextPaymentAttemptAt: final ? null : new Date(first.getTime() + days * DAY_MS),
        updatedAt: now,
      };
      if (final && settings.finalPolicy === 'canceled') Object.assign(patch, { status: 'uncollectible', markedUncollectibleAt: now });
      const done = await this.invoices.updateCollection(scope, inv.id, { status: ['open'], attemptCount: current.attemptCount }, patch, current);
      if (!done) continue; // another writer counted or settled it first: read again
      if (final) await this.applyFinalPolicy(scope, done, settings);
      if (!current.pastDueAt) await this.pastDue(scope, done);
      await this.settledMeanwhile(scope, done);
      return;
    }
  }

  /** The invoice became past due: its subscription `past_due` (from active or trialing), then onInvoicePastDue. */
  private async pastDue(scope: Scope, inv: Invoice): Promise<void> {
    await moveSubscriptionStatus(this.ctx, scope, inv.subscriptionId, ['active', 'trialing'], () => ({ status: 'past_due' }));
    await this.ctx.plugins.emit('onInvoicePastDue', scope, inv);
  }

  private async applyFinalPolicy(scope: Scope, inv: Invoice, settings: PaymentSettings): Promise<void> {
    if (settings.finalPolicy === 'unpaid') {
      await moveSubscriptionStatus(this.ctx, scope, inv.subscriptionId, ['active', 'trialing', 'past_due'], () => ({ status: 'unpaid' }));
      return;
    }
    // Canceled now: no further invoice (the unpaid one is uncollectible already).
    const ended = await moveSubscriptionStatus(this.ctx, scope, inv.subscriptionId, ['active', 'trialing', 'past_due', 'unpaid'], (_sub, now) => ({
      status: 'canceled',
      canceledAt: now,
      endedAt: now,
      cancelAtPeriodEnd: false,
      pendingChange: null,
    }));
    if (ended) await this.ctx.plugins.emit('onSubscriptionCanceled', scope, ended);
  }

  // --- recovery ------------------------------------------------------------------------

  /**
   * After moving the subscription into dunning: if the invoice was paid or voided
   * meanwhile (a webhook, a manual payment between the invoice's write and the
   * subscription's move), its own `settled` may have run before that move and found
   * nothing to undo, so it is run again here. Either this read sees the payment, or the
   * payment's `settled` comes after the move and sees it.
   */
  private async settledMeanwhile(scope: Scope, inv: Invoice): Promise<void> {
    const now = await this.invoices.get(scope, inv.id);
    if (now.status === 'paid' || now.status === 'void') await this.settled(scope, now);
  }

  /**
   * An invoice was paid or voided: if its subscription is in dunning and no other invoice
   * of it is open and past due, it is `active` again.
   */
  private async settled(scope: Scope, inv: Invoice): Promise<void> {
    const sub = await this.ctx.store.subscriptions.get(scope, inv.subscriptionId);
    if (!sub || (sub.status !== 'past_due' && sub.status !== 'unpaid')) return;
    const others = await this.ctx.store.invoices.listBySubscription(scope, sub.id);
    if (others.some((o) => o.id !== inv.id && o.status === 'open' && o.pastDueAt !== null)) return;
    await moveSubscriptionStatus(this.ctx, scope, sub.id, ['past_due', 'unpaid'], () => ({ status: 'active' }));
  }
}
