import Stripe from 'stripe';
import type { Customer } from '../customer/types';
import type { ScopeMode } from '../scope/store';
import { exponent, invalid, illegalState, type Currency, type Scope } from '../types';
import { chargeMetadata, LEDGER_IDEMPOTENCY_METADATA } from './events';
import {
  LEDGER_METADATA,
  type ChargeResult,
  type PaymentProvider,
  type ProviderEvent,
  type ProviderEventBase,
  type ProviderMethod,
  type RefundResult,
} from './provider';

/**
 * The Stripe provider: Customers, payment methods set up through Checkout in setup mode,
 * PaymentIntents charged off-session (`confirm: true`) with the engine's idempotency
 * keys, Refunds, and webhooks verified with the SDK. The only file that imports `stripe`.
 *
 * One adapter serves one mode, the mode of its secret key: `sk_test_…` (or a restricted
 * `rk_test_…`) serves test scopes, `sk_live_…` live scopes, so a test scope can never
 * charge through a live key nor a live scope through a test key (the engine refuses a
 * provider whose `modes` lack the scope's mode), and a webhook from the other mode is
 * refused. A deployment with both registers two adapters under two names.
 *
 * The SDK client is created on first use, never at module load: a build or a process
 * that never pays through Stripe needs no key.
 */

/**
 * The API version, set explicitly so an SDK upgrade never changes Stripe's answers under
 * us (the version stripe@23.1.0 is typed against).
 */
export const STRIPE_API_VERSION = '2026-10-28.endive' satisfies Stripe.LatestApiVersion;

/** Stripe's default signature tolerance: a webhook signed longer ago than this is refused. */
export const STRIPE_WEBHOOK_TOLERANCE_S = 300;

export interface StripeProviderConfig {
  /** `STRIPE_SECRET_KEY`: `sk_test_…`/`rk_test_…` (test scopes) or `sk_live_…`/`rk_live_…` (live scopes). */
  secretKey: string;
  /** `STRIPE_WEBHOOK_SECRET`: the endpoint's signing secret, `whsec_…`. */
  webhookSecret: string;
  /**
   * Passed to the SDK's constructor: tests point it at a local fake (`host`, `port`,
   * `protocol: 'http'`, `maxNetworkRetries: 0`, `telemetry: false`, a short `timeout`).
   */
  stripeOptions?: Pick<Stripe.StripeConfig, 'host' | 'port' | 'protocol' | 'maxNetworkRetries' | 'telemetry' | 'timeout'>;
  /**
   * Sent as the PaymentIntent's `return_url`, so a charge that needs 3-D Secure answers
   * with a page to redirect the customer to (`next_action.redirect_to_url`).
   */
  returnUrl?: string;
  /**
   * Where the customer confirms a PaymentIntent that requires action when Stripe gives no
   * redirect URL (its `use_stripe_sdk` action, or an off-session `authentication_required`
   * decline), where Stripe.js confirms it with the customer: a page of the app.
   */
  confirmUrl?: (paymentIntentId: string) => string;
  /** The currency Checkout's setup sessions offer payment methods for; `usd` by default. */
  setupCurrency?: string;
  /** The provider's name, what scopes' settings name; `stripe` by default. */
  name?: string;
}

/** The scope mode a Stripe secret key serves, from its prefix; `invalid` for anything else. */
export function stripeKeyMode(secretKey: string): ScopeMode {
  const m = /^(sk|rk)_(test|live)_\S+$/.exec(secretKey);
  if (!m) throw invalid('a Stripe secret key starts with sk_test_, sk_live_, rk_test_ or rk_live_');
  return m[2] as ScopeMode;
}

