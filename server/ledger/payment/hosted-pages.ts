import type { EngineContext } from '../context';
import type { Customer } from '../customer/types';
import type { InvoiceService } from '../invoice/service';
import type { Invoice } from '../invoice/types';
import { findById, illegalState, LedgerError, type Scope } from '../types';
import { HOSTED_LINK_INVALID, type HostedLinks } from './hosted';
import type { PaymentMethods } from './methods';
import type { PaymentProvider } from './provider';
import type { SandboxProvider } from './sandbox';
import type { Collection, PaymentService } from './service';
import type { Payment, PaymentMethod, SandboxCardInput } from './types';
import type { WebhookInbox } from './webhooks';

/** What the hosted pay page shows. */
export interface HostedInvoice {
  scope: Scope;
  /** Who is asking to be paid (the scope's display name). */
  merchantName: string;
  invoice: Invoice;
  customer: { name: string; email: string };
  /** The customer's saved methods, oldest first. */
  methods: PaymentMethod[];
  /** The scope's provider; a new card can be typed on the page only for the sandbox. */
  provider: string;
  /** The invoice's last payment (the one whose outcome to show), if any. */
  lastPayment: Payment | null;
  /** Where the customer confirms `lastPayment` while it requires action (the sandbox's page). */
  confirmUrl: string | null;
}

/** What paying on the hosted page came to. */
export type HostedPayment =
  | { status: 'paid'; invoice: Invoice }
  | { status: 'failed'; code: string; message: string }
  | { status: 'requires_action'; confirmUrl: string }
  | { status: 'pending'; message: string };

/**
 * The operations behind the hosted pages (server/ledger/payment/hosted.ts signs their
 * links). Every one takes the page's token, the only authority such a page has: the scope
 * and the object come from it, never from the request. A bad, foreign or expired token,
 * or one naming an object that is gone: `not_found` with one message, whatever the cause.
 */
export class HostedPages {
  constructor(
    private readonly ctx: EngineContext,
    readonly links: HostedLinks,
    private readonly invoices: InvoiceService,
    private readonly payments: PaymentService,
    private readonly methods: PaymentMethods,
    private readonly webhooks: WebhookInbox,
    private readonly providers: ReadonlyMap<string, PaymentProvider>,
    private readonly merchantName: (scope: Scope) => string = defaultMerchantName,
  ) {}

  /**
   * The URL of an invoice's hosted pay page (valid 30 days): for an open or uncollectible
   * invoice, or a paid one (its receipt). `illegal_state` for a draft or void invoice.
   */
  async invoiceUrl(scope: Scope, invoiceId: string): Promise<string> {
    const inv = await this.invoices.get(scope, invoiceId);
    if (inv.status === 'draft' || inv.status === 'void') {
      throw illegalState(`invoice ${inv.id} is ${inv.status}: only an open, uncollectible or paid invoice has a hosted page`);
    }
    return this.links.payUrl(scope, inv.id);
  }

  // --- the pay page --------------------------------------------------------------------

  async invoice(token: string): Promise<HostedInvoice> {
    const { scope, invoiceId } = this.links.verify(token, 'pay');
    const invoice = await this.found(() => this.invoices.get(scope, invoiceId));
    if (invoice.status === 'draft') throw new LedgerError('not_found', HOSTED_LINK_INVALID);
    const customer = await this.customer(scope, invoice.customerId);
    const [methods, payments, provider] = await Promise.all([
      this.ctx.store.payments.listMethods(scope, invoice.customerId),
      this.ctx.store.payments.listPaymentsByInvoice(scope, invoice.id),
      this.payments.providerFor(scope).then(
        (p) => p.name,
        () => 'none',
      ),
    ]);
    const lastPayment = payments.at(-1) ?? null;
    const confirmUrl =
      lastPayment?.status === 'requires_action' && lastPayment.provider === 'sandbox' && lastPayment.providerPaymentId
        ? this.links.confirmUrl(scope, invoice.id, lastPayment.providerPaymentId)
        : (lastPayment?.status === 'requires_action' ? lastPayment.actionUrl : null);
    return {
      scope,
      merchantName: this.merchantName(scope),
      invoice,
      customer: { name: invoice.customer?.name ?? customer.name ?? '', email: invoice.customer?.email ?? customer.email },
      methods,
      provider,
      lastPayment,
      confirmUrl,
    };
  }

