import { currentRequest, withRequest } from '../events/request-context';
import type { EngineContext } from '../context';
import type { ScopeModes } from '../scope/service';
import { isLedgerError, LedgerError, newId, scope as toScope, type InvoiceId, type Scope } from '../types';
import { LEDGER_IDEMPOTENCY_METADATA, newInboxRecord, type WebhookEventRecord, type WebhookOutcome } from './events';
import { LEDGER_METADATA, type ChargeResult, type PaymentProvider, type ProviderEvent } from './provider';
import type { RefundService } from './refunds';
import type { PaymentService } from './service';
import type { Payment, PaymentMethod, RefundStatus } from './types';

/** What `receive` did with a delivery: each event, stored now or already (a duplicate, a replay). */
export interface WebhookReceipt {
  provider: string;
  events: { id: string; type: string; duplicate: boolean }[];
}

/** What one `processPending` pass did. */
export interface WebhookProcessReport {
  applied: number;
  ignored: number;
  failed: number;
}

export interface WebhookOptions {
  /** How long a processor holds an event before another may take it (ms; default 60 s). */
  leaseMs?: number;
  /** Events per `processPending` pass (default 100). */
  batch?: number;
  /** A failed event is tried again after this long (ms; default 30 s). */
  retryAfterMs?: number;
}

type Decision = { outcome: WebhookOutcome; note: string; scope: Scope | null };
type PaymentEvent = Extract<ProviderEvent, { type: 'payment.succeeded' | 'payment.failed' | 'payment.requires_action' }>;
type RefundEvent = Extract<ProviderEvent, { type: 'refund.updated' }>;
type DisputeEvent = Extract<ProviderEvent, { type: 'dispute.created' }>;
type MethodEvent = Extract<ProviderEvent, { type: 'method.attached' | 'method.updated' | 'method.detached' }>;
type CustomerDeletedEvent = Extract<ProviderEvent, { type: 'customer.deleted' }>;

/** A provider's refund status in Ledger's terms; null for one Ledger does not know. */
const REFUND_STATUS: Record<string, RefundStatus> = { pending: 'pending', requires_action: 'pending', succeeded: 'succeeded', failed: 'failed', canceled: 'canceled' };

/**
 * Webhooks in: store once, answer, process from the inbox.
 *
 * `receive` verifies a delivery with its provider's adapter (a bad signature, a stale
 * timestamp or a malformed body throws `invalid`, and nothing is stored), stores each
 * event once by (provider, event id), claimed by this process for its lease, and returns
 * at once; this process then processes it in the background. `processPending` processes
 * whatever is still pending (events stored by a process that died before processing them,
 * once their lease ended, or whose processing failed): the billing schedule calls it
 * before each run, and a failure's retry timer.
 *
 * Processing an event about a payment: the scope and invoice come from the object's
 * metadata, and the payment must be found in that scope, on that invoice, by the
 * provider's id (or, when Ledger never recorded that id, by the charge's idempotency
 * key); the scope must be of the event's mode. Anything else (no metadata, another
 * scope's invoice, an unknown object) is processed as `ignored` with a log line. The
 * payment moves forward only, through the same path as a charge's answer, so a failure
 * arriving after the success of the same payment changes nothing. `onWebhookReceived`
 * fires for each processed event whose scope was found.
 */
export class WebhookInbox {
  readonly #providers: ReadonlyMap<string, PaymentProvider>;
  readonly #leaseMs: number;
  readonly #batch: number;
  readonly #retryAfterMs: number;
  #running: Promise<WebhookProcessReport> | null = null;
  #again = false;
  /** A full pass (the inbox listed) was asked for while one ran. */
  #againFull = false;
  /**
   * Events this process stored and claimed in `receive` (their lease is taken in the same
   * insert), processed next without being listed or claimed again: a delivery costs the
   * database two writes (store, complete), not four. Lost with the process: then their
   * lease ends and any pass takes them from the inbox.
   */
  #fresh: WebhookEventRecord[] = [];
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(
    private readonly ctx: EngineContext,
    private readonly payments: PaymentService,
    private readonly scopes: ScopeModes,
    providers: ReadonlyMap<string, PaymentProvider>,
    options: WebhookOptions = {},
    private readonly refunds?: RefundService,
  ) {
    this.#providers = providers;
    this.#leaseMs = options.leaseMs ?? 60_000;
    this.#batch = options.batch ?? 100;
    this.#retryAfterMs = options.retryAfterMs ?? 30_000;
  }

