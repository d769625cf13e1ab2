import { z } from 'zod';
import type { EngineContext } from '../context';
import type { InvoiceService } from '../invoice/service';
import { creditNoteSchema, type CreditNote, type Invoice } from '../invoice/types';
import type { ScopeModes } from '../scope/service';
import { findById, idSchema, illegalState, invalid, newId, parseInput, type Scope } from '../types';
import type { PaymentProvider, RefundResult } from './provider';
import { refundStatesBefore, type Payment, type Refund, type RefundStatus } from './types';

/**
 * A credit note, and with `refund: true` the money paid back through the provider that
 * charged the invoice (tRPC `creditNotes.create` with `refund`).
 */
export const refundCreditNoteSchema = creditNoteSchema.extend({ refund: z.boolean().default(false) });
export type RefundCreditNoteInput = z.input<typeof refundCreditNoteSchema>;

export const listRefundsSchema = z
  .object({ invoiceId: idSchema('invoice').optional(), paymentId: idSchema('payment').optional() })
  .strict()
  .refine((f) => (f.invoiceId === undefined) !== (f.paymentId === undefined), 'name exactly one of invoiceId or paymentId');
export type ListRefundsInput = z.input<typeof listRefundsSchema>;

/** What a credit note with or without a refund came to. */
export interface CreditNoteRefund {
  creditNote: CreditNote;
  invoice: Invoice;
  /** The refund made for it (`pending` when the provider did not answer: `retry` sends it again); null without `refund`. */
  refund: Refund | null;
}

/** The idempotency key of a credit note's refund: the same for every call about it. */
export const creditNoteRefundKey = (creditNoteId: string) => `${creditNoteId}:refund`;
/** The idempotency key of the part of a final invoice's credit refunded from one payment. */
export const finalCreditRefundKey = (invoiceId: string, paymentId: string) => `${invoiceId}:credit-refund:${paymentId}`;
export const FINAL_CREDIT_REASON = 'final_invoice_credit';

/**
 * Refunds: money paid back through the provider that charged it, all or part of a
 * succeeded payment, never more than it has left. Each refund is recorded before the
 * provider is asked and sent with a stable idempotency key, so a timeout (the refund
 * stays `pending`) is sent again with the same key and refunds once. The payment's
 * `amountRefunded` is raised first, in one conditional write, so two refunds racing can
 * never pay back more than was paid; a refund that fails gives its amount back.
 */
export class RefundService {
  constructor(
    private readonly ctx: EngineContext,
    private readonly invoices: InvoiceService,
    private readonly scopes: ScopeModes,
    private readonly providers: ReadonlyMap<string, PaymentProvider>,
  ) {}

  get(scope: Scope, id: string): Promise<Refund> {
    return findById('refund', id, (rid) => this.ctx.store.payments.getRefund(scope, rid));
  }

  /** An invoice's or a payment's refunds, oldest first. */
  async list(scope: Scope, filter: ListRefundsInput): Promise<Refund[]> {
    const f = parseInput(listRefundsSchema, filter, 'refund list');
    if (f.invoiceId) {
      const inv = await this.invoices.get(scope, f.invoiceId);
      return this.ctx.store.payments.listRefundsByInvoice(scope, inv.id);
    }
    const payment = await findById('payment', f.paymentId!, (pid) => this.ctx.store.payments.getPayment(scope, pid));
    return this.ctx.store.payments.listRefundsByPayment(scope, payment.id);
  }

