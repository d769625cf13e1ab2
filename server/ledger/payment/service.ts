import type { EngineContext } from '../context';
import type { Customer } from '../customer/types';
import type { InvoiceService } from '../invoice/service';
import type { Invoice } from '../invoice/types';
import type { ScopeModes } from '../scope/service';
import {
  findById,
  illegalState,
  invalid,
  newId,
  pageOf,
  parseInput,
  type Page,
  type PageInput,
  type Scope,
} from '../types';
import type { WebhookDelivery } from './events';
import { atProvider } from './methods';
import { chargeKey, type ChargeResult, type PaymentProvider } from './provider';
import { sandboxCard, type SandboxEventType, type SandboxProvider } from './sandbox';
import {
  DEFAULT_PAYMENT_SETTINGS,
  listPaymentsSchema,
  paymentSettingsSchema,
  paymentStatesBefore,
  sandboxCardSchema,
  type ListPaymentsInput,
  type Payment,
  type PaymentAttempt,
  type PaymentMethod,
  type PaymentSettings,
  type PaymentSettingsInput,
  type SandboxCardInput,
} from './types';

/**
 * How long before the provider forgets an idempotency key an unsettled payment is looked up
 * instead of asked again with its key: clocks differ, and a request takes time.
 */
const KEY_TTL_MARGIN_MS = 60 * 60 * 1000;

/** What collecting an invoice came to: the invoice as it is now, and the payment made (none when nothing was due). */
export interface Collection {
  invoice: Invoice;
  payment: Payment | null;
}

/**
 * Payments: collecting an invoice through the scope's provider, the customer's payment
 * methods, and the scope's payment settings. The provider is a setting of the scope
 * (`settings.provider`, else the engine's default, `sandbox`), so one deployment serves
 * tenants on different providers.
 */
export class PaymentService {
  readonly #providers: ReadonlyMap<string, PaymentProvider>;

  /** The sandbox's own operations (test scopes only). */
  readonly sandbox: {
    attachCard(scope: Scope, customerId: string, card: SandboxCardInput): Promise<PaymentMethod>;
    /**
     * The customer confirmed a `requires_action` payment on the sandbox's page: the
     * signed `payment_intent.succeeded` the sandbox sends to `POST /api/webhooks/sandbox`
     * (deliver it there, or to `webhooks.receive('sandbox', …)`); the webhook marks the
     * invoice paid. Test scopes only.
     */
    confirm(scope: Scope, paymentId: string): Promise<WebhookDelivery>;
    /** A signed sandbox event about one of the scope's sandbox payments (to rehearse late, repeated or out-of-order webhooks). */
    eventFor(scope: Scope, paymentId: string, type: SandboxEventType): Promise<WebhookDelivery>;
    /** Signs any raw body as the sandbox does (at `timestampS`, now by default): the headers to send with it. */
    sign(body: string, timestampS?: number): Record<string, string>;
  };

  constructor(
    private readonly ctx: EngineContext,
    private readonly invoices: InvoiceService,
    private readonly scopes: ScopeModes,
    providers: ReadonlyMap<string, PaymentProvider>,
    private readonly defaultProvider: string,
  ) {
    this.#providers = providers;
    this.sandbox = {
      attachCard: (scope, customerId, card) => this.attachSandboxCard(scope, customerId, card),
      confirm: async (scope, paymentId) => {
        const { provider, providerPaymentId } = await this.sandboxCharge(scope, paymentId);
        return provider.confirm(providerPaymentId);
      },
      eventFor: async (scope, paymentId, type) => {
        const { provider, providerPaymentId } = await this.sandboxCharge(scope, paymentId);
        return provider.eventFor(providerPaymentId, type);
      },
      sign: (body, timestampS) => this.sandboxProvider().sign(body, timestampS),
    };
  }

  // --- settings --------------------------------------------------------------------

