import type { EngineContext } from '../context';
import type { Scope } from '../types';
import type { RefundService } from './refunds';
import type { PaymentService } from './service';
import type { Payment, Refund } from './types';

export interface ReconcileOptions {
  /** A payment or refund pending for less than this is left alone: its call may still be in flight (ms; default 60 s). */
  minAgeMs?: number;
  /**
   * Past this age it is not asked again (ms; default 24 h): Stripe keeps an idempotency
   * key's answer 24 hours, after which the same key could charge again. Those wait for
   * the provider's webhook, and are logged on every pass.
   */
  maxAgeMs?: number;
  /** Scopes per query, and payments and refunds per scope per pass (default 100). */
  batch?: number;
}

/** What one scope's reconcile did. */
export interface ScopeReconcile {
  scope: Scope;
  /** The payments asked again, as they are now (succeeded, failed, requires_action, or still pending). */
  reconciled: Payment[];
  /** The refunds sent again, as they are now. */
  refunds: Refund[];
  /** Pending for longer than the provider keeps idempotency keys: left for the webhook. */
  tooOld: Payment[];
  /** Payments or refunds whose reconcile threw (logged); they stay pending for the next pass. */
  errors: number;
}

/** What a deployment-level pass did. */
export interface ReconcileReport {
  scopes: number;
  asked: number;
  settled: number;
  stillPending: number;
  tooOld: number;
  refundsRetried: number;
  errors: number;
}

const DAY_MS = 86_400_000;

/**
 * Reconcile: payments left `pending` — the provider did not answer (a timeout, a 500), or
 * the process died between the provider's charge and our write — are asked again with
 * their own idempotency key, through `payments.collect`, which re-asks a pending payment
 * with its key: the provider answers the first charge's outcome and charges nothing
 * more. Refunds left pending without the provider's answer are sent again the same way.
 *
 * Only what has been pending at least `minAgeMs` (a call still in flight is not raced)
 * and less than `maxAgeMs` (the provider still holds the key) is asked; the age is
 * judged at the customer's time (its test clock's, if it is on one). `onProviderSync`
 * fires per scope and provider with `{ reconciled, refunds }`.
 *
 * `run()` is deployment-level, like the webhook inbox's `processPending`: every scope
 * with pending work, found with one query per batch; the billing schedule calls it before
 * each run. `scope(scope)` reconciles one scope.
 */
export class Reconciler {
  readonly #minAgeMs: number;
  readonly #maxAgeMs: number;
  readonly #batch: number;
  #running: Promise<ReconcileReport> | null = null;

  constructor(
    private readonly ctx: EngineContext,
    private readonly payments: PaymentService,
    private readonly refunds: RefundService,
    options: ReconcileOptions = {},
  ) {
    this.#minAgeMs = options.minAgeMs ?? 60_000;
    this.#maxAgeMs = options.maxAgeMs ?? DAY_MS;
    this.#batch = options.batch ?? 100;
  }

  /** Every scope with a pending payment or refund, in turn; a pass already running is joined, not doubled. */
  run(): Promise<ReconcileReport> {
    return (this.#running ??= this.#pass().finally(() => (this.#running = null)));
  }

  async #pass(): Promise<ReconcileReport> {
    const report: ReconcileReport = { scopes: 0, asked: 0, settled: 0, stillPending: 0, tooOld: 0, refundsRetried: 0, errors: 0 };
    let after: Scope | undefined;
    for (;;) {
      const scopes = await this.ctx.store.payments.scopesWithPendingWork(this.#batch, after);
      for (const scope of scopes) {
        let r: ScopeReconcile;
        try {
          r = await this.scope(scope);
        } catch (e) {
          report.errors++;
          this.ctx.logger.error('reconcile failed for a scope', { tenantId: scope.tenantId, appId: scope.appId, error: e instanceof Error ? e.message : String(e) });
          continue;
        }
        report.scopes++;
        report.asked += r.reconciled.length;
        report.settled += r.reconciled.filter((p) => p.status !== 'pending').length;
        report.stillPending += r.reconciled.filter((p) => p.status === 'pending').length;
        report.tooOld += r.tooOld.length;
        report.refundsRetried += r.refunds.length;
        report.errors += r.errors;
      }
      if (scopes.length < this.#batch) return report;
      after = scopes.at(-1);
    }
  }

  /** Asks again about the scope's payments and refunds pending between the minimum and maximum age. */
  async scope(scope: Scope): Promise<ScopeReconcile> {
    const store = this.ctx.store.payments;
    const result: ScopeReconcile = { scope, reconciled: [], refunds: [], tooOld: [], errors: 0 };
    const ageOf = async (x: { customerId: string; createdAt: Date }) => (await this.ctx.customerNow(scope, x.customerId)).getTime() - x.createdAt.getTime();

    for (const payment of await store.listPendingPayments(scope, this.#batch)) {
      const age = await ageOf(payment);
      if (age < this.#minAgeMs) continue;
      if (age >= this.#maxAgeMs) {
        result.tooOld.push(payment);
        this.ctx.logger.warn('a payment has been pending longer than the provider keeps its idempotency key: it is not asked again, the provider\'s webhook will settle it', {
          tenantId: scope.tenantId,
          appId: scope.appId,
          paymentId: payment.id,
          invoiceId: payment.invoiceId,
          provider: payment.provider,
          pendingSince: payment.createdAt.toISOString(),
        });
        continue;
      }
      try {
        const { payment: now } = await this.payments.collect(scope, payment.invoiceId);
        result.reconciled.push(now && now.id === payment.id ? now : ((await store.getPayment(scope, payment.id)) ?? payment));
      } catch (e) {
        result.errors++;
        this.ctx.logger.warn('reconcile could not ask again about a pending payment', { tenantId: scope.tenantId, appId: scope.appId, paymentId: payment.id, invoiceId: payment.invoiceId, error: e instanceof Error ? e.message : String(e) });
      }
    }

    for (const refund of await store.listPendingRefunds(scope, this.#batch)) {
      // One the provider answered `pending` (it has the refund) waits for its webhook.
      if (refund.providerRefundId !== null) continue;
      const age = await ageOf(refund);
      if (age < this.#minAgeMs || age >= this.#maxAgeMs) continue;
      try {
        result.refunds.push(await this.refunds.retry(scope, refund.id));
      } catch (e) {
        result.errors++;
        this.ctx.logger.warn('reconcile could not send a pending refund again', { tenantId: scope.tenantId, appId: scope.appId, refundId: refund.id, error: e instanceof Error ? e.message : String(e) });
      }
    }

    const providers = new Set([...result.reconciled.map((p) => p.provider), ...result.refunds.map((r) => r.provider)]);
    for (const provider of providers) {
      await this.ctx.plugins.emit('onProviderSync', scope, provider, {
        reconciled: result.reconciled.filter((p) => p.provider === provider),
        refunds: result.refunds.filter((r) => r.provider === provider),
      });
    }
    return result;
  }
}