  /**
   * A credit note on an invoice; with `refund: true`, its amount is also paid back
   * through the provider of the invoice's succeeded payment, with the idempotency key
   * `<credit note id>:refund`. Without `refund` it is `invoices.createCreditNote`.
   *
   * With `refund`, before anything changes: the invoice must be `paid` with a succeeded
   * payment (`illegal_state` otherwise: an open, void or uncollectible invoice, or one
   * paid with nothing due), and the amount at most what that payment has left to refund
   * (paid − already refunded) and what the invoice has left to credit (`invalid`
   * otherwise); the payment's provider must serve the scope. Then the amount is
   * reserved on the payment, the credit note made, the refund recorded and sent.
   * The provider's answer: `succeeded`; `pending` (it says later, by webhook); `failed`
   * (the amount is given back to the payment; the credit note stands). A provider that
   * does not answer leaves the refund `pending`: `retry` (or the reconcile pass) sends it
   * again with the same key.
   */
  async creditNote(scope: Scope, invoiceId: string, input: RefundCreditNoteInput): Promise<CreditNoteRefund> {
    const { refund: wantsRefund, ...note } = parseInput(refundCreditNoteSchema, input, 'credit note');
    if (!wantsRefund) return { ...(await this.invoices.createCreditNote(scope, invoiceId, note)), refund: null };

    const inv = await this.invoices.get(scope, invoiceId);
    if (inv.status !== 'paid') throw illegalState(`invoice ${inv.id} is ${inv.status}: only a paid invoice can be refunded`);
    const payment = (await this.ctx.store.payments.listPaymentsByInvoice(scope, inv.id)).find((p) => p.status === 'succeeded');
    if (!payment || !payment.providerPaymentId) {
      throw illegalState(`invoice ${inv.id} was paid without a charge (nothing was due): there is no payment to refund; issue the credit note without refund`);
    }
    const refundable = payment.amount - payment.amountRefunded;
    if (note.amount > refundable) {
      throw invalid(`a refund of ${note.amount} exceeds what payment ${payment.id} has left to refund (${refundable} of ${payment.amount} paid)`, [
        { path: 'amount', message: `at most ${refundable}` },
      ]);
    }
    const creditable = inv.total - inv.creditApplied - inv.credited;
    if (note.amount > creditable) {
      throw invalid(`a credit note of ${note.amount} exceeds what invoice ${inv.number} has left to credit (${creditable})`, [
        { path: 'amount', message: `at most ${creditable}` },
      ]);
    }
    const provider = await this.provider(scope, payment.provider);

    const now = () => this.ctx.customerNow(scope, inv.customerId);
    // Reserved first: of two refunds racing, the one that would pass the amount paid is refused here.
    if (!(await this.ctx.store.payments.addRefunded(scope, payment.id, note.amount, await now()))) {
      throw invalid(`a refund of ${note.amount} exceeds what payment ${payment.id} has left to refund (another refund was made meanwhile)`, [{ path: 'amount', message: 'too large' }]);
    }
    let made: { creditNote: CreditNote; invoice: Invoice };
    try {
      made = await this.invoices.createCreditNote(scope, inv.id, note, { refunded: true });
    } catch (e) {
      await this.ctx.store.payments.addRefunded(scope, payment.id, -note.amount, await now());
      throw e;
    }
    const at = await now();
    const { refund } = await this.insertRefund(scope, {
      id: newId('refund'),
      paymentId: payment.id,
      invoiceId: inv.id,
      customerId: inv.customerId,
      creditNoteId: made.creditNote.id,
      amount: note.amount,
      currency: payment.currency,
      status: 'pending',
      provider: payment.provider,
      providerRefundId: null,
      reason: note.reason,
      idempotencyKey: creditNoteRefundKey(made.creditNote.id),
      failureMessage: null,
      createdAt: at,
      updatedAt: at,
    });
    return { ...made, refund: await this.send(scope, refund, payment, provider) };
  }

  /**
   * Sends a `pending` refund again with its own idempotency key (after a timeout or a
   * crash): the provider refunds it once. Any other refund is returned as it is.
   */
  async retry(scope: Scope, refundId: string): Promise<Refund> {
    const refund = await this.get(scope, refundId);
    if (refund.status !== 'pending') return refund;
    const payment = await findById('payment', refund.paymentId, (pid) => this.ctx.store.payments.getPayment(scope, pid));
    return this.send(scope, refund, payment, await this.provider(scope, refund.provider));
  }