  async settings(scope: Scope): Promise<PaymentSettings> {
    return (await this.ctx.store.payments.getSettings(scope)) ?? { ...DEFAULT_PAYMENT_SETTINGS, retrySchedule: [...DEFAULT_PAYMENT_SETTINGS.retrySchedule] };
  }

  /** Changes the given settings only; a provider must be one this engine was given. */
  async updateSettings(scope: Scope, patch: PaymentSettingsInput): Promise<PaymentSettings> {
    const data = parseInput(paymentSettingsSchema, patch, 'payment settings');
    if (data.provider != null && !this.#providers.has(data.provider)) {
      throw invalid(`no payment provider "${data.provider}" is configured (known: ${[...this.#providers.keys()].join(', ')})`, [
        { path: 'provider', message: 'not a configured provider' },
      ]);
    }
    const before = await this.settings(scope);
    const updated = { ...before, ...data };
    // The settings have no id of their own: the event names the scope.
    const id = `${scope.tenantId}/${scope.appId}`;
    await this.ctx.events.atomic(scope, async (record) => {
      await this.ctx.store.payments.putSettings(scope, updated);
      record({ type: 'payment_settings.updated', object: { id, ...updated }, before: { id, ...before }, customerId: null });
    });
    return updated;
  }

  /** The scope's provider, refused where it may not serve the scope's mode (the sandbox in a live scope). */
  async providerFor(scope: Scope): Promise<PaymentProvider> {
    const name = (await this.settings(scope)).provider ?? this.defaultProvider;
    return this.checkedProvider(scope, name);
  }

  private async checkedProvider(scope: Scope, name: string): Promise<PaymentProvider> {
    const provider = this.#providers.get(name);
    if (!provider) throw illegalState(`the payment provider "${name}" is not configured in this deployment`);
    const mode = await this.scopes.mode(scope);
    if (!provider.modes.includes(mode)) {
      throw illegalState(
        mode === 'live'
          ? `this live scope has no real payment provider: "${name}" serves test scopes only, so no money would move; configure a provider such as stripe for it`
          : `the payment provider "${name}" does not serve ${mode} scopes`,
      );
    }
    return provider;
  }

  // --- payment methods -------------------------------------------------------------

  /** The customer's attached methods, oldest first. */
  async methods(scope: Scope, customerId: string): Promise<PaymentMethod[]> {
    const customer = await this.customer(scope, customerId);
    return this.ctx.store.payments.listMethods(scope, customer.id);
  }

  /**
   * Records the methods the scope's provider holds for the customer that Ledger does not
   * know yet (the first becomes the default when there is none); what a provider's
   * webhook or a reconcile will call. Fires `onProviderSync`.
   */
  async syncMethods(scope: Scope, customerId: string): Promise<PaymentMethod[]> {
    const customer = await this.customer(scope, customerId);
    const provider = await this.providerFor(scope);
    const known = await this.ctx.store.payments.listMethods(scope, customer.id);
    const added: PaymentMethod[] = [];
    let hasDefault = known.some((m) => m.isDefault);
    for (const m of await atProvider(this.ctx, provider.name, 'a payment method list', () => provider.listMethods(scope, customer))) {
      if (known.some((k) => k.provider === provider.name && k.providerRef === m.providerRef)) continue;
      const method = await this.recordMethod(scope, customer, provider.name, m, !hasDefault);
      hasDefault = true;
      added.push(method);
    }
    await this.ctx.plugins.emit('onProviderSync', scope, provider.name, { customerId: customer.id, added });
    return added;
  }

  /**
   * Attaches a sandbox test card to the customer (the sandbox's hosted page, later, does
   * the same): the number is checked and dropped; brand, last 4 and expiry are kept.
   * Test scopes only (`illegal_state` in a live scope); `invalid` for a malformed,
   * non-Luhn, unknown or expired card.
   */
  private async attachSandboxCard(scope: Scope, customerId: string, input: SandboxCardInput): Promise<PaymentMethod> {
    const card = parseInput(sandboxCardSchema, input, 'card');
    const customer = await this.customer(scope, customerId);
    await this.checkedProvider(scope, 'sandbox');
    const method = sandboxCard(card.number, card.expMonth, card.expYear, await this.ctx.customerNow(scope, customer.id));
    const existing = await this.ctx.store.payments.defaultMethod(scope, customer.id);
    return this.recordMethod(scope, customer, 'sandbox', method, card.makeDefault || !existing);
  }

