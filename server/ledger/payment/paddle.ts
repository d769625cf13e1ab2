import type { Paddle, PaymentMethod as PaddleMethod, Transaction, Adjustment, Customer as PaddleCustomer, CurrencyCode } from '@paddle/paddle-node-sdk';
import type { Customer } from '../customer/types';
import { conflict, illegalState, invalid, type Scope } from '../types';
import { chargeMetadata, LEDGER_IDEMPOTENCY_METADATA } from './events';
import { paddleEnvironment, paddleMode, type PaddleEnvironment } from './paddle-env';
import { metadataOf, normalizePaddleEvent, paddleBrand, PADDLE_HANDLED_EVENTS, paddleMethodRef, parsePaddleMethodRef } from './paddle-events';
import { LEDGER_METADATA, type ChargeResult, type PaymentProvider, type ProviderMethod, type RefundResult } from './provider';

export { paddleEnvironment, paddleMode, type PaddleEnvironment } from './paddle-env';

/**
 * The Paddle provider (Paddle Billing, through `@paddle/paddle-node-sdk`). Paddle is a
 * merchant of record: it sells to the customer, so an invoice becomes a Paddle
 * *transaction* for the amount due (one non-catalog price), which the customer pays at
 * Paddle's checkout (`transaction.checkout.url`). Paddle's API cannot charge a saved
 * method for a one-off transaction (only its own subscriptions renew off-session), so a
 * charge answers `requires_action` with that URL until Paddle says the transaction is
 * paid; a saved method is offered at that checkout. Tenant, app, customer, invoice and
 * the idempotency key go in the transaction's `custom_data`, which webhooks carry back.
 *
 * One adapter serves one environment: `sandbox` serves test scopes, `production` live
 * ones; an API key's prefix (`pdl_sdbx_…`, `pdl_live_…`) must agree with it.
 *
 * The SDK is imported dynamically on first use, never at module load: a build or a
 * process that never pays through Paddle needs neither the key nor the SDK loaded, and
 * this file may be exported from the engine's index.
 */

export interface PaddleProviderConfig {
  /** `PADDLE_API_KEY`: `pdl_sdbx_apikey_…` (sandbox) or `pdl_live_apikey_…` (production); a legacy key without prefix is taken at the environment's word. */
  apiKey: string;
  /** `PADDLE_WEBHOOK_SECRET`: the notification destination's secret key (`pdl_ntfset_…`). */
  webhookSecret: string;
  /** `PADDLE_ENVIRONMENT`; by default the key's prefix says, else `sandbox`. */
  environment?: PaddleEnvironment;
  /**
   * Tests only: the API's base URL instead of the environment's. The SDK has no host
   * option, but its client takes an `environment` that is not one of its two names as
   * the base URL itself (`API_ENVIRONMENT_TO_BASE_URL_MAP[env] || env`): the least
   * intrusive way to point the real SDK at a local fake, with no global fetch patched.
   */
  baseUrl?: string;
  /** How long one API call may take before its outcome counts as unknown (ms; 30 s by default). The SDK itself never times out. */
  timeoutMs?: number;
  /** A catalog product for the invoices' prices; without it each transaction carries a non-catalog product named for the invoice. */
  productId?: string;
  /** The non-catalog product's tax category (Paddle's `standard` by default). */
  taxCategory?: string;
  /** The checkout page (a page of the app with Paddle.js); Paddle's default payment link when omitted. */
  checkoutUrl?: string;
  /** The provider's name, what scopes' settings name; `paddle` by default. */
  name?: string;
}

/** How many transactions (newest first) are searched for one with the charge's idempotency key. */
const IDEMPOTENCY_SCAN = 200;

// The currencies Paddle Billing takes (the SDK's CurrencyCode). Its amounts are in the
// currency's lowest denomination, which is ISO 4217's minor unit for each of them
// (JPY, KRW, CLP and VND have none), so the engine's minor units pass unchanged.
const PADDLE_CURRENCIES = new Set<string>(['USD', 'EUR', 'GBP', 'JPY', 'AUD', 'CAD', 'CHF', 'CLP', 'HKD', 'SGD', 'SEK', 'ARS', 'BRL', 'CNY', 'COP', 'CZK', 'DKK', 'HUF', 'ILS', 'INR', 'KRW', 'MXN', 'NOK', 'NZD', 'PEN', 'PLN', 'RUB', 'THB', 'TRY', 'TWD', 'UAH', 'VND', 'ZAR']);

