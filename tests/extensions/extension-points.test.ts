import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createLedger,
  Dec,
  ManualClock,
  silentLogger,
  type CouponValidator,
  type Invoice,
  type InvoiceFormatter,
  type Ledger,
  type LedgerOptions,
  type PricingStrategy,
  type Scope,
  type UsageAggregator,
} from '@/server/ledger';
import { invoicePdfResponse } from '@/server/invoice-pdf/handler';
import type { Runtime } from '@/server/runtime';
import { taxServiceCalculator } from '@/server/plugins/tax';
import { rejectsWith } from '../support/engine';
import { flakyProvider } from '../support/flaky-provider';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * The engine's extension points, each swapped for one of the tests' own, with concrete
 * numbers: a pricing strategy, a usage aggregator, a tax calculator (the `tax` plugin
 * against a fake tax service), an invoice formatter, a coupon validator, a payment
 * provider. Invoices close January 15 → February 15, 2025.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PERIOD_END = new Date('2025-02-15T10:00:00.000Z');

/** A minimum charge: billable × unitPrice, but never less than `minimum` (major units). */
const minimumCharge: PricingStrategy = {
  price: ({ billable, params }) => Dec.max(billable.times(String(params.unitPrice)), String(params.minimum)),
  validate: (params) => (typeof params.unitPrice === 'string' && typeof params.minimum === 'string' ? null : 'minimum_charge takes unitPrice and minimum as decimal strings'),
};

/** The 95th percentile of the events' quantities, nearest rank: the ⌈0.95·n⌉-th smallest. */
const p95: UsageAggregator = {
  aggregate(events) {
    if (events.length === 0) return '0';
    const sorted = events.map((e) => new Dec(e.quantity)).sort((a, b) => a.comparedTo(b));
    return sorted[Math.ceil(0.95 * sorted.length) - 1]!.toFixed();
  },
};

const meteredPlan = {
  key: 'metered',
  name: 'Metered',
  currency: 'USD',
  interval: { unit: 'month' as const },
  features: [
    {
      key: 'storage_gb',
      name: 'Storage',
      kind: 'metered' as const,
      aggregation: 'sum' as const,
      includedUnits: 1000,
      price: { model: 'custom' as const, strategy: 'minimum_charge', params: { unitPrice: '0.03', minimum: '25' } },
    },
    // Billed on the 95th percentile; limits and charts keep `max`.
    { key: 'latency_ms', name: 'Latency', kind: 'metered' as const, aggregation: 'max' as const, aggregator: 'p95', price: { model: 'per_unit' as const, unitPrice: '1' } },
  ],
};

async function engine(store: LedgerOptions['store'], extra: Partial<LedgerOptions> = {}) {
  const clock = new ManualClock(T0);
  const ledger = await createLedger({
    store,
    clock,
    logger: silentLogger,
    invoices: { finalizeGraceMs: HOUR },
    pricing: { strategies: { minimum_charge: minimumCharge } },
    aggregators: { p95 },
    ...extra,
  });
  return { ledger, clock, scope: uniqueScope() };
}

/** A sent-invoice customer on the metered plan, its usage, and its draft for January 15 → February 15. */
async function usageDraft(ledger: Ledger, clock: ManualClock, scope: Scope, usage: { storage: number[]; latencies: number[] }, customer = { country: 'US', region: 'CA' }) {
  const plan = await ledger.plans.create(scope, meteredPlan);
  const c = await ledger.customers.create(scope, {
    email: 'ada@example.com',
    name: 'Ada',
    collectionMethod: 'send_invoice',
    ...customer,
    address: { line1: '1 Market St', city: 'San Francisco', postalCode: '94103', state: 'CA' },
  });
  const sub = await ledger.subscriptions.create(scope, { customerId: c.id, planId: plan.id });
  const at = (i: number) => new Date(T0.getTime() + DAY + i * 60_000).toISOString();
  clock.set(new Date(T0.getTime() + 2 * DAY));
  const metered = await ledger.meter.meterDurable(scope, [
    ...usage.storage.map((q, i) => ({ idempotencyKey: `s${i}`, customerId: c.id, featureKey: 'storage_gb', quantity: q, timestamp: at(i) })),
    ...usage.latencies.map((q, i) => ({ idempotencyKey: `l${i}`, customerId: c.id, featureKey: 'latency_ms', quantity: q, timestamp: at(i) })),
  ]);
  clock.set(new Date(PERIOD_END.getTime() + 1000));
  // At the period's end: the next period's, in no aggregate of this one.
  metered.push(...(await ledger.meter.meterDurable(scope, [{ idempotencyKey: 'late', customerId: c.id, featureKey: 'latency_ms', quantity: 5000, timestamp: PERIOD_END.toISOString() }])));
  expect(metered.map((m) => m.outcome.status)).toEqual(metered.map(() => 'accepted'));
  const draft = await ledger.billing.generateInvoice(scope, sub.id, { start: sub.currentPeriodStart, end: sub.currentPeriodEnd });
  return { plan, customer: c, sub, draft };
}

