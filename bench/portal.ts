import { randomBytes } from 'node:crypto';
import { createApiKey } from '../server/auth/api-keys';
import { createLedger, createPostgresStore, scope, silentLogger, type CreatePlanInput, type Ledger } from '../server/ledger';
import { createLedgerClient } from '../server/trpc/client';
import { openDatabase, type Database } from '../db/client';
import { startApp } from './app';
import { percentile, report } from './report';

/**
 * The portal's server work through the production build (`next start`) on PostgreSQL,
 * one request at a time, beside `GET /api/live` of the same app in the same run,
 * interleaved so both see the same machine:
 * - `GET /portal`, the overview page, signed in through a portal session, for a customer
 *   with two years of monthly invoices (24, made by the billing cycle on a test clock,
 *   paid by card) and usage this period;
 * - `GET /api/invoices/<id>/pdf` of an invoice of 20 lines (a base fee and 19 licensed
 *   add-ons, with a coupon and VAT).
 */
const PORT = 3293;
const ADDONS = 19;
const MONTHS = 24;

export async function benchPortal(url: string, smoke: boolean): Promise<void> {
  const f = await pdfFixture(url);
  const o = await overviewFixture(url);
  // The portal's sign-in needs a secret for its cookies on a real database (runtime.ts).
  const app = await startApp(url, PORT, { AUTH_SECRET: randomBytes(33).toString('base64'), LEDGER_PUBLIC_URL: `http://127.0.0.1:${PORT}` });
  try {
    const pdfUrl = `${app.base}/api/invoices/${f.invoiceId}/pdf`;
    const overviewUrl = `${app.base}/portal`;
    const headers = { authorization: `Bearer ${f.key}` };
    const cookie = await portalCookie(app.base, o.key, o.customerId);
    const get = async (target: string, h: Record<string, string> = {}) => {
      const t0 = performance.now();
      // Not following redirects: a signed-out portal answers 307 to its sign-in page.
      const res = await fetch(target, { headers: h, redirect: 'manual' });
      const body = new Uint8Array(await res.arrayBuffer());
      if (res.status !== 200) throw new Error(`${target} answered ${res.status}: ${new TextDecoder().decode(body).slice(0, 300)}`);
      return { ms: performance.now() - t0, bytes: body.length, body };
    };
    // The page is the customer's overview, with its invoices (not an error page).
    const page = new TextDecoder().decode((await get(overviewUrl, { cookie })).body);
    if (!page.includes(o.latestNumber)) throw new Error(`GET /portal does not show the latest invoice ${o.latestNumber}`);
    // Warm up: the first requests load the routes' modules and open the runtime.
    for (let i = 0; i < 10; i++) await Promise.all([get(pdfUrl, headers), get(overviewUrl, { cookie }), get(`${app.base}/api/live`)]);

    const rounds = smoke ? 30 : 500;
    const pdf: number[] = [];
    const overview: number[] = [];
    const live: number[] = [];
    let bytes = 0;
    let pageBytes = 0;
    for (let i = 0; i < rounds; i++) {
      live.push((await get(`${app.base}/api/live`)).ms);
      const r = await get(pdfUrl, headers);
      pdf.push(r.ms);
      bytes = r.bytes;
      const p = await get(overviewUrl, { cookie });
      overview.push(p.ms);
      pageBytes = p.bytes;
    }
    pdf.sort((a, b) => a - b);
    overview.sort((a, b) => a - b);
    live.sort((a, b) => a - b);
    const trivialP99 = percentile(live, 99);
    report({ name: 'portal.trivial_p99_ms', value: trivialP99, unit: 'ms', note: `GET /api/live, ${rounds} sequential requests; p50 ${percentile(live, 50).toFixed(2)} ms` });
    report({
      name: 'portal.invoice_pdf_p99_ms',
      value: percentile(pdf, 99),
      unit: 'ms',
      baseline: 'portal.trivial_p99_ms',
      note: `GET /api/invoices/<id>/pdf with an API key, ${ADDONS + 1} lines, ${bytes} bytes, ${rounds} sequential requests; p50 ${percentile(pdf, 50).toFixed(2)} ms`,
    });
    report({
      name: 'portal.overview_p99_ms',
      value: percentile(overview, 99),
      unit: 'ms',
      baseline: 'portal.trivial_p99_ms',
      note:
        `GET /portal (server-rendered overview) with a portal session cookie, a customer of ${MONTHS} monthly invoices, ${pageBytes} bytes, ` +
        `${rounds} sequential requests; p50 ${percentile(overview, 50).toFixed(2)} ms (trivial ${percentile(live, 50).toFixed(2)} ms); ` +
        `p99 ${(percentile(overview, 99) / trivialP99).toFixed(1)}× the trivial route's, p50 ${(percentile(overview, 50) / percentile(live, 50)).toFixed(1)}×`,
    });
  } finally {
    await app.stop();
    await f.close();
    await o.close();
  }
}

/**
 * Signs in as the app's users are sent in: the product's backend asks for a portal
 * session with its API key (`portal.createSession`), the browser opens its URL, which
 * sets the session cookie and redirects to the portal. Returns the cookie header.
 */