  private sandboxProvider(): SandboxProvider {
    const p = this.#providers.get('sandbox') as Partial<SandboxProvider> | undefined;
    if (!p || typeof p.confirm !== 'function' || typeof p.sign !== 'function') throw illegalState('the sandbox provider is not the built-in one here');
    return p as SandboxProvider;
  }

  /** The sandbox's charge behind one of the scope's sandbox payments (test scopes only). */
  private async sandboxCharge(scope: Scope, paymentId: string): Promise<{ provider: SandboxProvider; providerPaymentId: string }> {
    const payment = await this.get(scope, paymentId);
    if (payment.provider !== 'sandbox') throw illegalState(`payment ${payment.id} is at ${payment.provider}, not the sandbox`);
    await this.checkedProvider(scope, 'sandbox');
    if (!payment.providerPaymentId) throw illegalState(`payment ${payment.id} has no sandbox charge yet`);
    return { provider: this.sandboxProvider(), providerPaymentId: payment.providerPaymentId };
  }

  private async recordMethod(scope: Scope, customer: Customer, provider: string, m: Omit<PaymentMethod, 'id' | 'customerId' | 'provider' | 'isDefault' | 'createdAt' | 'detachedAt'>, isDefault: boolean) {
    const method: PaymentMethod = {
      id: newId('paymentMethod'),
      customerId: customer.id,
      provider,
      providerRef: m.providerRef,
      brand: m.brand,
      last4: m.last4,
      expMonth: m.expMonth,
      expYear: m.expYear,
      isDefault,
      createdAt: await this.ctx.customerNow(scope, customer.id),
      detachedAt: null,
    };
    await this.ctx.events.atomic(scope, async (record) => {
      await this.ctx.store.payments.insertMethod(scope, method);
      record({ type: 'payment_method.attached', object: method });
    });
    return method;
  }

  // --- payments --------------------------------------------------------------------

  get(scope: Scope, id: string): Promise<Payment> {
    return findById('payment', id, (pid) => this.ctx.store.payments.getPayment(scope, pid));
  }

  /** An invoice's payments (oldest first, one page) or a customer's (paged). */
  async list(scope: Scope, filter: ListPaymentsInput, page: PageInput = {}): Promise<Page<Payment>> {
    const f = parseInput(listPaymentsSchema, filter, 'payment list');
    if (f.invoiceId) {
      const inv = await this.invoices.get(scope, f.invoiceId);
      return { items: await this.ctx.store.payments.listPaymentsByInvoice(scope, inv.id), nextCursor: null };
    }
    const customer = await this.customer(scope, f.customerId!);
    return pageOf(page, (p) => this.ctx.store.payments.listPaymentsByCustomer(scope, customer.id, p));
  }

  /** The calls made to the provider for a payment, oldest first. */
  async attempts(scope: Scope, paymentId: string): Promise<PaymentAttempt[]> {
    const payment = await this.get(scope, paymentId);
    return this.ctx.store.payments.listAttempts(scope, payment.id);
  }

  /**
   * Collects an open (or uncollectible) invoice now.
   * - Nothing due: it is paid at once; no provider is asked, no payment made.
   * - A payment of it succeeded already (a crash before the invoice was marked): it is
   *   marked paid; nothing is charged again.
   * - Its last payment is `pending` or `requires_action`: that payment is asked again,
   *   with its own idempotency key, so a charge that timed out is charged once.
   * - Otherwise attempt N + 1: the customer's default method is charged with the key
   *   `<invoice id>:attempt:<N + 1>`.
   * Succeeded: the payment `succeeded`, the invoice `paid` (onPaymentProcessed,
   * onInvoicePaid). Failed: the payment `failed` with the provider's code, the invoice
   * stays open (onPaymentProcessed, onInvoiceFailed). Requires action: the payment says
   * so, with the URL where the customer confirms. The provider not answering (a timeout):
   * the payment stays `pending`, the attempt is recorded as `error`, collect again.
   * `illegal_state` for a draft, paid or void invoice, or a customer with no default method.
   */
  collect(scope: Scope, invoiceId: string): Promise<Collection> {
    return this.collectInvoice(scope, invoiceId, false);
  }