  /** Is a provider of that name configured in this deployment? */
  has(provider: string): boolean {
    return this.#providers.has(provider);
  }

  /**
   * Verifies and stores a delivery; processing follows in the background (`whenIdle`
   * waits for it). `not_found` for a provider not configured; `invalid` (from the
   * adapter) for a bad signature, a stale timestamp or a malformed body: nothing stored.
   */
  async receive(providerName: string, rawBody: string, headers: Record<string, string | undefined>): Promise<WebhookReceipt> {
    const provider = this.#providers.get(providerName);
    if (!provider) throw new LedgerError('not_found', `no payment provider "${providerName}" is configured in this deployment`);
    const events = await provider.verifyWebhook(rawBody, headers);
    const receivedAt = this.ctx.clock.now();
    const lockedUntil = new Date(receivedAt.getTime() + this.#leaseMs);
    const receipt: WebhookReceipt = { provider: provider.name, events: [] };
    for (const event of events) {
      // Stored claimed by this process (attempt 1, under its lease): processed next, here.
      const record: WebhookEventRecord = { ...newInboxRecord(provider.name, event, event.providerType, rawBody, receivedAt), attempts: 1, lockedUntil };
      const stored = await this.ctx.store.payments.insertWebhookEvent(record);
      if (stored) this.#fresh.push(record);
      receipt.events.push({ id: event.id, type: event.providerType, duplicate: !stored });
    }
    if (receipt.events.some((e) => !e.duplicate)) this.kick(false);
    return receipt;
  }

  /** An inbox row (for tests and support). */
  event(provider: string, eventId: string): Promise<WebhookEventRecord | null> {
    return this.ctx.store.payments.getWebhookEvent(provider, eventId);
  }

  /**
   * Processes every pending event (oldest first, in batches) and reports what it did.
   * Safe to call from several places and instances: each event is claimed first, so it
   * is processed once. A call while a pass runs waits for it and runs one more.
   */
  async processPending(): Promise<WebhookProcessReport> {
    while (this.#running) await this.#running.catch(() => {});
    return this.#start(true);
  }

  /** Resolves once no processing is in flight (the background pass after a delivery). */
  async whenIdle(): Promise<void> {
    while (this.#running) await this.#running.catch(() => {});
  }

  /** Stops the retry timer and waits for processing in flight (the engine's shutdown calls it). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    await this.whenIdle();
  }

  #start(full: boolean): Promise<WebhookProcessReport> {
    const run = this.#pass(full).then((report) => {
      // An event whose processing failed is tried again once its retry time passed,
      // by this process (a timer that keeps no process alive) or any later pass.
      if (report.failed > 0 && !this.#retryTimer && !this.#closed) {
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = null;
          if (!this.#closed) this.kick(true);
        }, this.#retryAfterMs + 100);
        this.#retryTimer.unref?.();
      }
      return report;
    });
    const tracked = run.finally(() => {
      this.#running = null;
      if (this.#again && !this.#closed) {
        const full = this.#againFull;
        this.#again = this.#againFull = false;
        this.kick(full);
      }
    });
    this.#running = tracked;
    return tracked;
  }

  /**
   * Starts a pass in the background (or one more after the current one): the events this
   * process just stored, and with `full` every pending one in the inbox.
   */
  private kick(full: boolean): void {
    if (this.#running) {
      this.#again = true;
      this.#againFull ||= full;
      return;
    }
    this.#start(full).catch((e: unknown) => this.ctx.logger.error('webhook processing failed', { error: e instanceof Error ? e.message : String(e) }));
  }

  async #pass(full: boolean): Promise<WebhookProcessReport> {
    const report: WebhookProcessReport = { applied: 0, ignored: 0, failed: 0 };
    const seen = new Set<string>();
    for (;;) {
      for (let fresh = this.#fresh.shift(); fresh; fresh = this.#fresh.shift()) {
        seen.add(JSON.stringify([fresh.provider, fresh.eventId]));
        report[await this.processClaimed(fresh)]++;
      }
      if (!full) return report;
      const pending = (await this.ctx.store.payments.listPendingWebhookEvents(this.ctx.clock.now(), this.#batch)).filter(
        (e) => !seen.has(JSON.stringify([e.provider, e.eventId])),
      );
      if (pending.length === 0 && this.#fresh.length === 0) return report;
      for (const e of pending) {
        seen.add(JSON.stringify([e.provider, e.eventId]));
        const r = await this.processOne(e.provider, e.eventId);
        if (r) report[r]++;
      }
    }
  }

  /** Claims one event and processes it; null when another processor has it or it is done. */
  private async processOne(provider: string, eventId: string): Promise<WebhookOutcome | 'failed' | null> {
    const now = this.ctx.clock.now();
    const claimed = await this.ctx.store.payments.claimWebhookEvent(provider, eventId, now, new Date(now.getTime() + this.#leaseMs));
    return claimed ? this.processClaimed(claimed) : null;
  }

  /** Processes an event this process holds the lease of: completed with its outcome, or left pending with the error. */
  private async processClaimed(claimed: WebhookEventRecord): Promise<WebhookOutcome | 'failed'> {
    const store = this.ctx.store.payments;
    const { provider, eventId } = claimed;
    try {
      // The provider is who made these changes (the event log's and the audit trail's actor).
      const d = await withRequest({ actor: { type: 'provider', id: provider }, requestId: currentRequest()?.requestId ?? null, ip: currentRequest()?.ip ?? null }, () => this.decide(claimed));
      await store.completeWebhookEvent(provider, eventId, { processedAt: this.ctx.clock.now(), ...d });
      if (d.outcome === 'ignored') {
        this.ctx.logger.info('webhook event ignored', { provider, eventId, type: claimed.type, reason: d.note });
      }
      if (d.scope) await this.ctx.plugins.emit('onWebhookReceived', d.scope, provider, { eventId, type: claimed.event.type, providerType: claimed.type, outcome: d.outcome, event: claimed.event });
      return d.outcome;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.ctx.logger.warn('webhook event processing failed; it stays pending', { provider, eventId, type: claimed.type, attempts: claimed.attempts, error: message });
      await store.failWebhookEvent(provider, eventId, message.slice(0, 1000), new Date(this.ctx.clock.now().getTime() + this.#retryAfterMs)).catch(() => {});
      return 'failed';
    }
  }

  /** What an event comes to: applied to a payment of a scope it proved, or ignored with the reason. */
  private async decide(record: WebhookEventRecord): Promise<Decision> {
    const event = record.event;
    switch (event.type) {
      case 'payment.succeeded':
      case 'payment.failed':
      case 'payment.requires_action':
        return this.paymentEvent(record.provider, event);
      case 'refund.updated':
        return this.refundEvent(record.provider, event);
      case 'dispute.created':
        return this.disputeEvent(record.provider, event);
      case 'method.attached':
      case 'method.updated':
      case 'method.detached':
        return this.methodEvent(record.provider, event);
      case 'customer.deleted':
        return this.customerDeleted(record.provider, event);
      case 'ignored':
        return { outcome: 'ignored', note: `event type ${event.providerType} is not one Ledger acts on`, scope: null };
      default:
        return { outcome: 'ignored', note: `event type ${(event as ProviderEvent).providerType} is not one Ledger acts on`, scope: null };
    }
  }

  /**
   * The scope an event's metadata names; when the object carries none, the metadata of
   * the object it is about, read from the provider's API (Stripe's disputes and payment
   * methods). Only a claim: the caller must find the object in that scope.
   */
  private async claimedScope(provider: string, metadata: Record<string, string>, about?: { kind: 'payment' | 'customer'; id: string | null }): Promise<{ scope: Scope; metadata: Record<string, string> } | null> {
    let m = metadata;
    if ((!m[LEDGER_METADATA.tenant] || !m[LEDGER_METADATA.app]) && about?.id) {
      const lookup = this.#providers.get(provider)?.lookupMetadata;
      if (lookup) m = (await lookup.call(this.#providers.get(provider), about.kind, about.id)) ?? {};
    }
    const tenant = m[LEDGER_METADATA.tenant];
    const app = m[LEDGER_METADATA.app];
    if (!tenant || !app) return null;
    try {
      return { scope: toScope(tenant, app), metadata: m };
    } catch {
      return null;
    }
  }

  /** Null when the scope is of the event's mode; else the ignored decision. */
  private async wrongMode(scope: Scope, event: ProviderEvent): Promise<Decision | null> {
    const mode = await this.scopes.mode(scope);
    return mode === event.mode ? null : { outcome: 'ignored', note: `a ${event.mode}-mode event about an object of a ${mode} scope`, scope };
  }

  /**
   * A refund moved at the provider: found by the provider's id (or, when Ledger never
   * recorded it, by the idempotency key in its metadata) in the scope its metadata names;
   * moved forward only. A failed or canceled refund gives its amount back to the payment.
   */
  private async refundEvent(provider: string, event: RefundEvent): Promise<Decision> {
    const ignored = (note: string, scope: Scope | null = null): Decision => ({ outcome: 'ignored', note, scope });
    if (!this.refunds) return ignored('refunds are not handled by this inbox');
    const claim = await this.claimedScope(provider, event.metadata, { kind: 'payment', id: event.providerPaymentId });
    if (!claim) return ignored(`refund ${event.providerRefundId} carries no Ledger scope in its metadata: not an object Ledger knows`);
    const { scope } = claim;
    const store = this.ctx.store.payments;
    const key = claim.metadata[LEDGER_IDEMPOTENCY_METADATA];
    let refund = await store.findRefundByProviderRef(scope, provider, event.providerRefundId);
    if (!refund && key) {
      const byKey = await store.getRefundByKey(scope, key);
      if (byKey && byKey.provider === provider && byKey.providerRefundId === null) refund = byKey;
    }
    if (!refund) return ignored(`no ${provider} refund ${event.providerRefundId} in ${scope.tenantId}/${scope.appId}: the metadata does not match a stored refund`);
    const wrong = await this.wrongMode(scope, event);
    if (wrong) return wrong;
    const status = REFUND_STATUS[event.status];
    if (!status) return ignored(`refund ${refund.id}: the provider's status "${event.status}" is not one Ledger knows`, scope);
    const r = await this.refunds.applyProviderStatus(scope, refund, status, event.providerRefundId, status === 'failed' || status === 'canceled' ? `the provider reported the refund ${event.status}` : null);
    if (!r.moved) return ignored(`refund ${refund.id} is ${refund.status}: a ${event.status} event cannot move it (refunds move forward only)`, scope);
    return { outcome: 'applied', note: `refund ${refund.id} ${r.refund.status}`, scope };
  }

  /** A dispute (chargeback) opened on a payment: recorded on the payment, found in the scope and on the invoice its metadata names. */
  private async disputeEvent(provider: string, event: DisputeEvent): Promise<Decision> {
    const ignored = (note: string, scope: Scope | null = null): Decision => ({ outcome: 'ignored', note, scope });
    if (!event.providerPaymentId) return ignored(`dispute ${event.providerDisputeId} names no payment`);
    const claim = await this.claimedScope(provider, event.metadata, { kind: 'payment', id: event.providerPaymentId });
    const invoiceId = claim?.metadata[LEDGER_METADATA.invoice];
    if (!claim || !invoiceId) return ignored(`dispute ${event.providerDisputeId}'s payment carries no Ledger scope and invoice: not an object Ledger knows`);
    const { scope } = claim;
    const payment = await this.findPayment(scope, provider, invoiceId, event.providerPaymentId, undefined);
    if (!payment) return ignored(`no ${provider} payment ${event.providerPaymentId} of invoice ${invoiceId} in ${scope.tenantId}/${scope.appId}: the metadata does not match a stored payment`);
    const wrong = await this.wrongMode(scope, event);
    if (wrong) return wrong;
    if (payment.dispute?.providerDisputeId === event.providerDisputeId) return ignored(`dispute ${event.providerDisputeId} is recorded on payment ${payment.id} already`, scope);
    const at = await this.ctx.customerNow(scope, payment.customerId);
    const dispute = { providerDisputeId: event.providerDisputeId, reason: event.reason, status: event.status ?? 'needs_response', createdAt: at.toISOString() };
    const moved = await this.ctx.store.payments.transitionPayment(scope, payment.id, [payment.status], { status: payment.status, dispute, updatedAt: at });
    if (!moved) throw new Error(`payment ${payment.id} changed while its dispute was recorded; retry`);
    this.ctx.logger.warn('a payment is disputed', { tenantId: scope.tenantId, appId: scope.appId, paymentId: payment.id, invoiceId, disputeId: event.providerDisputeId, reason: event.reason });
    return { outcome: 'applied', note: `payment ${payment.id} disputed (${event.reason})`, scope };
  }

  /**
   * A payment method attached, updated or detached at the provider: its customer is the
   * provider customer recorded in the scope the metadata names (never the metadata
   * alone). Attached: recorded (the customer's first becomes the default); updated: its
   * brand, last 4 and expiry; detached: no longer listed nor charged.
   */
  private async methodEvent(provider: string, event: MethodEvent): Promise<Decision> {
    const ignored = (note: string, scope: Scope | null = null): Decision => ({ outcome: 'ignored', note, scope });
    const ref = event.method.providerRef;
    if (!event.providerCustomerId) return ignored(`payment method ${ref} names no customer`);
    const claim = await this.claimedScope(provider, event.metadata, { kind: 'customer', id: event.providerCustomerId });
    if (!claim) return ignored(`payment method ${ref}'s customer ${event.providerCustomerId} carries no Ledger scope: not an object Ledger knows`);
    const { scope } = claim;
    const store = this.ctx.store.payments;
    const owner = await store.findProviderCustomer(scope, provider, event.providerCustomerId);
    if (!owner) return ignored(`no ${provider} customer ${event.providerCustomerId} in ${scope.tenantId}/${scope.appId}: the metadata does not match a recorded customer`);
    const claimedCustomer = claim.metadata[LEDGER_METADATA.customer];
    if (claimedCustomer && claimedCustomer !== owner.customerId) return ignored(`${provider} customer ${event.providerCustomerId} is not customer ${claimedCustomer}`);
    const wrong = await this.wrongMode(scope, event);
    if (wrong) return wrong;
    const existing = await store.findMethodByProviderRef(scope, provider, ref);
    if (existing && existing.customerId !== owner.customerId) return ignored(`payment method ${ref} belongs to another customer`, scope);
    const details = { brand: event.method.brand, last4: event.method.last4, expMonth: event.method.expMonth, expYear: event.method.expYear };
    const same = (m: PaymentMethod) => m.brand === details.brand && m.last4 === details.last4 && m.expMonth === details.expMonth && m.expYear === details.expYear;

    if (event.type === 'method.detached') {
      if (!existing || existing.detachedAt) return ignored(`payment method ${ref} is not attached in Ledger`, scope);
      const at = await this.ctx.customerNow(scope, owner.customerId);
      await this.ctx.events.atomic(scope, async (record) => {
        const m = await store.updateMethodDetails(scope, existing.id, { detachedAt: at });
        if (m) record({ type: 'payment_method.detached', object: m, before: existing });
      });
      return { outcome: 'applied', note: `payment method ${existing.id} detached`, scope };
    }
    if (existing) {
      if (existing.detachedAt) return ignored(`payment method ${existing.id} was detached: a detached method is not attached again`, scope);
      if (same(existing)) return ignored(`payment method ${existing.id} is recorded as it is`, scope);
      await this.ctx.events.atomic(scope, async (record) => {
        const m = await store.updateMethodDetails(scope, existing.id, details);
        if (m) record({ type: 'payment_method.updated', object: m, before: existing });
      });
      return { outcome: 'applied', note: `payment method ${existing.id} updated`, scope };
    }
    if (event.type === 'method.updated') return ignored(`payment method ${ref} is not recorded in Ledger: an update of it is not an attachment`, scope);
    if (owner.deletedAt) return ignored(`${provider} customer ${event.providerCustomerId} was deleted`, scope);
    const hasDefault = (await store.defaultMethod(scope, owner.customerId)) !== null;
    const method: PaymentMethod = {
      id: newId('paymentMethod'),
      customerId: owner.customerId,
      provider,
      providerRef: ref,
      ...details,
      isDefault: !hasDefault,
      createdAt: await this.ctx.customerNow(scope, owner.customerId),
      detachedAt: null,
    };
    try {
      await this.ctx.events.atomic(scope, async (record) => {
        await store.insertMethod(scope, method);
        record({ type: 'payment_method.attached', object: method });
      });
    } catch (e) {
      if (isLedgerError(e) && e.code === 'conflict') return ignored(`payment method ${ref} was recorded meanwhile`, scope);
      throw e;
    }
    return { outcome: 'applied', note: `payment method ${method.id} attached${method.isDefault ? ' (the default)' : ''}`, scope };
  }

  /** The provider deleted its customer: recorded as deleted, and its methods at that provider detached. */
  private async customerDeleted(provider: string, event: CustomerDeletedEvent): Promise<Decision> {
    const ignored = (note: string, scope: Scope | null = null): Decision => ({ outcome: 'ignored', note, scope });
    const claim = await this.claimedScope(provider, event.metadata);
    if (!claim) return ignored(`${provider} customer ${event.providerCustomerId} carries no Ledger scope in its metadata: not an object Ledger knows`);
    const { scope } = claim;
    const store = this.ctx.store.payments;
    const owner = await store.findProviderCustomer(scope, provider, event.providerCustomerId);
    if (!owner) return ignored(`no ${provider} customer ${event.providerCustomerId} in ${scope.tenantId}/${scope.appId}: the metadata does not match a recorded customer`);
    const wrong = await this.wrongMode(scope, event);
    if (wrong) return wrong;
    if (owner.deletedAt) return ignored(`${provider} customer ${event.providerCustomerId} is recorded as deleted already`, scope);
    const at = await this.ctx.customerNow(scope, owner.customerId);
    await store.markProviderCustomerDeleted(scope, provider, event.providerCustomerId, at);
    const methods = (await store.listMethods(scope, owner.customerId)).filter((m) => m.provider === provider);
    await this.ctx.events.atomic(scope, async (record) => {
      for (const m of methods) {
        const detached = await store.updateMethodDetails(scope, m.id, { detachedAt: at });
        if (detached && !m.detachedAt) record({ type: 'payment_method.detached', object: detached, before: m });
      }
    });
    return { outcome: 'applied', note: `${provider} customer ${event.providerCustomerId} deleted; ${methods.length} payment method(s) detached`, scope };
  }

  private async paymentEvent(provider: string, event: PaymentEvent): Promise<Decision> {
    const ignored = (note: string, scope: Scope | null = null): Decision => ({ outcome: 'ignored', note, scope });
    const m = event.metadata;
    const tenant = m[LEDGER_METADATA.tenant];
    const app = m[LEDGER_METADATA.app];
    const invoiceId = m[LEDGER_METADATA.invoice];
    if (!tenant || !app || !invoiceId) return ignored(`payment ${event.providerPaymentId} carries no Ledger scope and invoice in its metadata: not an object Ledger knows`);
    let scope: Scope;
    try {
      scope = toScope(tenant, app);
    } catch {
      return ignored(`payment ${event.providerPaymentId}'s metadata names no valid scope`);
    }
    const payment = await this.findPayment(scope, provider, invoiceId, event.providerPaymentId, m[LEDGER_IDEMPOTENCY_METADATA]);
    if (!payment) {
      return ignored(`no ${provider} payment ${event.providerPaymentId} of invoice ${invoiceId} in ${scope.tenantId}/${scope.appId}: the metadata does not match a stored payment`);
    }
    const mode = await this.scopes.mode(scope);
    if (mode !== event.mode) return ignored(`a ${event.mode}-mode event about a payment of a ${mode} scope`, scope);

    const result: ChargeResult =
      event.type === 'payment.succeeded'
        ? { status: 'succeeded', providerPaymentId: event.providerPaymentId }
        : event.type === 'payment.failed'
          ? { status: 'failed', providerPaymentId: event.providerPaymentId, code: event.code, reason: event.reason }
          : { status: 'requires_action', providerPaymentId: event.providerPaymentId, url: event.url };
    const r = await this.payments.applyProviderOutcome(scope, payment, result);
    if (!r.moved) return ignored(`payment ${payment.id} is ${payment.status}: a ${result.status} event cannot move it (payments move forward only)`, scope);
    return { outcome: 'applied', note: `payment ${payment.id} ${r.payment?.status}; invoice ${r.invoice.id} ${r.invoice.status}`, scope };
  }

  /** The payment the event is about, within the scope and invoice its metadata names, by the provider's id. */
  private async findPayment(scope: Scope, provider: string, invoiceId: string, providerPaymentId: string, idempotencyKey: string | undefined): Promise<Payment | null> {
    let candidates: Payment[];
    try {
      candidates = await this.ctx.store.payments.listPaymentsByInvoice(scope, invoiceId as InvoiceId);
    } catch (e) {
      if (isLedgerError(e)) return null;
      throw e;
    }
    const mine = candidates.filter((p) => p.provider === provider);
    return (
      mine.find((p) => p.providerPaymentId === providerPaymentId) ??
      // Ledger never recorded the provider's id (it died after the charge, before the write).
      (idempotencyKey ? mine.find((p) => p.providerPaymentId === null && p.idempotencyKey === idempotencyKey) : undefined) ??
      null
    );
  }
}
