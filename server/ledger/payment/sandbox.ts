import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { illegalState, invalid, type Scope } from '../types';
import { chargeMetadata, type WebhookDelivery } from './events';
import type { Customer } from '../customer/types';
import type { ChargeResult, PaymentProvider, ProviderEvent, ProviderMethod, RefundResult } from './provider';

/**
 * The sandbox provider: in process, offline, deterministic by Stripe's test card numbers.
 * It serves test scopes only (`modes: ['test']`): nothing it "charges" is real money.
 *
 * A card number is checked (Luhn, a known test card) and forgotten at once: what is kept
 * is the brand, the last 4, the expiry, and a provider reference that names how the card
 * behaves (`sandbox_card_declined_…`), so a charge's outcome needs no stored state and
 * is the same after a restart, on any instance.
 */

/** How a test card behaves when charged. */
export type SandboxBehaviour = 'succeeds' | 'declined' | 'insufficient_funds' | 'fails_on_charge' | 'requires_action';

/** Stripe's test cards the sandbox knows (https://docs.stripe.com/testing). */
export const SANDBOX_CARDS: Readonly<Record<string, SandboxBehaviour>> = {
  '4242424242424242': 'succeeds',
  '5555555555554444': 'succeeds',
  '4000000000000002': 'declined',
  '4000000000009995': 'insufficient_funds',
  '4000000000000341': 'fails_on_charge',
  '4000002500003155': 'requires_action',
};

/** The Luhn check every card number passes (ISO/IEC 7812). */
export function luhnValid(digits: string): boolean {
  if (!/^\d{12,19}$/.test(digits)) return false;
  let total = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    total += d;
  }
  return total % 10 === 0;
}

export function cardBrand(digits: string): string {
  if (/^4/.test(digits)) return 'visa';
  if (/^(5[1-5]|2[2-7])/.test(digits)) return 'mastercard';
  if (/^3[47]/.test(digits)) return 'amex';
  if (/^6(011|5)/.test(digits)) return 'discover';
  return 'unknown';
}

const REF = /^sandbox_card_(succeeds|declined|insufficient_funds|fails_on_charge|requires_action)_[0-9a-f]{16}$/;

export function behaviourOf(providerRef: string): SandboxBehaviour | null {
  return (REF.exec(providerRef)?.[1] as SandboxBehaviour | undefined) ?? null;
}

/**
 * A card typed into the sandbox, as a method the engine records; the number itself goes
 * nowhere. `invalid` for a malformed number, one failing the Luhn check, a number that
 * is not one of the test cards, or an expired card (at `now`).
 */
export function sandboxCard(number: string, expMonth: number, expYear: number, now: Date): ProviderMethod {
  const issues = (message: string) => [{ path: 'number', message }];
  if (!/^\d{12,19}$/.test(number)) throw invalid('a card number is 12 to 19 digits', issues('12 to 19 digits'));
  if (!luhnValid(number)) throw invalid('the card number is not valid (it fails the Luhn check)', issues('fails the Luhn check'));
  const behaviour = SANDBOX_CARDS[number];
  if (!behaviour) {
    throw invalid('the sandbox takes only test card numbers, such as 4242 4242 4242 4242', issues('not a sandbox test card'));
  }
  const endOfExpiry = Date.UTC(expYear, expMonth, 1); // the first instant after the expiry month
  if (endOfExpiry <= now.getTime()) throw invalid(`the card expired in ${expMonth}/${expYear}`, [{ path: 'expYear', message: 'expired' }]);
  return {
    providerRef: `sandbox_card_${behaviour}_${randomBytes(8).toString('hex')}`,
    brand: cardBrand(number),
    last4: number.slice(-4),
    expMonth,
    expYear,
  };
}

const FAILURES: Partial<Record<SandboxBehaviour, { code: string; reason: string }>> = {
  declined: { code: 'card_declined', reason: 'Your card was declined.' },
  insufficient_funds: { code: 'insufficient_funds', reason: 'Your card has insufficient funds.' },
  fails_on_charge: { code: 'card_declined', reason: 'Your card was declined.' },
};