  /**
   * A final invoice's credit, refunded (the scope's `finalInvoiceCredit` is `refund`): the
   * credit (−total, less what was refunded of it) is paid back from the succeeded
   * payments of the subscription's paid invoices, newest first, never more than each has
   * left, then recorded on the invoice (`invoices.recordCreditRefund`), so it no longer
   * counts in the customer's balance. Only what was refunded or is pending is recorded;
   * what no payment can take stays as balance. Runs when the invoice is finalized (an
   * engine-internal plugin); safe to run again (each part has its own idempotency key).
   */
  async refundFinalCredit(scope: Scope, invoiceId: string): Promise<Refund[]> {
    // One run per invoice at a time in this process (the hook fires once per finalization).
    const key = `${scope.tenantId}\u0000${scope.appId}\u0000${invoiceId}`;
    while (this.#finalRuns.has(key)) await this.#finalRuns.get(key)!.catch(() => {});
    const run = this.#refundFinalCredit(scope, invoiceId).finally(() => this.#finalRuns.delete(key));
    this.#finalRuns.set(key, run);
    return run;
  }

  readonly #finalRuns = new Map<string, Promise<Refund[]>>();

  async #refundFinalCredit(scope: Scope, invoiceId: string): Promise<Refund[]> {
    const inv = await this.invoices.get(scope, invoiceId);
    if (!isFinalCredit(inv)) return [];
    const settings = await this.ctx.store.payments.getSettings(scope);
    if ((settings?.finalInvoiceCredit ?? 'balance') !== 'refund') return [];
    if (-inv.total - inv.creditRefunded <= 0) return [];
    // Never more than the credit still unapplied: what the customer's balance still holds of it.
    const balance = await this.ctx.store.invoices.creditBalance(scope, inv.customerId, inv.currency);
    const credit = Math.min(-inv.total, inv.creditRefunded + balance);

    const paidBefore = (await this.ctx.store.invoices.listBySubscription(scope, inv.subscriptionId))
      .filter((i) => i.id !== inv.id && i.status === 'paid' && i.currency === inv.currency)
      .sort((a, b) => (b.paidAt?.getTime() ?? 0) - (a.paidAt?.getTime() ?? 0) || b.issueAt.getTime() - a.issueAt.getTime());
    const made: Refund[] = [];
    // What the parts refunded or pending cover, made by this run or an earlier one (a run that
    // died before recording them): each part has its own key, so none is made twice.
    let covered = 0;
    for (const paid of paidBefore) {
      if (covered >= credit) break;
      const payment = (await this.ctx.store.payments.listPaymentsByInvoice(scope, paid.id)).find((p) => p.status === 'succeeded');
      if (!payment?.providerPaymentId) continue;
      const partKey = finalCreditRefundKey(inv.id, payment.id);
      const existing = await this.ctx.store.payments.getRefundByKey(scope, partKey);
      if (existing) {
        if (existing.status === 'pending' || existing.status === 'succeeded') covered += existing.amount;
        continue;
      }
      const amount = Math.min(credit - covered, payment.amount - payment.amountRefunded);
      if (amount <= 0) continue;
      let provider: PaymentProvider;
      try {
        provider = await this.provider(scope, payment.provider);
      } catch (e) {
        this.ctx.logger.warn('a final invoice credit could not be refunded from a payment: its provider does not serve the scope', { invoiceId: inv.id, paymentId: payment.id, error: (e as Error).message });
        continue;
      }
      const at = await this.ctx.customerNow(scope, inv.customerId);
      if (!(await this.ctx.store.payments.addRefunded(scope, payment.id, amount, at))) continue; // refunded meanwhile
      const { refund, created } = await this.insertRefund(scope, {
        id: newId('refund'),
        paymentId: payment.id,
        invoiceId: paid.id,
        customerId: inv.customerId,
        creditNoteId: null,
        amount,
        currency: payment.currency,
        status: 'pending',
        provider: payment.provider,
        providerRefundId: null,
        reason: FINAL_CREDIT_REASON,
        idempotencyKey: partKey,
        failureMessage: null,
        createdAt: at,
        updatedAt: at,
      });
      if (!created) {
        // Another instance recorded this part first: its reservation stands, this one is given back.
        await this.ctx.store.payments.addRefunded(scope, payment.id, -amount, at);
        if (refund.status === 'pending' || refund.status === 'succeeded') covered += refund.amount;
        continue;
      }
      const sent = await this.send(scope, refund, payment, provider);
      made.push(sent);
      if (sent.status === 'pending' || sent.status === 'succeeded') covered += amount;
    }
    const toRecord = covered - inv.creditRefunded;
    if (toRecord > 0) {
      try {
        await this.invoices.recordCreditRefund(scope, inv.id, toRecord);
      } catch (e) {
        // The credit was applied elsewhere meanwhile (a concurrent invoice): the money went back
        // all the same; an operator must look.
        this.ctx.logger.error('a final invoice credit was refunded but could not be recorded on the invoice', { invoiceId: inv.id, amount: toRecord, error: (e as Error).message });
      }
    }
    return made;
  }

