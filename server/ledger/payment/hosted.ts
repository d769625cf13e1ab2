import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { LedgerError, scope as toScope, type Clock, type Scope } from '../types';

/**
 * Links to the hosted pages (pay an invoice, add a card, confirm a payment): a signed,
 * expiring token in the URL is the only authority such a page has. No API key, no
 * cookie: whoever holds the link may do what it names, for that one object of that one
 * scope, until it expires (Stripe's hosted invoice and Checkout links work the same way).
 *
 * A token is `<payload>.<mac>`: the payload is base64url JSON (kind, tenant, app, object
 * id, expiry, and what the kind needs), the mac is base64url HMAC-SHA256 of the payload
 * with the engine's hosted secret. A changed byte, another secret, another kind or a
 * passed expiry: `not_found`, the same answer as for a link that never existed, so a
 * page cannot be used to probe which objects exist.
 */

export const HOSTED_KINDS = ['pay', 'setup', 'confirm'] as const;
export type HostedKind = (typeof HOSTED_KINDS)[number];

/** How long each kind of link is valid, in seconds. */
export const HOSTED_TTL_S: Readonly<Record<HostedKind, number>> = {
  /** A hosted invoice page: 30 days, as Stripe's hosted invoice link. */
  pay: 30 * 24 * 3600,
  /** A set-up page: 1 hour, as a Checkout Session in setup mode is short-lived. */
  setup: 3600,
  /** A 3-D Secure confirmation: 1 day. */
  confirm: 24 * 3600,
};

/** The paths of the app's hosted pages, under the base URL. */
export const HOSTED_PATHS: Readonly<Record<HostedKind, string>> = {
  pay: '/pay',
  setup: '/sandbox/setup',
  confirm: '/sandbox/confirm',
};

const httpUrl = z
  .string()
  .max(2000)
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'an http(s) URL');

/** What a token says. `id` is the object the page is about: an invoice (pay, confirm) or a customer (setup). */
const claimsSchema = z.discriminatedUnion('k', [
  z.object({ k: z.literal('pay'), t: z.string(), a: z.string(), id: z.string(), exp: z.number().int() }),
  z.object({ k: z.literal('setup'), t: z.string(), a: z.string(), id: z.string(), exp: z.number().int(), ok: httpUrl, no: httpUrl }),
  /** `ref`: the provider's id of the charge to confirm. */
  z.object({ k: z.literal('confirm'), t: z.string(), a: z.string(), id: z.string(), exp: z.number().int(), ref: z.string() }),
]);
type RawClaims = z.infer<typeof claimsSchema>;

export type HostedClaims =
  | { kind: 'pay'; scope: Scope; invoiceId: string; expiresAt: Date }
  | { kind: 'setup'; scope: Scope; customerId: string; successUrl: string; cancelUrl: string; expiresAt: Date }
  | { kind: 'confirm'; scope: Scope; invoiceId: string; providerPaymentId: string; expiresAt: Date };

export interface HostedOptions {
  /**
   * The key tokens are signed with (at least 16 characters). Random per engine when
   * omitted: links then stop working at a restart and on other instances, so give every
   * instance the same one in production (`LEDGER_HOSTED_SECRET`).
   */
  secret?: string;
  /** The app's public URL the links start with (`https://billing.example.com`); root-relative links (`/pay/…`) when omitted. */
  baseUrl?: string;
}

/** The message of every refused token: it says what to do, not what was wrong with it. */
export const HOSTED_LINK_INVALID = 'this link is invalid or has expired: ask for a new one';

const b64 = (s: Buffer | string) => Buffer.from(s).toString('base64url');

export class HostedLinks {
  readonly #secret: Buffer;
  readonly baseUrl: string;
  /** True when no secret was given: links are valid in this process only. */
  readonly ephemeralSecret: boolean;

  constructor(
    private readonly clock: Clock,
    options: HostedOptions = {},
  ) {
    if (options.secret !== undefined && options.secret.length < 16) throw new LedgerError('invalid', 'the hosted pages secret must have at least 16 characters');
    this.ephemeralSecret = options.secret === undefined;
    this.#secret = options.secret !== undefined ? Buffer.from(options.secret) : randomBytes(32);
    this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
  }

  /** The hosted pay page of an invoice (30 days). */
  payUrl(scope: Scope, invoiceId: string): string {
    return this.url('pay', { k: 'pay', t: scope.tenantId, a: scope.appId, id: invoiceId, exp: this.expiry('pay') });
  }

  /** The sandbox's add-a-card page for a customer (1 hour), sending them on to `successUrl` (or back to `cancelUrl`). */
  setupUrl(scope: Scope, customerId: string, urls: { successUrl: string; cancelUrl: string }): string {
    const ok = httpUrl.safeParse(urls.successUrl);
    const no = httpUrl.safeParse(urls.cancelUrl);
    if (!ok.success || !no.success) {
      throw new LedgerError('invalid', 'successUrl and cancelUrl must be http(s) URLs', [
        ...(ok.success ? [] : [{ path: 'successUrl', message: 'an http(s) URL' }]),
        ...(no.success ? [] : [{ path: 'cancelUrl', message: 'an http(s) URL' }]),
      ]);
    }
    return this.url('setup', { k: 'setup', t: scope.tenantId, a: scope.appId, id: customerId, exp: this.expiry('setup'), ok: ok.data, no: no.data });
  }

  /** The sandbox's 3-D Secure page for a charge of an invoice (1 day). */
  confirmUrl(scope: Scope, invoiceId: string, providerPaymentId: string): string {
    return this.url('confirm', { k: 'confirm', t: scope.tenantId, a: scope.appId, id: invoiceId, exp: this.expiry('confirm'), ref: providerPaymentId });
  }

  /** The token's claims, if it is one of this engine's, of that kind, and not expired; `not_found` otherwise. */
  verify<K extends HostedKind>(token: string, kind: K): Extract<HostedClaims, { kind: K }> {
    const claims = this.read(token);
    if (!claims || claims.kind !== kind) throw new LedgerError('not_found', HOSTED_LINK_INVALID);
    return claims as Extract<HostedClaims, { kind: K }>;
  }

  /** The token's claims, or null for a bad, foreign or expired token. */
  read(token: string): HostedClaims | null {
    if (typeof token !== 'string' || token.length > 4096) return null;
    const [payload, mac, extra] = token.split('.');
    if (!payload || !mac || extra !== undefined) return null;
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    const r = claimsSchema.safeParse(json);
    if (!r.success) return null;
    const c = r.data;
    const expiresAt = new Date(c.exp * 1000);
    if (this.clock.now().getTime() >= expiresAt.getTime()) return null;
    const scope = toScope(c.t, c.a);
    switch (c.k) {
      case 'pay':
        return { kind: 'pay', scope, invoiceId: c.id, expiresAt };
      case 'setup':
        return { kind: 'setup', scope, customerId: c.id, successUrl: c.ok, cancelUrl: c.no, expiresAt };
      case 'confirm':
        return { kind: 'confirm', scope, invoiceId: c.id, providerPaymentId: c.ref, expiresAt };
    }
  }

  private expiry(kind: HostedKind): number {
    return Math.floor(this.clock.now().getTime() / 1000) + HOSTED_TTL_S[kind];
  }

  private url(kind: HostedKind, claims: RawClaims): string {
    const payload = b64(JSON.stringify(claims));
    return `${this.baseUrl}${HOSTED_PATHS[kind]}/${payload}.${this.mac(payload)}`;
  }

  private mac(payload: string): string {
    return b64(createHmac('sha256', this.#secret).update(payload).digest());
  }
}