/** A typed engine error with its code, whose message says `message`. */
async function rejects(p: Promise<unknown>, code: Parameters<typeof rejectsWith>[1], message: RegExp) {
  const err = await rejectsWith(p, code);
  expect(err.message).toMatch(message);
}

const line = (inv: Invoice, id: string) => inv.lines.find((l) => l.id === id);

describe.each(storeFactories())('pricing strategy and usage aggregator on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  it('minimum_charge: 1,500 GB with 1,000 included at 0.03 is 15.00, raised to the 25.00 minimum; 2,500 GB is 45.00', async () => {
    const { ledger, clock, scope } = await engine(store());
    const { draft } = await usageDraft(ledger, clock, scope, { storage: [1000, 500], latencies: [] });
    expect(line(draft, 'usage:storage_gb')).toMatchObject({ quantity: '1500', amount: 2500, unitPrice: null });

    const other = await engine(store());
    const { draft: big } = await usageDraft(other.ledger, other.clock, other.scope, { storage: [2500], latencies: [] });
    expect(line(big, 'usage:storage_gb')).toMatchObject({ quantity: '2500', amount: 4500 });
  });

  it('p95 over 20 latencies 1..20 ms bills 19 (the max would be 20), and the event at the period end is not in it', async () => {
    const { ledger, clock, scope } = await engine(store());
    const latencies = Array.from({ length: 20 }, (_, i) => 20 - i); // out of order on purpose
    const { draft, customer } = await usageDraft(ledger, clock, scope, { storage: [], latencies });
    expect(line(draft, 'usage:latency_ms')).toMatchObject({ quantity: '19', amount: 1900 });
    // The raw read behind it: 20 events of the window, oldest first.
    const events = await ledger.store.usage.eventsIn!(scope, { customerId: customer.id, featureKey: 'latency_ms', from: T0, to: PERIOD_END });
    expect(events.map((e) => e.quantity)).toEqual(latencies.map(String));
    expect(draft.total).toBe(2500 + 1900); // storage's minimum applies at 0 GB too
  });
});

describe('plans naming extensions', () => {
  it('a plan naming an unknown strategy or aggregator, or params the strategy refuses, is invalid and not created', async () => {
    const { ledger, scope } = await engine(undefined);
    const storage = meteredPlan.features[0]!;
    await rejects(
      ledger.plans.create(scope, { ...meteredPlan, features: [{ ...storage, price: { model: 'custom', strategy: 'nope' } }] }),
      'invalid',
      /unknown pricing strategy "nope": the engine has "minimum_charge"/,
    );
    await rejects(
      ledger.plans.create(scope, { ...meteredPlan, features: [{ ...storage, price: { model: 'custom', strategy: 'minimum_charge', params: { unitPrice: 3 } } }] }),
      'invalid',
      /minimum_charge takes unitPrice and minimum/,
    );
    await rejects(
      ledger.plans.create(scope, { ...meteredPlan, features: [{ ...meteredPlan.features[1]!, aggregator: 'p99' }] }),
      'invalid',
      /unknown usage aggregator "p99": the engine has "p95"/,
    );
    await rejects(
      ledger.plans.create(scope, { ...meteredPlan, features: [{ key: 'seats', name: 'Seats', kind: 'licensed', price: { model: 'custom', strategy: 'minimum_charge', params: { unitPrice: '1', minimum: '1' } } }] }),
      'invalid',
      /custom price applies to metered features/,
    );
    expect((await ledger.plans.list(scope)).items).toEqual([]);
    // The engine without extensions refuses the plan the first one took.
    const bare = await createLedger({ logger: silentLogger });
    await rejects(bare.plans.create(scope, meteredPlan), 'invalid', /the engine was given none/);
  });
});