  /**
   * Pays the page's invoice now: with a saved method of the invoice's customer
   * (`methodId`, made the default), or a sandbox card typed on the page (saved as the
   * default), else the current default. A card typed here that is declined is not kept
   * (as Stripe's hosted page keeps no card that failed), and the previous default stays.
   * `invalid` for a malformed card; `not_found` for a method not the customer's.
   */
  async pay(token: string, choice: { methodId?: string; card?: SandboxCardInput } = {}): Promise<HostedPayment> {
    const { scope, invoiceId } = this.links.verify(token, 'pay');
    const invoice = await this.found(() => this.invoices.get(scope, invoiceId));
    if (invoice.status === 'paid') return { status: 'paid', invoice };
    if (invoice.status !== 'open' && invoice.status !== 'uncollectible') throw illegalState(`this invoice is ${invoice.status}: it cannot be paid`);

    let typed: PaymentMethod | null = null;
    const before = await this.ctx.store.payments.defaultMethod(scope, invoice.customerId);
    if (choice.card) {
      // A typed card is a sandbox card: refused before anything is saved where the scope
      // collects through another provider (it would replace the customer's real default).
      const provider = await this.payments.providerFor(scope);
      if (provider.name !== 'sandbox') throw illegalState(`this invoice is collected through ${provider.name}: pay it with a saved card`);
      typed = await this.payments.sandbox.attachCard(scope, invoice.customerId, { ...choice.card, makeDefault: true });
    } else if (choice.methodId) {
      const method = await this.methods.get(scope, choice.methodId);
      if (method.customerId !== invoice.customerId) throw new LedgerError('not_found', `payment method ${method.id} not found`);
      if (!method.isDefault) await this.methods.setDefault(scope, method.id);
    }

    // A typed card that did not pay is not kept, and the previous default stays.
    const dropTyped = async () => {
      if (!typed) return;
      await this.methods.detach(scope, typed.id);
      if (before) await this.ctx.store.payments.setDefaultMethod(scope, before.customerId, before.id);
    };
    let collected: Collection;
    try {
      collected = await this.payments.collect(scope, invoice.id);
    } catch (e) {
      await dropTyped().catch(() => {});
      throw e;
    }
    const { invoice: after, payment } = collected;
    if (after.status === 'paid') return { status: 'paid', invoice: after };
    if (payment?.status === 'failed') {
      await dropTyped();
      return { status: 'failed', code: payment.failureCode ?? 'payment_failed', message: payment.failureMessage ?? 'The payment failed.' };
    }
    if (payment?.status === 'requires_action') {
      const url = payment.provider === 'sandbox' && payment.providerPaymentId ? this.links.confirmUrl(scope, invoice.id, payment.providerPaymentId) : payment.actionUrl;
      if (url) return { status: 'requires_action', confirmUrl: url };
    }
    return { status: 'pending', message: 'The payment is being processed. This page will show it once your bank confirms it.' };
  }

  // --- the sandbox's add-a-card page ---------------------------------------------------

  async setup(token: string): Promise<{ scope: Scope; merchantName: string; customer: Customer; successUrl: string; cancelUrl: string }> {
    const c = this.links.verify(token, 'setup');
    const customer = await this.customer(c.scope, c.customerId);
    return { scope: c.scope, merchantName: this.merchantName(c.scope), customer, successUrl: c.successUrl, cancelUrl: c.cancelUrl };
  }

  /** Saves a sandbox card as the customer's default; the URL to send them on to. `invalid` for a malformed or unknown card. */
  async addCard(token: string, card: SandboxCardInput): Promise<{ method: PaymentMethod; successUrl: string }> {
    const c = this.links.verify(token, 'setup');
    await this.customer(c.scope, c.customerId);
    const method = await this.payments.sandbox.attachCard(c.scope, c.customerId, { ...card, makeDefault: true });
    return { method, successUrl: c.successUrl };
  }

  // --- the sandbox's 3-D Secure page ---------------------------------------------------

  async confirmation(token: string): Promise<{ scope: Scope; merchantName: string; invoice: Invoice; payment: Payment; payUrl: string }> {
    const c = this.links.verify(token, 'confirm');
    const invoice = await this.found(() => this.invoices.get(c.scope, c.invoiceId));
    const payment = (await this.ctx.store.payments.listPaymentsByInvoice(c.scope, invoice.id)).find((p) => p.providerPaymentId === c.providerPaymentId && p.provider === 'sandbox');
    if (!payment) throw new LedgerError('not_found', HOSTED_LINK_INVALID);
    return { scope: c.scope, merchantName: this.merchantName(c.scope), invoice, payment, payUrl: this.links.payUrl(c.scope, invoice.id) };
  }

  /**
   * The customer completed (or failed) 3-D Secure: the sandbox's signed webhook is
   * delivered through the inbox, as it would arrive at `POST /api/webhooks/sandbox`, and
   * processed before this returns; the pay page's URL to go back to. A payment that no
   * longer requires action, or whose invoice is no longer open or uncollectible (voided,
   * paid otherwise), is not completed: nothing is charged.
   */
  async authenticate(token: string, outcome: 'complete' | 'fail'): Promise<{ payUrl: string; payment: Payment }> {
    const { scope, invoice, payment, payUrl } = await this.confirmation(token);
    if (payment.status !== 'requires_action') return { payUrl, payment };
    // An invoice voided (or paid otherwise) since: completing would charge for nothing owed.
    if (outcome === 'complete' && invoice.status !== 'open' && invoice.status !== 'uncollectible') return { payUrl, payment };
    const delivery = outcome === 'complete' ? await this.payments.sandbox.confirm(scope, payment.id) : this.sandbox().failAuthentication(payment.providerPaymentId!);
    await this.webhooks.receive('sandbox', delivery.body, delivery.headers);
    await this.webhooks.whenIdle();
    return { payUrl, payment: await this.payments.get(scope, payment.id) };
  }

  private sandbox(): SandboxProvider {
    const p = this.providers.get('sandbox') as Partial<SandboxProvider> | undefined;
    if (!p || typeof p.failAuthentication !== 'function') throw illegalState('the sandbox provider is not the built-in one here');
    return p as SandboxProvider;
  }

  private customer(scope: Scope, id: string): Promise<Customer> {
    return this.found(() => findById('customer', id, (cid) => this.ctx.store.customers.get(scope, cid)));
  }

  /** A token's object that is gone (deleted with its test clock) reads as an invalid link. */
  private async found<T>(load: () => Promise<T>): Promise<T> {
    try {
      return await load();
    } catch (e) {
      if (e instanceof LedgerError && (e.code === 'not_found' || e.code === 'invalid')) throw new LedgerError('not_found', HOSTED_LINK_INVALID);
      throw e;
    }
  }
}

/** `acme-corp` → `Acme Corp`: the scope's tenant as a name, until scopes have display names. */
export function defaultMerchantName(scope: Scope): string {
  return scope.tenantId
    .split(/[-_]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
}