/** Stripe's code and message when the customer fails 3-D Secure. */
export const AUTHENTICATION_FAILURE = {
  code: 'payment_intent_authentication_failure',
  reason: 'We are unable to authenticate your payment method. Please choose a different payment method and try again.',
} as const;

export interface SandboxOptions {
  /**
   * Where the customer confirms a payment that requires action: the engine passes the
   * signed URL of its hosted confirmation page (server/ledger/payment/hosted.ts);
   * `/sandbox/confirm/<id>` when the sandbox is used on its own.
   */
  actionUrl?: (providerPaymentId: string, charge: { scope: Scope; invoiceId: string }) => string;
  /**
   * The sandbox's hosted add-a-card page for a customer (`startSetup`): the engine passes
   * its signed set-up URL. Without it `startSetup` is refused.
   */
  setupUrl?: (scope: Scope, customer: Customer, urls: { successUrl: string; cancelUrl: string }) => string;
  /**
   * The secret its webhooks are signed with (HMAC-SHA256). Random per sandbox when
   * omitted: enough for one process; give every instance the same one when several
   * instances serve one deployment (a delivery may reach any of them).
   */
  webhookSecret?: string;
  /** How far a webhook's timestamp may be from now, in seconds (Stripe's default, 300). */
  toleranceS?: number;
  /** The time signatures are checked at (ms since the epoch); the real time by default. */
  nowMs?: () => number;
}

/** The header carrying a sandbox webhook's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
export const SANDBOX_SIGNATURE_HEADER = 'ledger-sandbox-signature';

/** The sandbox's event types (Stripe's names, so the sandbox rehearses Stripe's flow). */
export type SandboxEventType = 'payment_intent.succeeded' | 'payment_intent.payment_failed' | 'payment_intent.requires_action';

/** Signs a raw body as the sandbox does: Stripe's scheme, `t=…,v1=…` over `${t}.${body}`. */
export function signSandboxPayload(secret: string, body: string, timestampS: number): string {
  const mac = createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex');
  return `t=${timestampS},v1=${mac}`;
}

/** The sandbox provider, with what only the sandbox does: confirm a payment as its hosted page will, and sign events. */
export interface SandboxProvider extends PaymentProvider {
  /**
   * The customer confirmed a `requires_action` payment (3-D Secure passed): the sandbox's
   * charge is now succeeded (a collect with its key answers so too), and the signed
   * `payment_intent.succeeded` it sends to `POST /api/webhooks/sandbox` is returned for
   * delivery. `invalid` for a payment the sandbox never charged.
   */
  confirm(providerPaymentId: string): WebhookDelivery;
  /**
   * The customer failed 3-D Secure on the sandbox's page: the charge is now failed
   * (`payment_intent_authentication_failure`, as Stripe's test page's "Fail"), and the
   * signed `payment_intent.payment_failed` is returned for delivery. `invalid` for a
   * payment the sandbox never charged; `illegal_state` unless it requires action.
   */
  failAuthentication(providerPaymentId: string): WebhookDelivery;
  /** A signed event about one of its charges, as the sandbox would send it (for tests and the hosted pages). */
  eventFor(providerPaymentId: string, type: SandboxEventType): WebhookDelivery;
  /** Signs any raw body with the sandbox's secret (at `timestampS`, now by default): the headers to send with it. */
  sign(body: string, timestampS?: number): Record<string, string>;
}

const metadataSchema = z.record(z.string(), z.string());
const sandboxEventSchema = z.object({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(255),
  created: z.number().int().optional(),
  data: z
    .object({
      object: z
        .object({
          id: z.string().min(1).max(255),
          metadata: metadataSchema.default({}),
          last_payment_error: z.object({ code: z.string(), message: z.string() }).partial().nullish(),
          next_action: z.object({ redirect_to_url: z.object({ url: z.string() }) }).nullish(),
        })
        .passthrough(),
    })
    .passthrough()
    .optional(),
});

/**
 * The sandbox as a `PaymentProvider`. It remembers each idempotency key's outcome in
 * memory, as Stripe does for 24 hours, so a repeated charge answers the first one's.
 */