type Sdk = typeof import('@paddle/paddle-node-sdk');

/** A notification's envelope, read without the SDK; null when the body is not one. */
function parseNotification(rawBody: string): { event_id: string; event_type: string } | null {
  try {
    const v = JSON.parse(rawBody) as { event_id?: unknown; event_type?: unknown } | null;
    return v && typeof v.event_id === 'string' && typeof v.event_type === 'string' ? { event_id: v.event_id, event_type: v.event_type } : null;
  } catch {
    return null;
  }
}

/**
 * Paddle refused the request for good (a bad amount, an unknown customer): resending it
 * will not help. Not so a rate limit, Paddle's own error, or a key Paddle does not take
 * (a configuration to fix, after which the same charge should go through).
 */
const isDefinitiveRefusal = (e: PaddleApiError) =>
  e.type === 'request_error' && !/^(too_many_requests|internal_error|forbidden|invalid_token|authentication_|permission_)/.test(e.code);

/** Paddle's 404 codes (`not_found`, `entity_not_found`, `…_not_found`): the object is not there. */
const isNotFound = (e: PaddleApiError) => /not_found$/.test(e.code);

/** An API error Paddle answered (its `error.code`), as opposed to no answer at all. */
interface PaddleApiError extends Error {
  code: string;
  type: string;
}