  /** `collect`; `retried`: once more after a payment found never charged was canceled. */
  private async collectInvoice(scope: Scope, invoiceId: string, retried: boolean): Promise<Collection> {
    const inv = await this.invoices.get(scope, invoiceId);
    if (inv.status !== 'open' && inv.status !== 'uncollectible') {
      throw illegalState(`invoice ${inv.id} is ${inv.status}: only an open or uncollectible invoice can be paid`);
    }
    if (inv.amountDue === 0) return { invoice: await this.invoices.markPaid(scope, inv.id), payment: null };

    const store = this.ctx.store.payments;
    const earlier = await store.listPaymentsByInvoice(scope, inv.id);
    const succeeded = earlier.find((p) => p.status === 'succeeded');
    if (succeeded) return { invoice: await this.invoices.markPaid(scope, inv.id), payment: succeeded };

    const last = earlier.at(-1);
    const unsettled = last && (last.status === 'pending' || last.status === 'requires_action') ? last : null;
    const payment = unsettled ?? (await this.newPayment(scope, inv, last?.attempt ?? 0));
    const provider = await this.checkedProvider(scope, payment.provider);
    const number = (await store.listAttempts(scope, payment.id)).length + 1;
    const now = () => this.ctx.customerNow(scope, inv.customerId);

    // Asked again near or past the time the provider forgets its key, the same key could
    // charge a second time: the provider is asked what became of the charge instead.
    if (unsettled && provider.idempotencyKeyTtlMs !== undefined && (await now()).getTime() - unsettled.createdAt.getTime() >= provider.idempotencyKeyTtlMs - KEY_TTL_MARGIN_MS) {
      const looked = await this.lookUp(scope, inv, unsettled, provider, number, now);
      // No charge was ever made: that payment is canceled, and the invoice is charged anew (attempt N + 1).
      return looked.payment?.status === 'canceled' && !retried ? this.collectInvoice(scope, invoiceId, true) : looked;
    }

    const method = payment.paymentMethodId ? await store.getMethod(scope, payment.paymentMethodId) : null;
    if (!method && !provider.collectsAtCheckout) throw illegalState(`payment ${payment.id} has no payment method to charge`);
    const customer = await this.customer(scope, inv.customerId);
    let result: ChargeResult;
    try {
      result = await provider.charge(scope, { invoice: inv, customer, amount: payment.amount, method, idempotencyKey: payment.idempotencyKey });
    } catch (e) {
      // The outcome is unknown: the provider may have charged. The payment stays pending;
      // the next collect asks again with the same key.
      const message = e instanceof Error ? e.message : String(e);
      this.ctx.logger.warn('payment provider did not answer a charge', { provider: provider.name, paymentId: payment.id, error: message });
      await store.insertAttempt(scope, this.attempt(payment, number, 'error', null, message.slice(0, 500), await now()));
      return { invoice: inv, payment };
    }
    const failure = result.status === 'failed' ? { code: result.code, reason: result.reason } : null;
    await store.insertAttempt(scope, this.attempt(payment, number, result.status, failure?.code ?? null, failure?.reason ?? null, await now()));
    return this.settle(scope, inv, payment, result);
  }

