import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { freePort } from './net';

/**
 * A fake Paddle Billing API of the tests' own: node:http on 127.0.0.1, JSON in and out
 * as Paddle answers (`{ data, meta }`, errors as `{ error: { type, code, detail } }`),
 * serving exactly the endpoints the Paddle adapter calls. The real SDK reaches it through
 * the adapter's `baseUrl` (`fake.url`).
 *
 * Paddle has no idempotency keys, so the fake keeps none: a retried create is a second
 * object, as at Paddle; `transactionCreates` counts them. Like Paddle, a customer's email
 * is unique (a second create is `customer_already_exists`). A transaction is created
 * `ready` with a checkout URL (`<fake>/checkout?_ptxn=txn_…`); the customer pays it there
 * (`fake.pay(id)`), which completes it.
 * Refunds (adjustments) start `pending_approval`, as Paddle reviews them.
 *
 * Each transaction create takes the next queued behaviour (`fake.next(…)`), else
 * succeeds: `error500` (nothing created), `stall` (created, answered after the client
 * gave up).
 */

export type PaddleBehaviour = { kind: 'succeed' } | { kind: 'error500' } | { kind: 'stall'; ms?: number };

type Json = Record<string, unknown>;

export interface PaddleRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: Json | null;
}

export interface FakePaddle {
  url: string;
  requests: PaddleRequest[];
  customers: Map<string, Json>;
  /** Saved methods by id (each has `customer_id`). */
  paymentMethods: Map<string, Json>;
  transactions: Map<string, Json>;
  adjustments: Map<string, Json>;
  /** How many POST /transactions created a transaction. */
  transactionCreates(): number;
  next(...behaviours: PaddleBehaviour[]): void;
  /** A card saved for the customer, as Paddle's checkout saves it. */
  saveCard(customerId: string, card?: { type?: string; last4?: string; expiryMonth?: number; expiryYear?: number }): Json;
  /** The customer paid the transaction at checkout: `completed`, one captured payment. */
  pay(transactionId: string): Json;
  /** A failed payment attempt at checkout (the transaction stays `ready`). */
  decline(transactionId: string, errorCode?: string): Json;
  close(): Promise<void>;
}

const id = (prefix: string) => `${prefix}_${randomBytes(13).toString('hex')}`;
const iso = () => new Date().toISOString();

/** The `Paddle-Signature` header Paddle sends: `ts=<unix s>;h1=<HMAC-SHA256 hex of "ts:body">`. */
export function signPaddle(body: string, secret: string, ts = Math.floor(Date.now() / 1000)): string {
  return `ts=${ts};h1=${createHmac('sha256', secret).update(`${ts}:${body}`).digest('hex')}`;
}

/** A notification body as Paddle posts it. */
export function paddleNotification(eventType: string, data: Json, eventId = id('evt')): string {
  return JSON.stringify({ event_id: eventId, event_type: eventType, occurred_at: iso(), notification_id: id('ntf'), data });
}