async function portalCookie(base: string, key: string, customerId: string): Promise<string> {
  const client = createLedgerClient({ url: base, apiKey: key });
  const { url } = await client.portal.createSession.mutate({ customerId });
  // The URL starts with the app's public URL; the path is what this app serves.
  const res = await fetch(`${base}${new URL(url).pathname}`, { redirect: 'manual' });
  const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]!);
  if (res.status >= 400 || cookies.length === 0) throw new Error(`the portal session URL answered ${res.status} with no cookie`);
  return cookies.join('; ');
}

/**
 * A test-mode scope with a customer two years into a monthly plan: 49.00 a month in
 * advance plus API calls at 0.01 over 1,000 included, paid by a sandbox card. The test
 * clock starts on 2024-01-01 and is advanced to 2025-12-01 through the billing cycle, so
 * the 24 invoices are the engine's own (finalized, charged, paid); 800 calls this period.
 */
function overviewFixture(url: string) {
  return fixture(url, async (ledger, db) => {
    const s = scope(`bench-portal-${Date.now()}-${Math.floor(Math.random() * 1e6)}`, 'app');
    const { key } = await createApiKey(db, s, 'bench', { mode: 'test' });
    const plan = await ledger.plans.create(s, teamPlan([{ key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', limit: 10_000, includedUnits: 1_000, price: { model: 'per_unit', unitPrice: '0.01' } }]));
    const clock = await ledger.testClocks.create(s, { at: new Date('2024-01-01T00:00:00Z') });
    const c = await ledger.customers.create(s, { email: 'billing@bench.example', name: 'Bench Portal Ltd', testClockId: clock.id });
    await ledger.payments.sandbox.attachCard(s, c.id, { number: '4242424242424242', expMonth: 12, expYear: 2030 });
    await ledger.subscriptions.create(s, { customerId: c.id, planId: plan.id, trialDays: 0 });
    // Two advances: the clock's bound is 50 period ends per subscription (and drafts wait an hour).
    await ledger.billing.advanceClock(s, { id: clock.id, to: new Date('2025-01-01T02:00:00Z') });
    await ledger.billing.advanceClock(s, { id: clock.id, to: new Date('2025-12-01T02:00:00Z') });
    await ledger.meter.meterDurable(s, [{ idempotencyKey: 'calls-1', customerId: c.id, featureKey: 'api_calls', quantity: 800, timestamp: '2025-12-01T01:00:00Z' }]);
    const latest = await ledger.invoices.pageByCustomer(s, c.id, { page: 1, perPage: 1 });
    const first = latest.items[0];
    if (latest.total !== MONTHS || !first?.number || first.status !== 'paid') {
      throw new Error(`expected ${MONTHS} invoices, the latest paid, got ${latest.total} (latest ${first?.status})`);
    }
    return { key, customerId: c.id as string, latestNumber: first.number };
  });
}

/** A scope with an open invoice of 20 lines (VAT, a 10 % coupon) and an API key. */
function pdfFixture(url: string) {
  return fixture(url, async (ledger, db) => {
    const s = scope(`bench-pdf-${Date.now()}-${Math.floor(Math.random() * 1e6)}`, 'app');
    await ledger.taxRates.create(s, { displayName: 'VAT', country: 'GB', percentage: '20' });
    await ledger.coupons.create(s, { code: 'BENCH10', name: 'Bench 10 %', percentOff: '10', duration: 'forever' });
    const plan = await ledger.plans.create(
      s,
      teamPlan(
        Array.from({ length: ADDONS }, (_, i) => ({
          key: `addon_${i}`,
          name: `Add-on ${i + 1}: priority support, audit log and single sign-on seats`,
          kind: 'licensed' as const,
          price: { model: 'per_unit' as const, unitPrice: `${i + 1}.25` },
        })),
      ),
    );
    const c = await ledger.customers.create(s, {
      email: 'billing@bench.example',
      name: 'Bench Customer Ltd',
      country: 'GB',
      address: { line1: '1 Bench Street', city: 'London', postalCode: 'EC1A 1BB' },
      taxId: 'GB123456789',
      collectionMethod: 'send_invoice',
    });
    await ledger.subscriptions.create(s, { customerId: c.id, planId: plan.id, quantity: 3, couponCode: 'BENCH10', trialDays: 0 });
    const [inv] = (await ledger.invoices.listByCustomer(s, c.id)).items;
    if (!inv || inv.lines.length !== ADDONS + 1) throw new Error(`expected an invoice of ${ADDONS + 1} lines, got ${inv?.lines.length}`);
    const { key } = await createApiKey(db, s, 'bench');
    return { invoiceId: inv.id, key };
  });
}

/** Both fixtures' plan: "Team", 49.00 a month in advance, with `features`. */
const teamPlan = (features: CreatePlanInput['features']): CreatePlanInput => ({ key: 'team', name: 'Team', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900, features });

/** An engine on the database at `url`, given to `make`; both are closed by the fixture's `close`, or at once when `make` fails. */
async function fixture<T>(url: string, make: (ledger: Ledger, db: Database) => Promise<T>): Promise<T & { close(): Promise<void> }> {
  const database = await openDatabase({ url });
  const ledger = await createLedger({ store: createPostgresStore(database.db), logger: silentLogger });
  const close = async () => {
    await ledger.shutdown();
    await database.close();
  };
  try {
    return { ...(await make(ledger, database.db)), close };
  } catch (e) {
    await close();
    throw e;
  }
}