export function createPaddleProvider(config: PaddleProviderConfig): PaymentProvider {
  const environment = paddleEnvironment(config.apiKey, config.environment);
  const mode = paddleMode(environment);
  if (!config.webhookSecret) throw invalid('the Paddle provider needs its notification secret (PADDLE_WEBHOOK_SECRET)');
  const timeoutMs = config.timeoutMs ?? 30_000;
  const name = config.name ?? 'paddle';

  let loaded: Promise<Paddle> | null = null;
  let sdk: Sdk | null = null;
  const api = () =>
    (loaded ??= import('@paddle/paddle-node-sdk').then((m) => {
      sdk = m;
      return new m.Paddle(config.apiKey, {
        environment: (config.baseUrl ?? environment) as never, // see `baseUrl`
        logLevel: m.LogLevel.none,
      });
    }));
  // Any error an API call threw came after the SDK was loaded.
  const isApiError = (e: unknown): e is PaddleApiError => sdk !== null && e instanceof sdk.ApiError;

  /**
   * One API call, given up after `timeoutMs`: the SDK's fetch has no timeout, and a
   * charge whose answer never comes must count as unknown (the engine asks again).
   * The request itself is not aborted (the SDK takes no signal); its late answer is dropped.
   */
  function within<T>(what: string, call: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Paddle did not answer ${what} within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
  }

  const owns = (scope: Scope, customerId: string, data: Record<string, unknown> | null) =>
    data?.[LEDGER_METADATA.tenant] === scope.tenantId && data?.[LEDGER_METADATA.app] === scope.appId && data?.[LEDGER_METADATA.customer] === customerId;

  async function findByEmail(email: string): Promise<PaddleCustomer[]> {
    return within('a customer search', (await api()).customers.list({ email: [email], perPage: 50 }).next());
  }

  /**
   * The scope's Paddle customer (`ctm_…`) for a Ledger customer. Paddle keeps one
   * customer per email in an account, so the customer is found by email: ours (its
   * custom_data names this scope and customer), or one Ledger never claimed (created by a
   * checkout), which is claimed. One that another scope or customer claimed is a
   * `conflict`: sharing it would show one tenant's saved cards to another.
   */
  async function ensureCustomer(scope: Scope, customer: Customer): Promise<{ providerCustomerId: string }> {
    const customData = { [LEDGER_METADATA.tenant]: scope.tenantId, [LEDGER_METADATA.app]: scope.appId, [LEDGER_METADATA.customer]: customer.id };
    const claim = async (found: PaddleCustomer[]): Promise<{ providerCustomerId: string } | null> => {
      const c = found.find((x) => x.email.toLowerCase() === customer.email.toLowerCase());
      if (!c) return null;
      if (owns(scope, customer.id, c.customData)) return { providerCustomerId: c.id };
      if (c.customData?.[LEDGER_METADATA.customer]) {
        throw conflict(`the Paddle customer for ${customer.email} (${c.id}) belongs to another Ledger customer or scope: Paddle keeps one customer per email in an account`);
      }
      const updated = await within('a customer update', (await api()).customers.update(c.id, { customData: { ...(c.customData ?? {}), ...customData } }));
      return { providerCustomerId: updated.id };
    };
    const existing = await claim(await findByEmail(customer.email));
    if (existing) return existing;
    try {
      const created = await within('a customer create', (await api()).customers.create({ email: customer.email, name: customer.name, customData }));
      return { providerCustomerId: created.id };
    } catch (e) {
      // Created meanwhile (a concurrent call, or an earlier create that timed out): Paddle's
      // email uniqueness makes the create idempotent; read it back.
      if (isApiError(e) && e.code === 'customer_already_exists') {
        const again = await claim(await findByEmail(customer.email));
        if (again) return again;
      }
      throw e;
    }
  }

  const methodOf = (pm: PaddleMethod): ProviderMethod | null =>
    pm.card ? { providerRef: paddleMethodRef(pm.customerId, pm.id), brand: paddleBrand(pm.card.type), last4: pm.card.last4, expMonth: pm.card.expiryMonth, expYear: pm.card.expiryYear } : null;

  /** A transaction's state as a charge's outcome. */
  function outcomeOf(t: Transaction): ChargeResult {
    const lastError = [...t.payments].reverse().find((p) => p.errorCode)?.errorCode ?? null;
    switch (t.status) {
      case 'paid':
      case 'completed':
        return { status: 'succeeded', providerPaymentId: t.id };
      case 'canceled':
        return { status: 'failed', providerPaymentId: t.id, code: 'canceled', reason: 'The Paddle transaction was canceled.' };
      case 'past_due':
        return { status: 'failed', providerPaymentId: t.id, code: lastError ?? 'past_due', reason: `Paddle could not collect the payment${lastError ? ` (${lastError})` : ''}.` };
      default: {
        // draft, ready, billed: waiting for the customer at Paddle's checkout.
        const url = t.checkout?.url;
        // No checkout link (none in the request nor a default payment link at Paddle): the
        // transaction exists and is settled by its webhook when paid some other way.
        return url ? { status: 'requires_action', providerPaymentId: t.id, url } : { status: 'pending', providerPaymentId: t.id };
      }
    }
  }

  /**
   * The transaction an earlier call made for this idempotency key, if any. Paddle has no
   * Idempotency-Key header, so the key is written in the transaction's custom_data and
   * looked for before creating: the customer's newest transactions (the engine retries a
   * key within its invoice's lifetime, so it is among them), all statuses, since a paid
   * or canceled one is the outcome too. A retry after a timeout therefore finds the
   * transaction the first call created and never makes a second.
   */
  async function findCharge(customerId: string, idempotencyKey: string): Promise<Transaction | null> {
    const list = (await api()).transactions.list({ customerId: [customerId], orderBy: 'created_at[DESC]', perPage: 50 });
    let seen = 0;
    while (list.hasMore && seen < IDEMPOTENCY_SCAN) {
      const page = await within('a transaction search', list.next());
      if (page.length === 0) break;
      seen += page.length;
      const found = page.find((t) => t.customData?.[LEDGER_IDEMPOTENCY_METADATA] === idempotencyKey);
      if (found) return found;
    }
    return null;
  }

  /** The tag in a refund's reason that finds it again for its idempotency key (adjustments have no custom_data). */
  const refundTag = (idempotencyKey: string) => `[ledger ${idempotencyKey}]`;

  function refundOutcome(a: Adjustment): RefundResult {
    switch (a.status) {
      case 'approved':
        return { status: 'succeeded', providerRefundId: a.id };
      case 'rejected':
      case 'reversed':
        return { status: 'failed', providerRefundId: a.id, reason: `Paddle ${a.status} the refund` };
      default: // pending_approval: Paddle reviews refunds; adjustment.updated says when it decided
        return { status: 'pending', providerRefundId: a.id };
    }
  }

  return {
    name,
    modes: [mode],
    collectsAtCheckout: true,

    ensureCustomer,

    /**
     * Paddle has no set-up-only checkout: a payment method is saved when the customer pays
     * a transaction at Paddle's checkout. Saying so beats a fake URL.
     */
    async startSetup() {
      throw illegalState("Paddle saves a payment method only when the customer pays at Paddle's checkout: collect the invoice and send the customer to its checkout URL");
    },

    async listMethods(scope, customer) {
      const { providerCustomerId } = await ensureCustomer(scope, customer);
      const methods = await within('a payment method list', (await api()).paymentMethods.list(providerCustomerId, { perPage: 100 }).next());
      // Cards only, as Ledger records brand, last 4 and expiry (PayPal and wallets are still offered at checkout).
      return methods.map(methodOf).filter((m): m is ProviderMethod => m !== null);
    },

    async detachMethod(_scope, method) {
      const ref = parsePaddleMethodRef(method.providerRef);
      if (!ref) throw invalid(`${method.providerRef} is not a Paddle payment method reference (ctm_…/paymtd_…)`);
      try {
        await within('a payment method delete', (await api()).paymentMethods.delete(ref.customerId, ref.methodId));
      } catch (e) {
        // Gone at Paddle already: detached is what was asked.
        if (isApiError(e) && isNotFound(e)) return;
        throw e;
      }
    },

    /**
     * The invoice as one Paddle transaction per idempotency key (see `findCharge`):
     * automatically collected, one non-catalog price for the amount due, the Ledger
     * metadata in custom_data. Paid → succeeded; waiting → requires_action at its
     * checkout URL (asked again, it is read anew, so a transaction the customer paid is
     * then succeeded); canceled or past due → failed. Throws when Paddle did not answer.
     */
    async charge(scope, { invoice, customer, amount, method, idempotencyKey }) {
      // No saved method: the transaction is made for the customer at Paddle and paid at its checkout.
      const ref = method ? parsePaddleMethodRef(method.providerRef) : { customerId: (await ensureCustomer(scope, customer)).providerCustomerId };
      if (!ref) return { status: 'failed', providerPaymentId: null, code: 'payment_method_invalid', reason: `${method?.providerRef} is not a Paddle payment method` };
      const currency = invoice.currency.toUpperCase();
      if (!PADDLE_CURRENCIES.has(currency)) return { status: 'failed', providerPaymentId: null, code: 'currency_not_supported', reason: `Paddle does not take ${currency}` };
      try {
        const earlier = await findCharge(ref.customerId, idempotencyKey);
        if (earlier) return outcomeOf(earlier);
        const label = `Invoice ${invoice.number ?? invoice.id}`;
        const created = await within(
          'a transaction create',
          (await api()).transactions.create({
            items: [
              {
                quantity: 1,
                price: {
                  description: label,
                  name: label,
                  unitPrice: { amount: String(amount), currencyCode: currency as CurrencyCode },
                  // The amount due already has Ledger's tax in it.
                  taxMode: 'internal',
                  ...(config.productId ? { productId: config.productId } : { product: { name: label, taxCategory: (config.taxCategory ?? 'standard') as never } }),
                },
              },
            ],
            customerId: ref.customerId,
            currencyCode: currency as CurrencyCode,
            collectionMode: 'automatic',
            customData: chargeMetadata(scope, invoice, idempotencyKey),
            ...(config.checkoutUrl ? { checkout: { url: config.checkoutUrl } } : {}),
          }),
        );
        return outcomeOf(created);
      } catch (e) {
        if (isApiError(e) && isDefinitiveRefusal(e)) {
          // Nothing was created.
          return { status: 'failed', providerPaymentId: null, code: e.code, reason: e.message };
        }
        throw new Error(`Paddle did not answer the charge: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    },

    /**
     * A refund is a Paddle adjustment (action `refund`): the whole transaction, or part of
     * its one line item. Paddle reviews refunds, so most start `pending` and
     * `adjustment.updated` settles them. One adjustment per idempotency key: the key is
     * tagged in the reason and the transaction's refunds are searched for it first.
     */
    async refund(_scope, { providerPaymentId, amount, idempotencyKey }) {
      const paddle = await api();
      const tag = refundTag(idempotencyKey);
      try {
        const earlier = await within('an adjustment search', paddle.adjustments.list({ transactionId: [providerPaymentId], action: 'refund', perPage: 50 }).next());
        const found = earlier.find((a) => a.reason.includes(tag));
        if (found) return refundOutcome(found);
        const reason = `Refund through Ledger ${tag}`;
        let adjustment: Adjustment;
        if (amount === undefined) {
          adjustment = await within('a refund', paddle.adjustments.create({ action: 'refund', type: 'full', transactionId: providerPaymentId, reason }));
        } else {
          const t = await within('a transaction read', paddle.transactions.get(providerPaymentId));
          const item = t.details?.lineItems[0];
          if (!item) return { status: 'failed', providerRefundId: null, reason: `Paddle transaction ${providerPaymentId} has no line item to refund` };
          adjustment = await within(
            'a refund',
            paddle.adjustments.create({ action: 'refund', type: 'partial', transactionId: providerPaymentId, reason, items: [{ itemId: item.id, type: 'partial', amount: String(amount) }] }),
          );
        }
        return refundOutcome(adjustment);
      } catch (e) {
        // More than was paid, not paid yet, an unknown transaction: Paddle said no for good.
        if (isApiError(e) && isDefinitiveRefusal(e)) {
          return { status: 'failed', providerRefundId: null, reason: e.message };
        }
        throw e;
      }
    },

    /**
     * The custom_data of a transaction (`payment`) or a customer: what the inbox reads for
     * events whose object carries none (adjustments, payment methods). Null when Paddle
     * has no such object.
     */
    async lookupMetadata(kind, id) {
      const paddle = await api();
      try {
        const data = kind === 'payment' ? (await within('a transaction read', paddle.transactions.get(id))).customData : (await within('a customer read', paddle.customers.get(id))).customData;
        return metadataOf(data);
      } catch (e) {
        if (isApiError(e) && isNotFound(e)) return null;
        throw e;
      }
    },

    /**
     * Verified with the SDK's `webhooks.unmarshal`: the `Paddle-Signature` header
     * (`ts=…;h1=…`, HMAC-SHA256 of `ts:body` with the secret), refused when it does not
     * match or was signed more than the SDK's 5 seconds ago (Paddle's own tolerance), then
     * normalized (paddle-events.ts). A `payment_method.saved` event carries no card
     * details, so they are read from Paddle here.
     */
    async verifyWebhook(rawBody, headers) {
      const signature = Object.entries(headers).find(([k]) => k.toLowerCase() === 'paddle-signature')?.[1];
      if (!signature) throw invalid('the webhook has no Paddle-Signature header');
      const paddle = await api();
      let event: Awaited<ReturnType<Paddle['webhooks']['unmarshal']>>;
      try {
        event = await paddle.webhooks.unmarshal(rawBody, config.webhookSecret, signature);
      } catch (e) {
        if (e instanceof Error && e.message.startsWith('[Paddle]')) {
          throw invalid(`the Paddle webhook signature does not verify (a wrong secret, an altered body, or signed more than 5 s ago): ${e.message}`);
        }
        // Signed, but not JSON, or the SDK's entity for its type could not read it. An
        // event of a type Ledger does not act on is still stored (and ignored) rather than
        // refused, so a shape this SDK version does not know never makes Paddle retry it.
        const raw = parseNotification(rawBody);
        if (raw && !PADDLE_HANDLED_EVENTS.has(raw.event_type)) return [{ id: raw.event_id, providerType: raw.event_type, mode, metadata: {}, type: 'ignored' }];
        throw invalid(`the Paddle webhook body is not a notification: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (typeof event?.eventId !== 'string' || typeof event.eventType !== 'string' || typeof event.data !== 'object' || event.data === null) {
        throw invalid('the Paddle webhook body is not a notification (event_id, event_type and data are required)');
      }
      return [
        await normalizePaddleEvent(event, mode, async (customerId, methodId) => {
          try {
            return methodOf(await within('a payment method read', paddle.paymentMethods.get(customerId, methodId)));
          } catch (e) {
            if (isApiError(e) && isNotFound(e)) return null; // deleted since
            throw e;
          }
        }),
      ];
    },
  };
}