export async function startFakePaddle(options: { stallMs?: number } = {}): Promise<FakePaddle> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const requests: PaddleRequest[] = [];
  const customers = new Map<string, Json>();
  const paymentMethods = new Map<string, Json>();
  const transactions = new Map<string, Json>();
  const adjustments = new Map<string, Json>();
  const queue: PaddleBehaviour[] = [];
  const sockets = new Set<Socket>();
  let creates = 0;

  type Answer = { status: number; body: Json | null };
  const ok = (data: Json): Answer => ({ status: 200, body: { data, meta: { request_id: id('req') } } });
  const error = (status: number, code: string, detail: string, type = 'request_error'): Answer => ({ status, body: { error: { type, code, detail, documentation_url: `https://developer.paddle.com/errors/${code}` }, meta: { request_id: id('req') } } });
  const notFound = (what: string, ref: string) => error(404, 'not_found', `${what} ${ref} not found`);
  const list = (data: Json[], path: string, query: URLSearchParams): Answer => ({
    status: 200,
    body: { data, meta: { request_id: id('req'), pagination: { per_page: Number(query.get('per_page') ?? 50), next: `${url}${path}?${query}`, has_more: false, estimated_total: data.length } } },
  });
  const inList = (q: URLSearchParams, key: string, value: unknown) => !q.get(key) || q.get(key)!.split(',').includes(String(value));

  function createTransaction(b: Json): Answer {
    const items = b.items as { quantity: number; price?: Json; price_id?: string }[] | undefined;
    if (!Array.isArray(items) || items.length !== 1 || !items[0]!.price) return error(400, 'bad_request', 'the fake takes one item with a non-catalog price');
    const price = items[0]!.price!;
    const unit = price.unit_price as { amount?: string; currency_code?: string } | undefined;
    if (!unit || !/^\d+$/.test(unit.amount ?? '') || unit.currency_code !== b.currency_code) return error(400, 'bad_request', 'unit_price.amount must be a string of minor units in the currency_code');
    if (!price.description || !(price.product || price.product_id)) return error(400, 'bad_request', 'a non-catalog price needs a description and a product');
    if (b.customer_id && !customers.has(String(b.customer_id))) return notFound('customer', String(b.customer_id));
    creates++;
    const tid = id('txn');
    const amount = unit.amount!;
    const t: Json = {
      id: tid,
      status: 'ready',
      customer_id: b.customer_id ?? null,
      address_id: null,
      business_id: null,
      custom_data: b.custom_data ?? null,
      currency_code: b.currency_code,
      origin: 'api',
      subscription_id: null,
      invoice_id: null,
      invoice_number: null,
      collection_mode: b.collection_mode ?? 'automatic',
      discount_id: null,
      billing_details: null,
      billing_period: null,
      items: [{ price: { id: id('pri'), description: price.description, name: price.name ?? null, product_id: price.product_id ?? id('pro'), unit_price: unit, quantity: { minimum: 1, maximum: 1 }, tax_mode: price.tax_mode ?? 'account_setting', status: 'active', custom_data: null }, quantity: 1 }],
      details: {
        tax_rates_used: [],
        totals: { subtotal: amount, tax: '0', discount: '0', total: amount, grand_total: amount, fee: null, credit: '0', balance: amount, earnings: null, currency_code: b.currency_code },
        line_items: [{ id: id('txnitm'), price_id: null, quantity: 1, tax_rate: '0', unit_totals: null, totals: { subtotal: amount, tax: '0', discount: '0', total: amount }, product: null }],
      },
      payments: [],
      checkout: { url: `${(b.checkout as Json | undefined)?.url ?? `${url}/checkout`}?_ptxn=${tid}` },
      created_at: iso(),
      updated_at: iso(),
      billed_at: null,
      revised_at: null,
    };
    transactions.set(tid, t);
    return ok(t);
  }

  function createAdjustment(b: Json): Answer {
    const t = transactions.get(String(b.transaction_id));
    if (!t) return notFound('transaction', String(b.transaction_id));
    if (t.status !== 'completed') return error(400, 'transaction_not_completed', 'only a completed transaction can be refunded');
    if (b.action !== 'refund') return error(400, 'bad_request', 'the fake refunds only');
    const total = Number(((t.details as Json).totals as Json).total);
    const refunded = [...adjustments.values()].filter((a) => a.transaction_id === t.id && a.status !== 'rejected').reduce((s, a) => s + Number((a.totals as Json).total), 0);
    const lineItem = ((t.details as Json).line_items as Json[])[0]!;
    let amount: number;
    if (b.type === 'full') amount = total - refunded;
    else {
      const item = (b.items as Json[] | undefined)?.[0];
      if (!item || item.item_id !== lineItem.id || item.type !== 'partial') return error(400, 'bad_request', 'a partial refund names the line item (type partial)');
      amount = Number(item.amount);
    }
    if (!(amount > 0) || refunded + amount > total) return error(400, 'adjustment_amount_above_remaining_allowed', `the refund (${amount}) is more than the transaction's remaining ${total - refunded}`);
    const a: Json = {
      id: id('adj'),
      action: 'refund',
      type: b.type ?? 'partial',
      transaction_id: t.id,
      subscription_id: null,
      customer_id: t.customer_id,
      reason: b.reason,
      credit_applied_to_balance: null,
      currency_code: t.currency_code,
      status: 'pending_approval',
      items: [{ id: id('adjitm'), item_id: lineItem.id, type: b.type === 'full' ? 'full' : 'partial', amount: String(amount), proration: null, totals: { subtotal: String(amount), tax: '0', total: String(amount) } }],
      totals: { subtotal: String(amount), tax: '0', total: String(amount), fee: '0', earnings: '0', currency_code: t.currency_code },
      payout_totals: null,
      created_at: iso(),
      updated_at: iso(),
    };
    adjustments.set(a.id as string, a);
    return ok(a);
  }

  function route(method: string, path: string, q: URLSearchParams, b: Json | null, behaviour: PaddleBehaviour): Answer {
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/customers') return list([...customers.values()].filter((c) => inList(q, 'email', c.email)), path, q);
    if (method === 'POST' && path === '/customers') {
      if ([...customers.values()].some((c) => c.email === b?.email)) return error(409, 'customer_already_exists', `customer email conflicts with customer of id ${[...customers.values()].find((c) => c.email === b?.email)!.id}`);
      const c: Json = { id: id('ctm'), name: b?.name ?? null, email: b?.email, marketing_consent: false, status: 'active', custom_data: b?.custom_data ?? null, locale: 'en', created_at: iso(), updated_at: iso(), import_meta: null };
      customers.set(c.id as string, c);
      return ok(c);
    }
    if ((m = /^\/customers\/([^/]+)$/.exec(path)) && (method === 'GET' || method === 'PATCH')) {
      const c = customers.get(m[1]!);
      if (!c) return notFound('customer', m[1]!);
      return ok(method === 'GET' ? c : Object.assign(c, b, { updated_at: iso() }));
    }
    if ((m = /^\/customers\/([^/]+)\/payment-methods$/.exec(path)) && method === 'GET') {
      if (!customers.has(m[1]!)) return notFound('customer', m[1]!);
      return list([...paymentMethods.values()].filter((pm) => pm.customer_id === m![1]), path, q);
    }
    if ((m = /^\/customers\/([^/]+)\/payment-methods\/([^/]+)$/.exec(path))) {
      const pm = paymentMethods.get(m[2]!);
      if (!pm || pm.customer_id !== m[1]) return notFound('payment method', m[2]!);
      if (method === 'GET') return ok(pm);
      if (method === 'DELETE') {
        paymentMethods.delete(m[2]!);
        return { status: 204, body: null };
      }
    }
    if (method === 'GET' && path === '/transactions') {
      const found = [...transactions.values()].filter((t) => inList(q, 'customer_id', t.customer_id) && inList(q, 'status', t.status));
      if (q.get('order_by') === 'created_at[DESC]') found.reverse();
      return list(found, path, q);
    }
    if (method === 'POST' && path === '/transactions') return behaviour.kind === 'error500' ? error(500, 'internal_error', 'the fake was told to answer 500', 'api_error') : createTransaction(b ?? {});
    if ((m = /^\/transactions\/([^/]+)$/.exec(path)) && method === 'GET') return transactions.get(m[1]!) ? ok(transactions.get(m[1]!)!) : notFound('transaction', m[1]!);
    if (method === 'GET' && path === '/adjustments') {
      return list([...adjustments.values()].filter((a) => inList(q, 'transaction_id', a.transaction_id) && inList(q, 'action', a.action)), path, q);
    }
    if (method === 'POST' && path === '/adjustments') return createAdjustment(b ?? {});
    return error(404, 'not_found', `the fake serves only the endpoints the adapter uses, not ${method} ${path}`);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', url);
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = raw ? (JSON.parse(raw) as Json) : null;
      requests.push({ method: req.method!, path: u.pathname, query: Object.fromEntries(u.searchParams), body });
      const send = ({ status, body: out }: Answer) => {
        if (res.destroyed) return;
        res.writeHead(status, out ? { 'content-type': 'application/json' } : {});
        res.end(out ? JSON.stringify(out) : undefined);
      };
      if (req.headers.authorization !== 'Bearer pdl_sdbx_apikey_fake' && req.headers.authorization !== 'bearer pdl_sdbx_apikey_fake') {
        return send(error(403, 'forbidden', 'the fake takes the key pdl_sdbx_apikey_fake only'));
      }
      const isCreate = req.method === 'POST' && u.pathname === '/transactions';
      const behaviour = isCreate ? (queue.shift() ?? { kind: 'succeed' as const }) : { kind: 'succeed' as const };
      const answer = route(req.method!, u.pathname, u.searchParams, body, behaviour);
      if (behaviour.kind === 'stall') {
        // Created; the answer comes after the client gave up.
        setTimeout(() => send(answer), behaviour.ms ?? options.stallMs ?? 5_000).unref();
        return;
      }
      send(answer);
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

  const mustGet = (tid: string) => {
    const t = transactions.get(tid);
    if (!t) throw new Error(`the fake has no transaction ${tid}`);
    return t;
  };

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    customers,
    paymentMethods,
    transactions,
    adjustments,
    transactionCreates: () => creates,
    next: (...b) => void queue.push(...b),
    saveCard(customerId, card = {}) {
      if (!customers.has(customerId)) throw new Error(`the fake has no customer ${customerId}`);
      const pm: Json = {
        id: id('paymtd'),
        customer_id: customerId,
        address_id: id('add'),
        type: 'card',
        card: { type: card.type ?? 'visa', last4: card.last4 ?? '4242', expiry_month: card.expiryMonth ?? 12, expiry_year: card.expiryYear ?? 2030, cardholder_name: 'Ada' },
        paypal: null,
        origin: 'saved_during_purchase',
        saved_at: iso(),
        updated_at: iso(),
      };
      paymentMethods.set(pm.id as string, pm);
      return pm;
    },
    pay(tid) {
      const t = mustGet(tid);
      if (t.status !== 'ready' && t.status !== 'draft') throw new Error(`${tid} is ${t.status as string}, not waiting at checkout`);
      const total = ((t.details as Json).totals as Json).total;
      (t.payments as Json[]).unshift({ payment_attempt_id: id('pa'), stored_payment_method_id: id('spm'), payment_method_id: id('paymtd'), amount: total, status: 'captured', error_code: null, method_details: { type: 'card', card: { type: 'visa', last4: '4242', expiry_month: 12, expiry_year: 2030, cardholder_name: 'Ada' } }, created_at: iso(), captured_at: iso() });
      return Object.assign(t, { status: 'completed', billed_at: iso(), updated_at: iso() });
    },
    decline(tid, errorCode = 'declined') {
      const t = mustGet(tid);
      (t.payments as Json[]).unshift({ payment_attempt_id: id('pa'), stored_payment_method_id: id('spm'), payment_method_id: null, amount: ((t.details as Json).totals as Json).total, status: 'error', error_code: errorCode, method_details: null, created_at: iso(), captured_at: null });
      return Object.assign(t, { updated_at: iso() });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