  /**
   * What the provider said about a refund later (a webhook): forward only; a refund that
   * fails or is canceled gives its amount back to the payment. `moved`: false when the
   * refund was past that state already (a duplicate, an event out of order).
   */
  async applyProviderStatus(scope: Scope, refund: Refund, status: RefundStatus, providerRefundId: string | null, failureMessage: string | null = null): Promise<{ refund: Refund; moved: boolean }> {
    if (status === 'pending') {
      // Only news when Ledger did not know the provider's id yet.
      if (refund.status !== 'pending' || refund.providerRefundId || !providerRefundId) return { refund, moved: false };
    }
    const moved = await this.move(scope, refund, status, { providerRefundId: providerRefundId ?? refund.providerRefundId, failureMessage });
    return moved ? { refund: moved, moved: true } : { refund: (await this.ctx.store.payments.getRefund(scope, refund.id)) ?? refund, moved: false };
  }

  /** Stores a new refund with refund.created (nothing recorded when its key was stored already). */
  private insertRefund(scope: Scope, refund: Refund): Promise<{ refund: Refund; created: boolean }> {
    return this.ctx.events.atomic(scope, async (record) => {
      const r = await this.ctx.store.payments.insertRefund(scope, refund);
      if (r.created) record({ type: 'refund.created', object: r.refund });
      return r;
    });
  }

  /** Asks the provider; records its answer. */
  private async send(scope: Scope, refund: Refund, payment: Payment, provider: PaymentProvider): Promise<Refund> {
    let result: RefundResult;
    try {
      result = await provider.refund(scope, { providerPaymentId: payment.providerPaymentId!, amount: refund.amount, idempotencyKey: refund.idempotencyKey });
    } catch (e) {
      // The outcome is unknown: the provider may have refunded. It stays pending; the same key is sent again.
      this.ctx.logger.warn('payment provider did not answer a refund; it stays pending', { provider: provider.name, refundId: refund.id, error: e instanceof Error ? e.message : String(e) });
      return refund;
    }
    const moved =
      result.status === 'failed'
        ? await this.move(scope, refund, 'failed', { providerRefundId: result.providerRefundId, failureMessage: result.reason })
        : await this.move(scope, refund, result.status, { providerRefundId: result.providerRefundId, failureMessage: null });
    return moved ?? (await this.ctx.store.payments.getRefund(scope, refund.id)) ?? refund;
  }

  /** Moves the refund forward (pending → pending rewrites its provider id); a failed or canceled one gives its amount back. */
  private async move(scope: Scope, refund: Refund, to: RefundStatus, patch: { providerRefundId: string | null; failureMessage: string | null }): Promise<Refund | null> {
    const from = to === 'pending' ? (['pending'] as RefundStatus[]) : refundStatesBefore(to);
    const updatedAt = await this.ctx.customerNow(scope, refund.customerId);
    // The move, its amount given back (failed, canceled) and refund.updated commit together.
    const { moved, givenBack } = await this.ctx.events.atomic(scope, async (record) => {
      const m = await this.ctx.store.payments.transitionRefund(scope, refund.id, from, { status: to, updatedAt, ...patch });
      if (!m) return { moved: null, givenBack: true };
      record({ type: 'refund.updated', object: m, before: refund });
      const back = to === 'failed' || to === 'canceled' ? !!(await this.ctx.store.payments.addRefunded(scope, refund.paymentId, -refund.amount, updatedAt)) : true;
      return { moved: m, givenBack: back };
    });
    if (moved && (to === 'failed' || to === 'canceled')) {
      if (!givenBack) {
        this.ctx.logger.error('a failed refund could not give its amount back to its payment', { refundId: refund.id, paymentId: refund.paymentId });
      }
      if (refund.reason === FINAL_CREDIT_REASON) {
        this.ctx.logger.warn('a refund of a final invoice credit failed: that credit is no longer in the customer balance; refund it another way', { refundId: refund.id, amount: refund.amount });
      }
    }
    return moved;
  }

  /** The provider by name, refused where it may not serve the scope's mode. */
  private async provider(scope: Scope, name: string): Promise<PaymentProvider> {
    const provider = this.providers.get(name);
    if (!provider) throw illegalState(`the payment provider "${name}" is not configured in this deployment: the payment cannot be refunded here`);
    const mode = await this.scopes.mode(scope);
    if (!provider.modes.includes(mode)) throw illegalState(`the payment provider "${name}" does not serve ${mode} scopes`);
    return provider;
  }
}

/** A final invoice with a credit: the end of a subscription (cancel now, prorated) with a negative total. */
export function isFinalCredit(inv: Invoice): boolean {
  return inv.billingReason === 'subscription_cancel' && inv.total < 0 && inv.status !== 'draft' && inv.status !== 'void';
}
