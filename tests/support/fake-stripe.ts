import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { freePort } from './net';

/**
 * A fake Stripe API of the tests' own: node:http on 127.0.0.1, serving exactly the
 * endpoints the Stripe adapter calls, with bodies form-encoded as the SDK sends them.
 * Point the real SDK at it with `fake.stripeOptions` (host, port, protocol, no retries,
 * no telemetry, a short timeout).
 *
 * Like Stripe, it remembers each `Idempotency-Key`'s answer (status and body) and replays
 * it for the same key, so a key charges once. As at Stripe, an answer is kept only once
 * the endpoint ran: an injected 500 happens before (nothing charged, nothing kept, the
 * same key may succeed next time), while a stall happens after the charge was recorded
 * (the answer is kept; the client just never sees it).
 *
 * Each PaymentIntent create takes the next queued behaviour (`fake.next(…)`), else
 * succeeds: `decline` (with a decline code), `error500`, `stall` (past the SDK's timeout),
 * `requires_action` (3-D Secure, with a redirect URL), `authentication_required`.
 */

export type ChargeBehaviour =
  | { kind: 'succeed' }
  | { kind: 'decline'; declineCode?: string; message?: string }
  | { kind: 'error500' }
  | { kind: 'stall'; ms?: number }
  | { kind: 'requires_action' }
  /** What Stripe really answers off-session when the bank wants 3-D Secure: a card error, the PaymentIntent back to requires_payment_method. */
  | { kind: 'authentication_required' };

export type RefundBehaviour = { kind: 'succeed' } | { kind: 'error500' } | { kind: 'stall'; ms?: number } | { kind: 'pending' };

export interface FakeRequest {
  method: string;
  path: string;
  idempotencyKey: string | null;
  params: Record<string, unknown>;
  replayed: boolean;
}

type Json = Record<string, unknown>;

export interface FakeStripe {
  url: string;
  port: number;
  /** The SDK options that send its requests here. */
  stripeOptions: { host: string; port: number; protocol: 'http'; maxNetworkRetries: 0; telemetry: false; timeout: number };
  /** Every request, in order. */
  requests: FakeRequest[];
  customers: Map<string, Json>;
  paymentMethods: Map<string, Json>;
  /** Every PaymentIntent created: one per charge (a replayed key creates none). */
  paymentIntents: Map<string, Json>;
  refunds: Map<string, Json>;
  checkoutSessions: Map<string, Json>;
  /** Queues what the next PaymentIntent creates do, in order. */
  next(...behaviours: ChargeBehaviour[]): void;
  /**
   * Queues what the next refund creates do: `error500` (nothing refunded), `stall` (refunded
   * and remembered for the key, the answer too late), `pending` (Stripe answers later, by webhook).
   */
  nextRefund(...behaviours: RefundBehaviour[]): void;
  /** Attaches a test card to a customer, as Checkout would after the customer typed it. */
  attachCard(customerId: string, card?: { brand?: string; last4?: string; expMonth?: number; expYear?: number }): Json;
  /** Deletes a customer as the Dashboard does: its cards are detached; it is read back as `{ id, deleted: true }`. Returns the customer as it was (customer.deleted's object). */
  deleteCustomer(customerId: string): Json;
  /** The customer passed 3-D Secure (on a redirect, or on-session after authentication_required): the PaymentIntent succeeds. */
  confirm(paymentIntentId: string): Json;
  close(): Promise<void>;
}

/** Parses a form body (`a[b][0]=c`) as Stripe's SDK encodes it, into nested objects and arrays. */
export function parseForm(body: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.replace(/\]/g, '').split('[');
    let node: Record<string, unknown> = out;
    path.forEach((part, i) => {
      if (i === path.length - 1) node[part] = value;
      else node = (node[part] ??= {}) as Record<string, unknown>;
    });
  }
  return out;
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