/** A fake tax service: answers per line from a table of rates by region, records requests, fails or stalls on demand. */
function fakeTaxService() {
  const requests: { auth: string | undefined; body: Record<string, any> }[] = [];
  let mode: 'ok' | 'error' | 'stall' | 'garbage' = 'ok';
  const RATES: Record<string, { name: string; percentage: string }[]> = {
    CA: [
      { name: 'CA State Tax', percentage: '7.25' },
      { name: 'SF County Tax', percentage: '1.375' },
    ],
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw);
      requests.push({ auth: req.headers.authorization, body });
      if (mode === 'stall') return; // never answers
      if (mode === 'error') return void res.writeHead(503).end('down');
      res.writeHead(200, { 'content-type': 'application/json' });
      if (mode === 'garbage') return void res.end(JSON.stringify({ lines: [{ id: 'x', tax: 1.5 }] }));
      const rates = RATES[body.customer.region] ?? [];
      const pct = rates.reduce((s, r) => s.plus(r.percentage), new Dec(0));
      res.end(
        JSON.stringify({
          inclusive: false,
          lines: body.lines.map((l: { id: string; amount: number }) => ({
            id: l.id,
            // Half away from zero, per line.
            tax: new Dec(l.amount).times(pct).div(100).toDecimalPlaces(0, Dec.ROUND_HALF_UP).toNumber(),
            rates: l.amount === 0 ? [] : rates,
          })),
          note: rates.length ? null : 'Not taxable here',
        }),
      );
    });
  });
  return {
    requests,
    set: (m: typeof mode) => void (mode = m),
    async start() {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/tax/calculate`;
    },
    stop: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe('the tax plugin against a tax service of the tests own', () => {
  const service = fakeTaxService();
  let url = '';
  beforeAll(async () => (url = await service.start()));
  afterAll(() => service.stop());
  afterEach(() => service.set('ok'));

  const taxed = () => engine(undefined, { taxCalculator: taxServiceCalculator({ url, apiKey: 'tax_test_key', timeoutMs: 300 }) });

  it('100.00 of usage in San Francisco: 7.25 % + 1.375 % = 8.63 of tax, per the service, on the finalized invoice', async () => {
    const { ledger, clock, scope } = await taxed();
    // 3,000 GB: 2,000 above the included at 0.03 = 60.00; latencies p95 40 → 40.00.
    const { draft, customer } = await usageDraft(ledger, clock, scope, { storage: [3000], latencies: [40] });
    const inv = await ledger.invoices.finalize(scope, draft.id);
    expect(inv).toMatchObject({ status: 'open', subtotal: 10000, tax: 518 + 345, total: 10863, taxInclusive: false, taxNote: null });
    expect(inv.taxRate).toEqual({ id: 'tax_service', displayName: 'CA State Tax + SF County Tax', percentage: '8.625', inclusive: false });
    expect(line(inv, 'usage:storage_gb')).toMatchObject({ amount: 6000, tax: 518, taxName: 'CA State Tax + SF County Tax' }); // 517.5 → 518
    expect(line(inv, 'usage:latency_ms')).toMatchObject({ amount: 4000, tax: 345 });
    const last = service.requests.at(-1)!;
    expect(last.auth).toBe('Bearer tax_test_key');
    expect(last.body).toMatchObject({
      currency: 'USD',
      customer: { id: customer.id, country: 'US', region: 'CA', postalCode: '94103', taxStatus: 'taxable' },
      lines: [
        { id: 'usage:storage_gb', amount: 6000, quantity: '3000' },
        { id: 'usage:latency_ms', amount: 4000, quantity: '40' },
      ],
    });
  });

  it('a region the service does not tax: no tax, with the service note', async () => {
    const { ledger, clock, scope } = await taxed();
    const { draft } = await usageDraft(ledger, clock, scope, { storage: [3000], latencies: [] }, { country: 'US', region: 'OR' });
    expect(draft).toMatchObject({ tax: 0, taxRate: null, taxNote: 'Not taxable here', total: 6000 });
  });

  it.each(['error', 'stall', 'garbage'] as const)('the service %s: finalizing is refused (illegal_state), the invoice stays an unnumbered draft; it finalizes once the service answers', async (mode) => {
    const { ledger, clock, scope } = await taxed();
    const { draft } = await usageDraft(ledger, clock, scope, { storage: [3000], latencies: [] });
    service.set(mode);
    await rejects(ledger.invoices.finalize(scope, draft.id), 'illegal_state', /tax service could not tax this invoice/);
    expect(await ledger.invoices.get(scope, draft.id)).toMatchObject({ status: 'draft', number: null });
    service.set('ok');
    expect(await ledger.invoices.finalize(scope, draft.id)).toMatchObject({ status: 'open', tax: 518, total: 6518 });
  });

  it('down when a subscription starts: the subscription stands, its first invoice stays owed; the next billing run issues it, taxed', async () => {
    const { ledger, clock, scope } = await taxed();
    const plan = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const c = await ledger.customers.create(scope, { email: 'a@example.com', name: 'C', country: 'US', region: 'CA', collectionMethod: 'send_invoice' });
    service.set('error');
    expect(await ledger.subscriptions.create(scope, { customerId: c.id, planId: plan.id })).toMatchObject({ status: 'active' });
    expect((await ledger.invoices.listByCustomer(scope, c.id)).items).toEqual([]);
    service.set('ok');
    await ledger.runBillingCycle(scope, clock.now());
    const [inv] = (await ledger.invoices.listByCustomer(scope, c.id)).items;
    expect(inv).toMatchObject({ subtotal: 4900, tax: 423, total: 5323 }); // 8.625 % of 49.00 = 4.226… → 4.23
  });

  it('without a tax calculator the rate table taxes, as before: 10 % of 60.00 is 6.00', async () => {
    const { ledger, clock, scope } = await engine(undefined);
    await ledger.taxRates.create(scope, { displayName: 'CA sales tax', country: 'US', region: 'CA', percentage: '10' });
    const { draft } = await usageDraft(ledger, clock, scope, { storage: [3000], latencies: [] });
    expect(draft).toMatchObject({ subtotal: 6000 + 2500 - 2500, tax: 600, total: 6600 });
    expect(draft.taxRate).toMatchObject({ displayName: 'CA sales tax', percentage: '10' });
  });
});

describe('an invoice formatter', () => {
  const formatter: InvoiceFormatter = {
    number: ({ sequence, kind, issuedAt }) => `${kind === 'credit_note' ? 'CR-' : ''}${issuedAt.getUTCFullYear()}-${String(sequence).padStart(4, '0')}`,
    render: (_scope, inv) => ({
      contentType: 'text/csv; charset=utf-8',
      filename: `${inv.number ?? inv.id}.csv`,
      body: ['line,amount', ...inv.lines.map((l) => `${l.id},${l.amount}`), `total,${inv.total}`].join('\n'),
    }),
  };

  it('numbers invoices 2025-0001, 2025-0002 and credit notes CR-2025-0001; its CSV is what the PDF route serves', async () => {
    const { ledger, scope } = await engine(undefined, { invoiceFormatter: formatter });
    const plan = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const numbers: string[] = [];
    let first: Invoice | null = null;
    for (const email of ['a@example.com', 'b@example.com']) {
      const c = await ledger.customers.create(scope, { email, name: 'C', collectionMethod: 'send_invoice' });
      await ledger.subscriptions.create(scope, { customerId: c.id, planId: plan.id });
      const [inv] = (await ledger.invoices.listByCustomer(scope, c.id)).items;
      numbers.push(inv!.number!);
      first ??= inv!;
    }
    expect(numbers).toEqual(['2025-0001', '2025-0002']);
    const { creditNote } = await ledger.invoices.createCreditNote(scope, first!.id, { amount: 900, reason: 'duplicate' });
    expect(creditNote.number).toBe('CR-2025-0001');

    const rt = { ledger } as unknown as Runtime;
    const res = await invoicePdfResponse(rt, first!.id, { kind: 'api_key', scope });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="2025-0001.csv"');
    expect(await res.text()).toBe('line,amount\nbase_fee:plan,4900\ntotal,4900');
  });

  it('a number that is not printable text refuses the finalization and uses no number', async () => {
    let bad = true;
    const { ledger, scope } = await engine(undefined, { invoiceFormatter: { number: ({ sequence }) => (bad ? '' : `N${sequence}`) } });
    const plan = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const c = await ledger.customers.create(scope, { email: 'a@example.com', name: 'C', collectionMethod: 'send_invoice' });
    await ledger.subscriptions.create(scope, { customerId: c.id, planId: plan.id }).catch(() => null);
    const [draft] = (await ledger.invoices.listByCustomer(scope, c.id)).items;
    expect(draft).toMatchObject({ status: 'draft', number: null });
    await rejects(ledger.invoices.finalize(scope, draft!.id), 'invalid', /formatter's number "" is not printable/);
    bad = false;
    expect((await ledger.invoices.finalize(scope, draft!.id)).number).toBe('N1'); // the sequence was not used up
  });
});

describe('a coupon validator: first-time customers only', () => {
  it('a returning customer (one with invoices) is refused with the reason; a new one redeems', async () => {
    let ledger: Ledger | null = null;
    const firstTimeOnly: CouponValidator = {
      async validate(scope, { customer }) {
        if (!customer) return { ok: false, reason: 'the coupon is for first-time customers: name the customer' };
        const earlier = await ledger!.invoices.listByCustomer(scope, customer.id, { limit: 1 });
        return earlier.items.length === 0 ? { ok: true } : { ok: false, reason: 'the coupon is for first-time customers only' };
      },
    };
    const e = await engine(undefined, { couponValidator: firstTimeOnly });
    ledger = e.ledger;
    const { scope, clock } = e;
    const plan = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    await ledger.coupons.create(scope, { code: 'WELCOME', name: 'Welcome', percentOff: '50', duration: 'once' });
    const returning = await ledger.customers.create(scope, { email: 'r@example.com', name: 'R', collectionMethod: 'send_invoice' });
    await ledger.subscriptions.create(scope, { customerId: returning.id, planId: plan.id });
    const fresh = await ledger.customers.create(scope, { email: 'f@example.com', name: 'F' });
    const target = (customerId: string) => ({ planKey: 'pro', currency: plan.currency, at: clock.now(), customerId });

    await rejects(ledger.coupons.redeem(scope, 'welcome', target(returning.id)), 'invalid', /WELCOME cannot be redeemed: the coupon is for first-time customers only/);
    expect((await ledger.coupons.getByCode(scope, 'WELCOME')).timesRedeemed).toBe(0);
    expect((await ledger.coupons.redeem(scope, 'welcome', target(fresh.id))).timesRedeemed).toBe(1);
  });
});

describe('a payment provider of the tests own', () => {
  it('collects the invoice through the scope default provider: one charge of 49.00 keyed by the invoice', async () => {
    const flaky = flakyProvider();
    const { ledger, scope } = await engine(undefined, { providers: [flaky.provider], defaultPaymentProvider: 'flaky' });
    await ledger.scopes.register(scope, 'test');
    const plan = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const c = await ledger.customers.create(scope, { email: 'a@example.com', name: 'C', collectionMethod: 'send_invoice' });
    const [method] = await ledger.payments.syncMethods(scope, c.id); // the provider's card, the default
    expect(method).toMatchObject({ provider: 'flaky', last4: '1881', isDefault: true });
    await ledger.subscriptions.create(scope, { customerId: c.id, planId: plan.id });
    const [inv] = (await ledger.invoices.listByCustomer(scope, c.id)).items;
    const { invoice, payment } = await ledger.collectPayment(scope, inv!.id);
    expect(payment).toMatchObject({ provider: 'flaky', amount: 4900, status: 'succeeded' });
    expect(invoice.status).toBe('paid');
    expect(flaky.charges).toEqual([`${inv!.id}:attempt:1`]);
  });
});

describe('coupons and tax rates in the event log', () => {
  it('coupon.created, coupon.updated, coupon.archived; tax_rate.created, tax_rate.updated, tax_rate.archived, each with what changed', async () => {
    const { ledger, scope } = await engine(undefined);
    const coupon = await ledger.coupons.create(scope, { code: 'SUMMER', name: 'Summer', percentOff: '10', duration: 'once' });
    await ledger.coupons.update(scope, coupon.id, { name: 'Summer sale' });
    await ledger.coupons.archive(scope, coupon.id);
    await ledger.coupons.archive(scope, coupon.id); // a no-op: no event
    const rate = await ledger.taxRates.create(scope, { displayName: 'VAT', country: 'GB', percentage: '20' });
    await ledger.taxRates.update(scope, rate.id, { displayName: 'UK VAT' });
    await ledger.taxRates.update(scope, rate.id, { active: false });
    const events = (await ledger.events.list(scope, {}, { limit: 20 })).items.reverse();
    expect(events.map((e) => [e.type, e.objectId, e.customerId])).toEqual([
      ['coupon.created', coupon.id, null],
      ['coupon.updated', coupon.id, null],
      ['coupon.archived', coupon.id, null],
      ['tax_rate.created', rate.id, null],
      ['tax_rate.updated', rate.id, null],
      ['tax_rate.archived', rate.id, null],
    ]);
    expect(events[1]!.previous).toMatchObject({ name: 'Summer' });
    expect(events[5]!.previous).toMatchObject({ active: true });
  });
});
