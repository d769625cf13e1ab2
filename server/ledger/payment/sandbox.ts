import { randomBytes } from 'node:crypto';
import { illegalState, invalid } from '../types';
import type { ChargeResult, PaymentProvider, ProviderMethod, RefundResult } from './provider';

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

export interface SandboxOptions {
  /** Where the customer confirms a payment that requires action (the hosted page, later). */
  actionUrl?: (providerPaymentId: string) => string;
}

/**
 * The sandbox as a `PaymentProvider`. It remembers each idempotency key's outcome in
 * memory, as Stripe does for 24 hours, so a repeated charge answers the first one's.
 */
export function createSandboxProvider(options: SandboxOptions = {}): PaymentProvider {
  const charges = new Map<string, ChargeResult>();
  const refunds = new Map<string, RefundResult>();
  const actionUrl = options.actionUrl ?? ((id: string) => `/sandbox/confirm/${id}`);
  const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
  return {
    name: 'sandbox',
    modes: ['test'],
    async ensureCustomer(_scope, customer) {
      return { providerCustomerId: `sandbox_${customer.id}` };
    },
    async startSetup() {
      throw illegalState("the sandbox's hosted set-up page is not built yet: attach a test card with payments.sandbox.attachCard");
    },
    async listMethods() {
      // The sandbox keeps no methods of its own: the engine's records are the only copy.
      return [];
    },
    async detachMethod() {},
    async charge(_scope, { method, idempotencyKey }) {
      const known = charges.get(idempotencyKey);
      if (known) return known;
      const behaviour = behaviourOf(method.providerRef);
      if (!behaviour) throw invalid(`payment method ${method.id} is not a sandbox card`);
      const paymentId = id('sandbox_pay');
      const failure = FAILURES[behaviour];
      const result: ChargeResult = failure
        ? { status: 'failed', providerPaymentId: paymentId, ...failure }
        : behaviour === 'requires_action'
          ? { status: 'requires_action', providerPaymentId: paymentId, url: actionUrl(paymentId) }
          : { status: 'succeeded', providerPaymentId: paymentId };
      charges.set(idempotencyKey, result);
      return result;
    },
    async refund(_scope, { idempotencyKey }) {
      let r = refunds.get(idempotencyKey);
      if (!r) refunds.set(idempotencyKey, (r = { status: 'succeeded', providerRefundId: id('sandbox_re') }));
      return r;
    },
    async verifyWebhook() {
      throw illegalState("the sandbox's webhook route is not built yet");
    },
  };
}