  /**
   * A payment left unsettled past the provider's idempotency window: what became of its
   * charge, asked without charging (`lookupCharge`). Found: settled as a charge's answer.
   * None was made: the payment is `canceled` (nothing was charged). The provider cannot be
   * asked: `illegal_state`, and the provider's webhook settles it.
   */
  private async lookUp(scope: Scope, inv: Invoice, payment: Payment, provider: PaymentProvider, number: number, now: () => Promise<Date>): Promise<Collection> {
    const store = this.ctx.store.payments;
    if (!provider.lookupCharge) {
      throw illegalState(`payment ${payment.id} has waited longer than ${provider.name} keeps its idempotency key, and ${provider.name} cannot be asked about it without charging: its webhook settles it`);
    }
    let result: ChargeResult | null;
    try {
      result = await provider.lookupCharge(scope, { providerPaymentId: payment.providerPaymentId, idempotencyKey: payment.idempotencyKey });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.ctx.logger.warn('payment provider did not answer a charge lookup', { provider: provider.name, paymentId: payment.id, error: message });
      await store.insertAttempt(scope, this.attempt(payment, number, 'error', null, message.slice(0, 500), await now()));
      return { invoice: inv, payment };
    }
    if (result === null) {
      const message = `no charge was made at ${provider.name}: the request never reached it`;
      await store.insertAttempt(scope, this.attempt(payment, number, 'error', null, message, await now()));
      const canceled = await store.transitionPayment(scope, payment.id, ['pending', 'requires_action'], { status: 'canceled', failureMessage: message, actionUrl: null, updatedAt: await now() });
      return { invoice: await this.invoices.get(scope, inv.id), payment: canceled ?? (await this.get(scope, payment.id)) };
    }
    const failure = result.status === 'failed' ? { code: result.code, reason: result.reason } : null;
    await store.insertAttempt(scope, this.attempt(payment, number, result.status, failure?.code ?? null, failure?.reason ?? null, await now()));
    return this.settle(scope, inv, payment, result);
  }

  /**
   * A new pending payment: attempt N of the invoice, on the customer's default method (or
   * none, at a provider whose checkout takes the payment).
   */
  private async newPayment(scope: Scope, inv: Invoice, lastAttempt: number): Promise<Payment> {
    const provider = await this.providerFor(scope);
    const method = await this.ctx.store.payments.defaultMethod(scope, inv.customerId);
    if (!method && !provider.collectsAtCheckout) throw illegalState(`customer ${inv.customerId} has no default payment method to charge`);
    if (method && method.provider !== provider.name) {
      throw illegalState(`customer ${inv.customerId}'s default payment method is at ${method.provider}, but this scope collects through ${provider.name}`);
    }
    const attempt = lastAttempt + 1;
    const at = await this.ctx.customerNow(scope, inv.customerId);
    const payment: Payment = {
      id: newId('payment'),
      invoiceId: inv.id,
      customerId: inv.customerId,
      amount: inv.amountDue,
      currency: inv.currency,
      status: 'pending',
      provider: provider.name,
      attempt,
      idempotencyKey: chargeKey(inv.id, attempt),
      paymentMethodId: method?.id ?? null,
      providerPaymentId: null,
      failureCode: null,
      failureMessage: null,
      actionUrl: null,
      amountRefunded: 0,
      dispute: null,
      createdAt: at,
      updatedAt: at,
    };
    // A concurrent collect of the same attempt hits the unique key: a conflict, not a second charge.
    await this.ctx.store.payments.insertPayment(scope, payment);
    return payment;
  }

  private attempt(payment: Payment, number: number, outcome: PaymentAttempt['outcome'], code: string | null, message: string | null, at: Date): PaymentAttempt {
    return { id: newId('paymentAttempt'), paymentId: payment.id, invoiceId: payment.invoiceId, idempotencyKey: payment.idempotencyKey, number, outcome, failureCode: code, failureMessage: message, createdAt: at };
  }