export async function startFakeStripe(options: { timeoutMs?: number } = {}): Promise<FakeStripe> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const requests: FakeRequest[] = [];
  const customers = new Map<string, Json>();
  const paymentMethods = new Map<string, Json>();
  const paymentIntents = new Map<string, Json>();
  const refunds = new Map<string, Json>();
  const checkoutSessions = new Map<string, Json>();
  const idempotent = new Map<string, { status: number; body: Json }>();
  const queue: ChargeBehaviour[] = [];
  const refundQueue: RefundBehaviour[] = [];
  const sockets = new Set<Socket>();
  const timeoutMs = options.timeoutMs ?? 400;

  const error = (status: number, type: string, message: string, extra: Json = {}) => ({ status, body: { error: { type, message, ...extra } } });
  const list = (data: Json[], path: string) => ({ status: 200, body: { object: 'list', data, has_more: false, url: path } });
  const missing = (what: string, ref: string) => error(404, 'invalid_request_error', `No such ${what}: '${ref}'`, { code: 'resource_missing', param: 'id' });

  function createPaymentIntent(p: Json, behaviour: ChargeBehaviour): { status: number; body: Json } {
    const pm = paymentMethods.get(String(p.payment_method));
    if (!pm) return missing('PaymentMethod', String(p.payment_method));
    if (pm.customer !== p.customer) return error(400, 'invalid_request_error', 'The provided PaymentMethod is not attached to this customer.', { code: 'payment_method_invalid_parameter' });
    const pi: Json = {
      id: id('pi'),
      object: 'payment_intent',
      amount: Number(p.amount),
      currency: p.currency,
      customer: p.customer,
      payment_method: p.payment_method,
      description: p.description ?? null,
      metadata: p.metadata ?? {},
      livemode: false,
      created: now(),
      status: 'succeeded',
      next_action: null,
      last_payment_error: null,
      cancellation_reason: null,
    };
    paymentIntents.set(pi.id as string, pi);
    if (behaviour.kind === 'decline') {
      const code = behaviour.declineCode ?? 'generic_decline';
      const message = behaviour.message ?? (code === 'insufficient_funds' ? 'Your card has insufficient funds.' : 'Your card was declined.');
      const lastError = { type: 'card_error', code: 'card_declined', decline_code: code, message };
      Object.assign(pi, { status: 'requires_payment_method', last_payment_error: lastError });
      return error(402, 'card_error', message, { code: 'card_declined', decline_code: code, payment_intent: pi });
    }
    if (behaviour.kind === 'authentication_required') {
      const message = 'Your card was declined. This transaction requires authentication.';
      const lastError = { type: 'card_error', code: 'authentication_required', decline_code: 'authentication_required', message };
      Object.assign(pi, { status: 'requires_payment_method', last_payment_error: lastError });
      return error(402, 'card_error', message, { code: 'authentication_required', decline_code: 'authentication_required', payment_intent: pi });
    }
    if (behaviour.kind === 'requires_action') {
      Object.assign(pi, { status: 'requires_action', next_action: { type: 'redirect_to_url', redirect_to_url: { url: `${url}/3ds/${pi.id}`, return_url: p.return_url ?? null } } });
    }
    return { status: 200, body: pi };
  }

  function route(method: string, path: string, p: Json, behaviour: () => ChargeBehaviour | RefundBehaviour): { status: number; body: Json } {
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/v1/customers') {
      return list([...customers.values()].filter((c) => !p.email || c.email === p.email), path);
    }
    if ((m = /^\/v1\/customers\/([^/]+)$/.exec(path)) && method === 'GET') {
      return customers.get(m[1]!) ? { status: 200, body: customers.get(m[1]!)! } : missing('customer', m[1]!);
    }
    if (method === 'POST' && path === '/v1/customers') {
      const c = { id: id('cus'), object: 'customer', email: p.email ?? null, name: p.name ?? null, metadata: p.metadata ?? {}, livemode: false, created: now() };
      customers.set(c.id, c);
      return { status: 200, body: c };
    }
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      if (p.mode !== 'setup') return error(400, 'invalid_request_error', 'only setup mode is faked', { param: 'mode' });
      if (!customers.has(String(p.customer))) return missing('customer', String(p.customer));
      const sid = id('cs_test');
      const s = { id: sid, object: 'checkout.session', mode: 'setup', customer: p.customer, currency: p.currency ?? null, success_url: p.success_url, cancel_url: p.cancel_url, metadata: p.metadata ?? {}, url: `${url}/c/setup/${sid}`, livemode: false };
      checkoutSessions.set(sid, s);
      return { status: 200, body: s };
    }
    if (method === 'GET' && path === '/v1/payment_methods') {
      return list([...paymentMethods.values()].filter((pm) => pm.customer === p.customer && (!p.type || pm.type === p.type)), path);
    }
    if ((m = /^\/v1\/payment_methods\/([^/]+)$/.exec(path)) && method === 'GET') {
      return paymentMethods.get(m[1]!) ? { status: 200, body: paymentMethods.get(m[1]!)! } : missing('PaymentMethod', m[1]!);
    }
    if ((m = /^\/v1\/payment_methods\/([^/]+)\/detach$/.exec(path)) && method === 'POST') {
      const pm = paymentMethods.get(m[1]!);
      if (!pm) return missing('PaymentMethod', m[1]!);
      if (!pm.customer) return error(400, 'invalid_request_error', 'The payment method you provided is not attached to a customer so detachment is impossible.', { code: 'payment_method_unexpected_state' });
      pm.customer = null;
      return { status: 200, body: pm };
    }
    if (method === 'POST' && path === '/v1/payment_intents') {
      if (p.confirm !== 'true' || p.off_session !== 'true') return error(400, 'invalid_request_error', 'the fake charges off-session with confirm=true only');
      return createPaymentIntent(p, behaviour() as ChargeBehaviour);
    }
    if (method === 'GET' && path === '/v1/payment_intents/search') {
      // Only the query the adapter sends: metadata['<key>']:'<value>'.
      const q = /^metadata\['([^']+)'\]:'((?:[^'\\]|\\.)*)'$/.exec(String(p.query ?? ''));
      if (!q) return error(400, 'invalid_request_error', `the fake searches metadata['key']:'value' only, not ${String(p.query)}`, { param: 'query' });
      const value = q[2]!.replace(/\\(.)/g, '$1');
      const data = [...paymentIntents.values()].filter((pi) => (pi.metadata as Record<string, string>)[q[1]!] === value);
      return { status: 200, body: { object: 'search_result', data, has_more: false, next_page: null, url: path } };
    }
    if ((m = /^\/v1\/payment_intents\/([^/]+)$/.exec(path)) && method === 'GET') {
      return paymentIntents.get(m[1]!) ? { status: 200, body: paymentIntents.get(m[1]!)! } : missing('payment_intent', m[1]!);
    }
    if (method === 'POST' && path === '/v1/refunds') {
      const pi = paymentIntents.get(String(p.payment_intent));
      if (!pi || pi.status !== 'succeeded') return missing('charge for payment_intent', String(p.payment_intent));
      const already = [...refunds.values()].filter((r) => r.payment_intent === pi.id).reduce((s, r) => s + (r.amount as number), 0);
      const amount = p.amount === undefined ? (pi.amount as number) - already : Number(p.amount);
      if (amount <= 0 || already + amount > (pi.amount as number)) {
        return error(400, 'invalid_request_error', `Refund amount (${amount}) is greater than unrefunded amount on charge (${(pi.amount as number) - already})`, { code: 'amount_too_large', param: 'amount' });
      }
      const status = behaviour().kind === 'pending' ? 'pending' : 'succeeded';
      const r = { id: id('re'), object: 'refund', amount, currency: pi.currency, payment_intent: pi.id, status, metadata: p.metadata ?? {}, created: now() };
      refunds.set(r.id, r);
      return { status: 200, body: r };
    }
    return error(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}): the fake serves only the endpoints the adapter uses`);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', url);
      const params = parseForm(req.method === 'GET' ? u.search.slice(1) : Buffer.concat(chunks).toString('utf8'));
      const key = (req.headers['idempotency-key'] as string | undefined) ?? null;
      const send = (status: number, body: Json, replayed = false) => {
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req'), ...(replayed ? { 'idempotent-replayed': 'true' } : {}) });
        res.end(JSON.stringify(body));
      };
      const record = (replayed: boolean) => requests.push({ method: req.method!, path: u.pathname, idempotencyKey: key, params, replayed });

      const stored = key ? idempotent.get(key) : undefined;
      if (stored) {
        record(true);
        return send(stored.status, stored.body, true);
      }
      record(false);
      const isCharge = req.method === 'POST' && u.pathname === '/v1/payment_intents';
      const isRefund = req.method === 'POST' && u.pathname === '/v1/refunds';
      const behaviour: ChargeBehaviour | RefundBehaviour = isCharge
        ? (queue.shift() ?? { kind: 'succeed' })
        : isRefund
          ? (refundQueue.shift() ?? { kind: 'succeed' })
          : { kind: 'succeed' as const };
      if (behaviour.kind === 'error500') {
        return send(500, { error: { type: 'api_error', message: 'An unknown error occurred (the fake was told to answer 500).' } });
      }
      const answer = route(req.method!, u.pathname, params, () => behaviour);
      // A snapshot: a replay answers what the first request saw, even after the object moved on.
      if (key && req.method === 'POST') idempotent.set(key, { status: answer.status, body: JSON.parse(JSON.stringify(answer.body)) as Json });
      if (behaviour.kind === 'stall') {
        // Charged and remembered; the answer comes after the client gave up.
        setTimeout(() => !res.destroyed && send(answer.status, answer.body), behaviour.ms ?? timeoutMs * 5).unref();
        return;
      }
      send(answer.status, answer.body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });

  return {
    url,
    port: (server.address() as AddressInfo).port,
    stripeOptions: { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0, telemetry: false, timeout: timeoutMs },
    requests,
    customers,
    paymentMethods,
    paymentIntents,
    refunds,
    checkoutSessions,
    next: (...b) => void queue.push(...b),
    nextRefund: (...b) => void refundQueue.push(...b),
    attachCard(customerId, card = {}) {
      if (!customers.has(customerId)) throw new Error(`the fake has no customer ${customerId}`);
      const pm: Json = {
        id: id('pm'),
        object: 'payment_method',
        type: 'card',
        customer: customerId,
        card: { brand: card.brand ?? 'visa', last4: card.last4 ?? '4242', exp_month: card.expMonth ?? 12, exp_year: card.expYear ?? 2030 },
        metadata: {},
        livemode: false,
        created: now(),
      };
      paymentMethods.set(pm.id as string, pm);
      return pm;
    },
    deleteCustomer(customerId) {
      const c = customers.get(customerId);
      if (!c) throw new Error(`the fake has no customer ${customerId}`);
      for (const pm of paymentMethods.values()) if (pm.customer === customerId) pm.customer = null;
      customers.set(customerId, { id: customerId, object: 'customer', deleted: true });
      return { ...c, deleted: true };
    },
    confirm(paymentIntentId) {
      const pi = paymentIntents.get(paymentIntentId);
      if (!pi || !['requires_action', 'requires_payment_method'].includes(pi.status as string)) throw new Error(`${paymentIntentId} does not wait for the customer`);
      return Object.assign(pi, { status: 'succeeded', next_action: null, last_payment_error: null });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