export function createSandboxProvider(options: SandboxOptions = {}): SandboxProvider {
  const charges = new Map<string, ChargeResult>();
  /** Its charges by its own id: the key and the metadata (scope, invoice) its events carry. */
  const byPaymentId = new Map<string, { idempotencyKey: string; metadata: Record<string, string>; scope: Scope; invoiceId: string }>();
  const refunds = new Map<string, RefundResult>();
  const actionUrl = options.actionUrl ?? ((id: string) => `/sandbox/confirm/${id}`);
  /** The confirmation URL of one of its charges, from what it recorded at the charge. */
  const actionUrlOf = (providerPaymentId: string) => {
    const charge = byPaymentId.get(providerPaymentId);
    return charge ? actionUrl(providerPaymentId, { scope: charge.scope, invoiceId: charge.invoiceId }) : `/sandbox/confirm/${providerPaymentId}`;
  };
  const secret = options.webhookSecret ?? randomBytes(32).toString('hex');
  const toleranceS = options.toleranceS ?? 300;
  const nowS = () => Math.floor((options.nowMs ?? Date.now)() / 1000);
  const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

  const sign = (body: string, timestampS = nowS()) => ({ 'content-type': 'application/json', [SANDBOX_SIGNATURE_HEADER]: signSandboxPayload(secret, body, timestampS) });

  function eventFor(providerPaymentId: string, type: SandboxEventType): WebhookDelivery {
    const charge = byPaymentId.get(providerPaymentId);
    if (!charge) throw invalid(`the sandbox made no payment ${providerPaymentId}`);
    const result = charges.get(charge.idempotencyKey);
    const object: Record<string, unknown> = { id: providerPaymentId, object: 'payment_intent', metadata: charge.metadata };
    if (type === 'payment_intent.payment_failed') {
      object.last_payment_error = result?.status === 'failed' ? { code: result.code, message: result.reason } : { code: 'card_declined', message: 'Your card was declined.' };
    }
    if (type === 'payment_intent.requires_action') object.next_action = { redirect_to_url: { url: actionUrlOf(providerPaymentId) } };
    const body = JSON.stringify({ id: id('evt_sandbox'), object: 'event', type, created: nowS(), data: { object } });
    return { body, headers: sign(body) };
  }

  function verify(rawBody: string, headers: Record<string, string | undefined>): void {
    const header = headers[SANDBOX_SIGNATURE_HEADER];
    if (!header) throw invalid(`no ${SANDBOX_SIGNATURE_HEADER} header`);
    const parts = header.split(',').map((p) => p.trim().split('=', 2) as [string, string | undefined]);
    const t = Number(parts.find(([k]) => k === 't')?.[1]);
    const signatures = parts.filter(([k, v]) => k === 'v1' && v).map(([, v]) => v!);
    if (!Number.isInteger(t) || signatures.length === 0) throw invalid(`the ${SANDBOX_SIGNATURE_HEADER} header is not "t=…,v1=…"`);
    if (Math.abs(nowS() - t) > toleranceS) throw invalid(`the signature's timestamp is more than ${toleranceS} s from now (a stale or replayed delivery)`);
    const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${rawBody}`).digest('hex'));
    const ok = signatures.some((sig) => {
      const given = Buffer.from(sig);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
    if (!ok) throw invalid('the signature does not match the body');
  }

  function normalize(rawBody: string): ProviderEvent[] {
    let json: unknown;
    try {
      json = JSON.parse(rawBody);
    } catch {
      throw invalid('the webhook body is not JSON');
    }
    const r = sandboxEventSchema.safeParse(json);
    if (!r.success) {
      throw invalid(
        'the webhook body is not a sandbox event: ' + r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
        r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    }
    const e = r.data;
    const o = e.data?.object;
    // The sandbox serves test scopes only: all its events are test-mode events.
    const base = { id: e.id, providerType: e.type, mode: 'test' as const };
    const needObject = () => {
      if (!o) throw invalid(`a ${e.type} event needs data.object`, [{ path: 'data.object', message: 'required' }]);
      return o;
    };
    switch (e.type) {
      case 'payment_intent.succeeded': {
        const pi = needObject();
        return [{ ...base, type: 'payment.succeeded', providerPaymentId: pi.id, metadata: pi.metadata }];
      }
      case 'payment_intent.payment_failed': {
        const pi = needObject();
        const err = pi.last_payment_error ?? {};
        return [{ ...base, type: 'payment.failed', providerPaymentId: pi.id, code: err.code ?? 'card_declined', reason: err.message ?? 'The payment failed.', metadata: pi.metadata }];
      }
      case 'payment_intent.requires_action': {
        const pi = needObject();
        return [{ ...base, type: 'payment.requires_action', providerPaymentId: pi.id, url: pi.next_action?.redirect_to_url.url ?? actionUrlOf(pi.id), metadata: pi.metadata }];
      }
      default:
        return [{ ...base, type: 'ignored', metadata: o?.metadata ?? {} }];
    }
  }

  return {
    name: 'sandbox',
    modes: ['test'],
    async ensureCustomer(_scope, customer) {
      return { providerCustomerId: `sandbox_${customer.id}` };
    },
    async startSetup(scope, customer, urls) {
      if (!options.setupUrl) throw illegalState("this sandbox has no hosted set-up page: attach a test card with payments.sandbox.attachCard");
      return { url: options.setupUrl(scope, customer, urls) };
    },
    async listMethods() {
      // The sandbox keeps no methods of its own: the engine's records are the only copy.
      return [];
    },
    async detachMethod() {},
    async charge(scope: Scope, { invoice, method, idempotencyKey }) {
      const known = charges.get(idempotencyKey);
      if (known) return known;
      if (!method) throw invalid('the sandbox charges a saved test card: attach one first');
      const behaviour = behaviourOf(method.providerRef);
      if (!behaviour) throw invalid(`payment method ${method.id} is not a sandbox card`);
      const paymentId = id('sandbox_pay');
      const failure = FAILURES[behaviour];
      const result: ChargeResult = failure
        ? { status: 'failed', providerPaymentId: paymentId, ...failure }
        : behaviour === 'requires_action'
          ? { status: 'requires_action', providerPaymentId: paymentId, url: actionUrl(paymentId, { scope, invoiceId: invoice.id }) }
          : { status: 'succeeded', providerPaymentId: paymentId };
      charges.set(idempotencyKey, result);
      byPaymentId.set(paymentId, { idempotencyKey, metadata: chargeMetadata(scope, invoice, idempotencyKey), scope, invoiceId: invoice.id });
      return result;
    },
    async refund(_scope, { idempotencyKey }) {
      let r = refunds.get(idempotencyKey);
      if (!r) refunds.set(idempotencyKey, (r = { status: 'succeeded', providerRefundId: id('sandbox_re') }));
      return r;
    },
    async verifyWebhook(rawBody, headers) {
      verify(rawBody, headers);
      return normalize(rawBody);
    },
    confirm(providerPaymentId) {
      const charge = byPaymentId.get(providerPaymentId);
      if (!charge) throw invalid(`the sandbox made no payment ${providerPaymentId}`);
      const result = charges.get(charge.idempotencyKey);
      if (result?.status !== 'requires_action' && result?.status !== 'succeeded') {
        throw illegalState(`sandbox payment ${providerPaymentId} is ${result?.status ?? 'unknown'}: only a payment that requires action can be confirmed`);
      }
      charges.set(charge.idempotencyKey, { status: 'succeeded', providerPaymentId });
      return eventFor(providerPaymentId, 'payment_intent.succeeded');
    },
    failAuthentication(providerPaymentId) {
      const charge = byPaymentId.get(providerPaymentId);
      if (!charge) throw invalid(`the sandbox made no payment ${providerPaymentId}`);
      const result = charges.get(charge.idempotencyKey);
      if (result?.status !== 'requires_action' && !(result?.status === 'failed' && result.code === AUTHENTICATION_FAILURE.code)) {
        throw illegalState(`sandbox payment ${providerPaymentId} is ${result?.status ?? 'unknown'}: only a payment that requires action can fail authentication`);
      }
      charges.set(charge.idempotencyKey, { status: 'failed', providerPaymentId, ...AUTHENTICATION_FAILURE });
      return eventFor(providerPaymentId, 'payment_intent.payment_failed');
    },
    eventFor,
    sign,
  };
}
