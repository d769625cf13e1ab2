import { createApiKey } from '../server/auth/api-keys';
import { createLedger, createPostgresStore, scope, silentLogger } from '../server/ledger';
import { openDatabase } from '../db/client';
import { startApp } from './app';
import { percentile, report } from './report';

/**
 * The portal's server work through the production build (`next start`) on PostgreSQL:
 * `GET /api/invoices/<id>/pdf` of an invoice of 20 lines (a base fee and 19 licensed
 * add-ons, with a coupon and VAT), one request at a time, beside `GET /api/live` of the
 * same app in the same run, interleaved so both see the same machine.
 */
const PORT = 3293;
const ADDONS = 19;

export async function benchPortal(url: string, smoke: boolean): Promise<void> {
  const f = await pdfFixture(url);
  const app = await startApp(url, PORT);
  try {
    const pdfUrl = `${app.base}/api/invoices/${f.invoiceId}/pdf`;
    const headers = { authorization: `Bearer ${f.key}` };
    const get = async (target: string, h: Record<string, string> = {}) => {
      const t0 = performance.now();
      const res = await fetch(target, { headers: h });
      const body = new Uint8Array(await res.arrayBuffer());
      if (res.status !== 200) throw new Error(`${target} answered ${res.status}: ${new TextDecoder().decode(body).slice(0, 300)}`);
      return { ms: performance.now() - t0, bytes: body.length };
    };
    // Warm up: the first requests load the route's modules and open the runtime.
    for (let i = 0; i < 10; i++) await Promise.all([get(pdfUrl, headers), get(`${app.base}/api/live`)]);

    const rounds = smoke ? 30 : 500;
    const pdf: number[] = [];
    const live: number[] = [];
    let bytes = 0;
    for (let i = 0; i < rounds; i++) {
      live.push((await get(`${app.base}/api/live`)).ms);
      const r = await get(pdfUrl, headers);
      pdf.push(r.ms);
      bytes = r.bytes;
    }
    pdf.sort((a, b) => a - b);
    live.sort((a, b) => a - b);
    report({ name: 'portal.trivial_p99_ms', value: percentile(live, 99), unit: 'ms', note: `GET /api/live, ${rounds} sequential requests; p50 ${percentile(live, 50).toFixed(2)} ms` });
    report({
      name: 'portal.invoice_pdf_p99_ms',
      value: percentile(pdf, 99),
      unit: 'ms',
      baseline: 'portal.trivial_p99_ms',
      note: `GET /api/invoices/<id>/pdf with an API key, ${ADDONS + 1} lines, ${bytes} bytes, ${rounds} sequential requests; p50 ${percentile(pdf, 50).toFixed(2)} ms`,
    });
  } finally {
    await app.stop();
    await f.close();
  }
}

/** A scope with an open invoice of 20 lines (VAT, a 10 % coupon) and an API key. */
async function pdfFixture(url: string) {
  const database = await openDatabase({ url });
  const ledger = await createLedger({ store: createPostgresStore(database.db), logger: silentLogger });
  try {
    const s = scope(`bench-pdf-${Date.now()}-${Math.floor(Math.random() * 1e6)}`, 'app');
    await ledger.taxRates.create(s, { displayName: 'VAT', country: 'GB', percentage: '20' });
    await ledger.coupons.create(s, { code: 'BENCH10', name: 'Bench 10 %', percentOff: '10', duration: 'forever' });
    const plan = await ledger.plans.create(s, {
      key: 'team',
      name: 'Team',
      currency: 'USD',
      interval: { unit: 'month' },
      basePrice: 4900,
      features: Array.from({ length: ADDONS }, (_, i) => ({
        key: `addon_${i}`,
        name: `Add-on ${i + 1}: priority support, audit log and single sign-on seats`,
        kind: 'licensed' as const,
        price: { model: 'per_unit' as const, unitPrice: `${i + 1}.25` },
      })),
    });
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
    const { key } = await createApiKey(database.db, s, 'bench');
    return {
      invoiceId: inv.id,
      key,
      async close() {
        await ledger.shutdown();
        await database.close();
      },
    };
  } catch (e) {
    await ledger.shutdown();
    await database.close();
    throw e;
  }
}