// https://docs.stripe.com/currencies#zero-decimal and #three-decimal
const STRIPE_ZERO_DECIMAL = new Set(['BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'VND', 'VUV', 'XAF', 'XOF', 'XPF']);
const STRIPE_THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);

/** How many decimals Stripe's `amount` has for a currency (ISK and UGX: 2, though they have none). */
export function stripeExponent(currency: string): number {
  const c = currency.toUpperCase();
  return STRIPE_ZERO_DECIMAL.has(c) ? 0 : STRIPE_THREE_DECIMAL.has(c) ? 3 : 2;
}

/**
 * The engine's minor units (ISO 4217's exponent) as Stripe's `amount`. They agree for
 * almost every currency (USD 4900 is 4900, JPY 4900 is 4900); ISK and UGX, which have no
 * decimals, Stripe still takes as two-decimal amounts (5 ISK is 500). Three-decimal
 * amounts (KWD) must end in 0 for cards. `invalid` when Stripe cannot take the amount exactly.
 */
export function toStripeAmount(amount: number, currency: Currency | string): number {
  const shift = stripeExponent(currency) - exponent(currency.toUpperCase() as Currency);
  const value = shift >= 0 ? amount * 10 ** shift : amount / 10 ** -shift;
  if (!Number.isSafeInteger(value)) throw invalid(`Stripe cannot take ${amount} minor units of ${currency} exactly`);
  if (STRIPE_THREE_DECIMAL.has(currency.toUpperCase()) && value % 10 !== 0) {
    throw invalid(`Stripe takes ${currency} amounts in multiples of 10 minor units, not ${amount}`);
  }
  return value;
}

/** The ledger_* metadata Ledger writes on its Stripe objects. */
function scopeMetadata(scope: Scope, extra: { customer?: string; invoice?: string } = {}): Record<string, string> {
  const m: Record<string, string> = { [LEDGER_METADATA.tenant]: scope.tenantId, [LEDGER_METADATA.app]: scope.appId };
  if (extra.customer) m[LEDGER_METADATA.customer] = extra.customer;
  if (extra.invoice) m[LEDGER_METADATA.invoice] = extra.invoice;
  return m;
}

const methodOf = (pm: Stripe.PaymentMethod): ProviderMethod | null =>
  pm.card ? { providerRef: pm.id, brand: pm.card.brand, last4: pm.card.last4, expMonth: pm.card.exp_month, expYear: pm.card.exp_year } : null;

const idOf = (ref: string | { id: string } | null | undefined): string | null => (ref == null ? null : typeof ref === 'string' ? ref : ref.id);

/** Errors that say for sure the charge was not made and will not be by sending it again. */
function isDefinitiveRefusal(e: unknown): e is Stripe.errors.StripeError {
  if (e instanceof Stripe.errors.StripeCardError) return true;
  return (
    e instanceof Stripe.errors.StripeInvalidRequestError &&
    (e.statusCode === 400 || e.statusCode === 404) &&
    e.code !== 'idempotency_key_in_use' &&
    e.code !== 'lock_timeout'
  );
}

export function createStripeProvider(config: StripeProviderConfig): PaymentProvider {
  const mode = stripeKeyMode(config.secretKey);
  if (!config.webhookSecret) throw invalid('the Stripe provider needs a webhook signing secret (STRIPE_WEBHOOK_SECRET, whsec_…)');
  let client: Stripe | null = null;
  const stripe = () =>
    (client ??= new Stripe(config.secretKey, {
      apiVersion: STRIPE_API_VERSION,
      timeout: 30_000,
      appInfo: { name: 'Ledger' },
      ...config.stripeOptions,
    }));
  const confirmUrl = config.confirmUrl ?? ((id: string) => `/payments/confirm/${id}`);

  /** Finds the scope's Stripe customer for a Ledger customer (by email, then by our metadata), or creates it. */
  async function ensureCustomer(scope: Scope, customer: Customer): Promise<{ providerCustomerId: string }> {
    const metadata = scopeMetadata(scope, { customer: customer.id });
    const candidates = await stripe().customers.list({ email: customer.email, limit: 100 });
    const found = candidates.data.find(
      (c) => c.metadata[LEDGER_METADATA.customer] === customer.id && c.metadata[LEDGER_METADATA.tenant] === scope.tenantId && c.metadata[LEDGER_METADATA.app] === scope.appId,
    );
    if (found) return { providerCustomerId: found.id };
    const params = { email: customer.email, name: customer.name, metadata };
    const key = `ledger:customer:${scope.tenantId}:${scope.appId}:${customer.id}`;
    let created = await stripe().customers.create(params, { idempotencyKey: key });
    // Stripe replays a key's answer for 24 h: a customer deleted since then is replaced by a new one.
    const current = await stripe().customers.retrieve(created.id);
    if ('deleted' in current && current.deleted) created = await stripe().customers.create(params, { idempotencyKey: `${key}:after:${created.id}` });
    return { providerCustomerId: created.id };
  }

  /** A PaymentIntent's state as a charge's outcome. */
  function outcomeOf(pi: Stripe.PaymentIntent): ChargeResult {
    switch (pi.status) {
      case 'succeeded':
        return { status: 'succeeded', providerPaymentId: pi.id };
      case 'requires_action':
        return { status: 'requires_action', providerPaymentId: pi.id, url: pi.next_action?.redirect_to_url?.url ?? confirmUrl(pi.id) };
      case 'requires_payment_method': {
        const err = pi.last_payment_error;
        return { status: 'failed', providerPaymentId: pi.id, code: err?.decline_code ?? err?.code ?? 'payment_failed', reason: err?.message ?? 'The payment failed.' };
      }
      case 'canceled':
        return { status: 'failed', providerPaymentId: pi.id, code: 'canceled', reason: `The payment was canceled${pi.cancellation_reason ? ` (${pi.cancellation_reason})` : ''}.` };
      default: // processing, requires_capture, requires_confirmation: Stripe says later, by webhook
        return { status: 'pending', providerPaymentId: pi.id };
    }
  }

  function normalize(event: Stripe.Event): ProviderEvent {
    const object = event.data.object as unknown as { metadata?: Record<string, string> | null };
    const base: ProviderEventBase = { id: event.id, providerType: event.type, mode: event.livemode ? 'live' : 'test', metadata: { ...(object.metadata ?? {}) } };
    switch (event.type) {
      case 'payment_intent.succeeded':
        return { ...base, type: 'payment.succeeded', providerPaymentId: event.data.object.id };
      case 'payment_intent.payment_failed': {
        // An off-session authentication_required decline is not a failure: the customer can
        // still confirm this PaymentIntent (charge() answers requires_action for it). As a
        // failure it would end the payment, and their later payment_intent.succeeded would be ignored.
        if (event.data.object.last_payment_error?.code === 'authentication_required') {
          return { ...base, type: 'payment.requires_action', providerPaymentId: event.data.object.id, url: confirmUrl(event.data.object.id) };
        }
        const failed = outcomeOf({ ...event.data.object, status: 'requires_payment_method' });
        return { ...base, type: 'payment.failed', providerPaymentId: event.data.object.id, code: failed.status === 'failed' ? failed.code : 'payment_failed', reason: failed.status === 'failed' ? failed.reason : 'The payment failed.' };
      }
      case 'payment_intent.requires_action': {
        const pi = event.data.object;
        return { ...base, type: 'payment.requires_action', providerPaymentId: pi.id, url: pi.next_action?.redirect_to_url?.url ?? confirmUrl(pi.id) };
      }
      case 'charge.refund.updated':
      case 'refund.created':
      case 'refund.updated':
      case 'refund.failed': {
        const r = event.data.object;
        return { ...base, type: 'refund.updated', providerRefundId: r.id, providerPaymentId: idOf(r.payment_intent), status: r.status ?? 'pending' };
      }
      case 'charge.dispute.created': {
        // A dispute carries no metadata of ours: the inbox reads its PaymentIntent's (lookupMetadata).
        const d = event.data.object;
        return { ...base, type: 'dispute.created', providerDisputeId: d.id, providerPaymentId: idOf(d.payment_intent), reason: d.reason, status: d.status };
      }
      case 'payment_method.attached':
      case 'payment_method.updated':
      case 'payment_method.automatically_updated':
      case 'payment_method.detached': {
        const pm = event.data.object;
        const method = methodOf(pm);
        if (!method) return { ...base, type: 'ignored' }; // not a card: nothing Ledger records
        const type = event.type === 'payment_method.attached' ? 'method.attached' : event.type === 'payment_method.detached' ? 'method.detached' : 'method.updated';
        // A detached method has no customer any more; Stripe names the one it had in previous_attributes.
        const previous = (event.data as { previous_attributes?: { customer?: string | { id: string } | null } }).previous_attributes?.customer;
        return { ...base, type, providerCustomerId: idOf(pm.customer) ?? idOf(previous), method };
      }
      case 'customer.deleted':
        return { ...base, type: 'customer.deleted', providerCustomerId: event.data.object.id };
      default:
        return { ...base, type: 'ignored' };
    }
  }

  return {
    name: config.name ?? 'stripe',
    modes: [mode],
    // Stripe keeps an idempotency key 24 hours; past that a charge is looked up, never sent again.
    idempotencyKeyTtlMs: 24 * 60 * 60 * 1000,

    ensureCustomer,

    async startSetup(scope, customer, urls) {
      const { providerCustomerId } = await ensureCustomer(scope, customer);
      const metadata = scopeMetadata(scope, { customer: customer.id });
      const session = await stripe().checkout.sessions.create({
        mode: 'setup',
        customer: providerCustomerId,
        // Checkout offers the methods enabled in the Dashboard for this currency (required in setup mode).
        currency: (config.setupCurrency ?? 'usd').toLowerCase(),
        success_url: urls.successUrl,
        cancel_url: urls.cancelUrl,
        metadata,
        setup_intent_data: { metadata },
      });
      if (!session.url) throw illegalState(`Stripe gave no URL for the set-up session ${session.id}`);
      return { url: session.url };
    },

    async listMethods(scope, customer) {
      const { providerCustomerId } = await ensureCustomer(scope, customer);
      const list = await stripe().paymentMethods.list({ customer: providerCustomerId, type: 'card', limit: 100 });
      return list.data.map(methodOf).filter((m): m is ProviderMethod => m !== null);
    },

    async detachMethod(_scope, method) {
      try {
        await stripe().paymentMethods.detach(method.providerRef);
      } catch (e) {
        // Gone at Stripe already (deleted with its customer): detached is what was asked.
        if (e instanceof Stripe.errors.StripeInvalidRequestError && e.statusCode === 404) return;
        throw e;
      }
    },

    /**
     * One PaymentIntent per idempotency key: Stripe answers a repeated key with the first
     * request's answer, so a charge that timed out is asked again and charged once. Stripe
     * keeps that answer as it was, so a PaymentIntent that was still waiting (3-D Secure,
     * processing) is read again for its state now. Throws when the outcome is unknown
     * (a 5xx, a timeout, a connection error, a rate limit): the engine keeps the payment
     * pending and asks again with the same key.
     */
    async charge(scope, { invoice, amount, method, idempotencyKey }) {
      let stripeAmount: number;
      try {
        stripeAmount = toStripeAmount(amount, invoice.currency);
      } catch (e) {
        return { status: 'failed', providerPaymentId: null, code: 'amount_not_supported', reason: (e as Error).message };
      }
      if (!method) return { status: 'failed', providerPaymentId: null, code: 'payment_method_required', reason: 'Stripe charges off-session a saved payment method: the customer has none.' };
      try {
        // A saved card is charged through its customer: read it from the method itself.
        const pm = await stripe().paymentMethods.retrieve(method.providerRef);
        const customer = idOf(pm.customer);
        if (!customer) return { status: 'failed', providerPaymentId: null, code: 'payment_method_detached', reason: 'The card is no longer attached to the customer at Stripe.' };
        let pi = await stripe().paymentIntents.create(
          {
            amount: stripeAmount,
            currency: invoice.currency.toLowerCase(),
            customer,
            payment_method: pm.id,
            confirm: true,
            off_session: true,
            description: `Invoice ${invoice.number ?? invoice.id}`,
            // With the key: a webhook then finds a payment whose Stripe id Ledger never wrote (a crash after the charge).
            metadata: chargeMetadata(scope, invoice, idempotencyKey),
            ...(config.returnUrl ? { return_url: config.returnUrl } : {}),
          },
          { idempotencyKey },
        );
        if (pi.status === 'requires_action' || pi.status === 'processing') pi = await stripe().paymentIntents.retrieve(pi.id);
        return outcomeOf(pi);
      } catch (e) {
        if (e instanceof Stripe.errors.StripeCardError && e.code === 'authentication_required' && e.payment_intent) {
          // Off-session, the bank wants the customer (3-D Secure): they confirm on a page of
          // the app with Stripe.js. Stripe replays this error for the key even after they did,
          // so the PaymentIntent is read for its state now.
          const pi = await stripe().paymentIntents.retrieve(e.payment_intent.id);
          if (pi.status === 'requires_payment_method' || pi.status === 'requires_confirmation' || pi.status === 'requires_action') {
            return { status: 'requires_action', providerPaymentId: pi.id, url: pi.next_action?.redirect_to_url?.url ?? confirmUrl(pi.id) };
          }
          return outcomeOf(pi);
        }
        if (isDefinitiveRefusal(e)) {
          return {
            status: 'failed',
            providerPaymentId: e.payment_intent?.id ?? null,
            code: e.decline_code ?? e.code ?? 'card_declined',
            reason: e.message,
          };
        }
        throw new Error(`Stripe did not answer the charge: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    },

    async refund(scope, { providerPaymentId, amount, idempotencyKey }) {
      try {
        let stripeAmount: number | undefined;
        if (amount !== undefined) {
          const pi = await stripe().paymentIntents.retrieve(providerPaymentId);
          stripeAmount = toStripeAmount(amount, pi.currency);
        }
        const r = await stripe().refunds.create(
          // The scope in its metadata: charge.refund.updated then names it, as a charge's events do.
          {
            payment_intent: providerPaymentId,
            // With its key: a webhook finds a refund whose Stripe id Ledger never wrote (a timeout, a crash).
            metadata: { ...scopeMetadata(scope), [LEDGER_IDEMPOTENCY_METADATA]: idempotencyKey },
            ...(stripeAmount !== undefined ? { amount: stripeAmount } : {}),
          },
          { idempotencyKey },
        );
        if (r.status === 'succeeded') return { status: 'succeeded', providerRefundId: r.id };
        if (r.status === 'failed' || r.status === 'canceled') return { status: 'failed', providerRefundId: r.id, reason: r.failure_reason ?? `the refund was ${r.status}` };
        return { status: 'pending', providerRefundId: r.id } satisfies RefundResult;
      } catch (e) {
        // Over the amount paid, already refunded, an unknown payment: Stripe said no for good.
        if (e instanceof Stripe.errors.StripeInvalidRequestError && (e.statusCode === 400 || e.statusCode === 404)) {
          return { status: 'failed', providerRefundId: null, reason: e.message };
        }
        throw e;
      }
    },

    /**
     * The ledger_* metadata of a PaymentIntent or a Customer, for events whose object
     * carries none (disputes, payment methods). Null for an object Stripe does not know
     * (or a deleted customer).
     */
    /**
     * A PaymentIntent by its id, or else found by the idempotency key in its metadata with
     * Stripe's search (a charge whose answer never reached Ledger); null when there is none.
     */
    async lookupCharge(_scope, { providerPaymentId, idempotencyKey }) {
      try {
        if (providerPaymentId) return outcomeOf(await stripe().paymentIntents.retrieve(providerPaymentId));
        const found = await stripe().paymentIntents.search({ query: `metadata['${LEDGER_IDEMPOTENCY_METADATA}']:'${idempotencyKey.replace(/'/g, "\\'")}'`, limit: 1 });
        const pi = found.data[0];
        return pi ? outcomeOf(pi) : null;
      } catch (e) {
        if (e instanceof Stripe.errors.StripeInvalidRequestError && e.statusCode === 404) return null;
        throw new Error(`Stripe did not answer a charge lookup: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    },

    async lookupMetadata(kind, id) {
      try {
        if (kind === 'payment') return { ...(await stripe().paymentIntents.retrieve(id)).metadata };
        const c = await stripe().customers.retrieve(id);
        return 'deleted' in c && c.deleted ? null : { ...c.metadata };
      } catch (e) {
        if (e instanceof Stripe.errors.StripeInvalidRequestError && e.statusCode === 404) return null;
        throw e;
      }
    },

    async verifyWebhook(rawBody, headers) {
      const signature = Object.entries(headers).find(([k]) => k.toLowerCase() === 'stripe-signature')?.[1];
      if (!signature) throw invalid('the webhook has no Stripe-Signature header');
      let event: Stripe.Event;
      try {
        // Static: verifying needs the signing secret only, not an API client.
        event = Stripe.webhooks.constructEvent(rawBody, signature, config.webhookSecret, STRIPE_WEBHOOK_TOLERANCE_S);
      } catch (e) {
        if (e instanceof Stripe.errors.StripeSignatureVerificationError) {
          throw invalid(`the Stripe webhook signature does not verify (a wrong secret, an altered body, or signed more than ${STRIPE_WEBHOOK_TOLERANCE_S} s ago): ${e.message}`);
        }
        throw invalid('the Stripe webhook body is not a JSON event');
      }
      if (typeof event?.id !== 'string' || typeof event.type !== 'string' || typeof event.data?.object !== 'object' || event.data.object === null) {
        throw invalid('the Stripe webhook body is not an event (id, type and data.object are required)');
      }
      if (event.livemode !== (mode === 'live')) {
        throw invalid(`a ${event.livemode ? 'live' : 'test'} mode event reached the ${mode} mode Stripe endpoint`);
      }
      return [normalize(event)];
    },
  };
}