  /**
   * What a provider's webhook said about a payment (the inbox calls this once the payment
   * was found in its scope): the same path as a charge's answer, forward only. `moved`:
   * false when the payment was past that state already (a failure arriving after the
   * success of the same payment, a duplicate): nothing changes.
   */
  async applyProviderOutcome(scope: Scope, payment: Payment, result: ChargeResult): Promise<Collection & { moved: boolean }> {
    const inv = await this.invoices.get(scope, payment.invoiceId);
    const target = result.status === 'pending' ? null : result.status;
    if (!target || !paymentStatesBefore(target).includes(payment.status)) {
      // Succeeded already, but the invoice was never marked (the write after the payment's
      // failed: this event's first processing, or a collect): the success settles it now.
      if (target === 'succeeded' && payment.status === 'succeeded' && (inv.status === 'open' || inv.status === 'uncollectible')) {
        return { invoice: await this.invoices.markPaid(scope, inv.id), payment, moved: true };
      }
      return { invoice: inv, payment, moved: false };
    }
    const r = await this.settle(scope, inv, payment, result);
    return { ...r, moved: r.payment?.status === target };
  }

  /** Moves the payment (forward only) and the invoice as the provider's answer says. */
  private async settle(scope: Scope, inv: Invoice, payment: Payment, result: ChargeResult): Promise<Collection> {
    if (result.status === 'pending') return { invoice: inv, payment };
    if (result.status === 'requires_action' && payment.status === 'requires_action') return { invoice: inv, payment };
    const updatedAt = await this.ctx.customerNow(scope, inv.customerId);
    const patch =
      result.status === 'succeeded'
        ? { status: 'succeeded' as const, providerPaymentId: result.providerPaymentId, actionUrl: null, updatedAt }
        : result.status === 'failed'
          ? { status: 'failed' as const, providerPaymentId: result.providerPaymentId, failureCode: result.code, failureMessage: result.reason, actionUrl: null, updatedAt }
          : { status: 'requires_action' as const, providerPaymentId: result.providerPaymentId, actionUrl: result.url, updatedAt };
    // The move and its events (payment.succeeded; payment.failed with invoice.payment_failed) commit together.
    const moved = await this.ctx.events.atomic(scope, async (record) => {
      const m = await this.ctx.store.payments.transitionPayment(scope, payment.id, paymentStatesBefore(patch.status), patch);
      if (m?.status === 'succeeded') record({ type: 'payment.succeeded', object: m, before: payment });
      if (m?.status === 'failed') {
        record({ type: 'payment.failed', object: m, before: payment });
        const failedInvoice = { ...inv, lastPayment: { id: m.id, failureCode: m.failureCode, failureMessage: m.failureMessage } };
        record({ type: 'invoice.payment_failed', object: failedInvoice });
      }
      return m;
    });
    // Another writer (a concurrent collect, later a webhook) moved it first: its word stands.
    if (!moved) return { invoice: await this.invoices.get(scope, inv.id), payment: await this.get(scope, payment.id) };
    if (moved.status === 'succeeded') {
      await this.ctx.plugins.emit('onPaymentProcessed', scope, moved);
      // A webhook may come when the invoice was settled otherwise meanwhile (voided, paid): it stays as it is.
      const current = await this.invoices.get(scope, inv.id);
      if (current.status !== 'open' && current.status !== 'uncollectible') {
        // Paid twice (a late success of an earlier attempt) or paid after a void: money to give back.
        this.ctx.logger.error('a payment succeeded for an invoice that is no longer open: refund it (a credit note with refund)', { paymentId: moved.id, invoiceId: inv.id, status: current.status });
        return { invoice: current, payment: moved };
      }
      return { invoice: await this.invoices.markPaid(scope, inv.id), payment: moved };
    }
    if (moved.status === 'failed') {
      await this.ctx.plugins.emit('onPaymentProcessed', scope, moved);
      await this.ctx.plugins.emit('onInvoiceFailed', scope, inv, { code: moved.failureCode, message: moved.failureMessage, payment: moved });
    }
    return { invoice: inv, payment: moved };
  }

  private customer(scope: Scope, id: string): Promise<Customer> {
    return findById('customer', id, (cid) => this.ctx.store.customers.get(scope, cid));
  }
}
