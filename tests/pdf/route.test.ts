import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '@/server/auth/api-keys';
import { invoicePdfResponse, requesterOf } from '@/server/invoice-pdf/handler';
import type { CustomerId, Invoice, Scope } from '@/server/ledger';
import type { PortalContext } from '@/server/portal/session';
import { createRuntime, getRuntime, type Runtime } from '@/server/runtime';
import { parseEnv } from '@/server/env';
import { uniqueScope } from '../support/stores';
import { createTestRuntime, useMemoryRuntimeEnv } from '../support/runtime';
import { pdfText, rowOf } from './pdf-text';

/**
 * GET /api/invoices/<id>/pdf: who may read which invoice's PDF, and the answer's headers.
 * On the app's runtime (PGlite, and PostgreSQL with TEST_DATABASE_URL). The portal's
 * sign-in is its own work: its context is handed to the handler as currentPortal() would.
 */
useMemoryRuntimeEnv();
const { GET, POST } = await import('@/app/api/invoices/[id]/pdf/route');

const UNKNOWN = 'inv_01h455vb4pex5vsknk084sn02q';
const runtimes: { name: string; open: () => Promise<Runtime> }[] = [
  { name: 'pglite', open: () => createTestRuntime() },
  ...(process.env.TEST_DATABASE_URL
    ? [{ name: 'postgres', open: () => createRuntime(parseEnv({ DATABASE_URL: process.env.TEST_DATABASE_URL!, LEDGER_DEMO: '0' })) }]
    : []),
];

/** A scope with a plan of 49.00 and two customers, A subscribed (its open invoice INV-000001) and B; its API key. */
async function tenant(rt: Runtime, s: Scope = uniqueScope()) {
  const { ledger } = rt;
  await ledger.scopes.register(s, 'test');
  const plan = await ledger.plans.create(s, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
  const a = await ledger.customers.create(s, { email: 'a@example.com', name: 'Customer A', collectionMethod: 'send_invoice' });
  const b = await ledger.customers.create(s, { email: 'b@example.com', name: 'Customer B', collectionMethod: 'send_invoice' });
  await ledger.subscriptions.create(s, { customerId: a.id, planId: plan.id });
  const [invoice] = (await ledger.invoices.listByCustomer(s, a.id)).items;
  expect(invoice).toMatchObject({ number: 'INV-000001', total: 4900 });
  const key = (await createApiKey(rt.database.db, s, 'pdf test')).key;
  return { scope: s, a, b, invoice: invoice!, key };
}

const portal = (s: Scope, customerId: CustomerId, role: PortalContext['role'] = 'member', expiresAt: Date | null = null): PortalContext => ({
  userId: 'usr_test',
  email: 'someone@example.com',
  scope: s,
  customerId,
  role,
  returnUrl: null,
  expiresAt,
});

const request = (id: string, key?: string) =>
  new Request(`http://localhost/api/invoices/${id}/pdf`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

async function expectPdf(res: Response, invoice: Invoice) {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/pdf');
  expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${invoice.number}.pdf"`);
  expect(res.headers.get('cache-control')).toBe('private, no-store');
  const text = pdfText(new Uint8Array(await res.arrayBuffer()));
  expect(text).toContain(invoice.number!);
  expect(rowOf(text, 'Amount due')).toBe('Amount due  $49.00');
}

const errorOf = async (res: Response) => ((await res.json()) as { code: string; error: string }).code;

describe.each(runtimes)('the invoice PDF route on $name', ({ open }) => {
  let rt: Runtime;
  let t: Awaited<ReturnType<typeof tenant>>;
  let other: Awaited<ReturnType<typeof tenant>>;
  const noPortal = async () => null;
  const answer = async (id: string, key?: string) => invoicePdfResponse(rt, id, await requesterOf(rt, request(id, key), noPortal));

  beforeAll(async () => {
    rt = await open();
    t = await tenant(rt);
    other = await tenant(rt);
  });
  afterAll(async () => {
    await rt?.close();
  });

  it("the scope's API key gets the PDF, with its headers", async () => {
    await expectPdf(await answer(t.invoice.id, t.key), t.invoice);
  });

  it("another scope's key: 404, as an invoice that does not exist (never 403)", async () => {
    const res = await answer(t.invoice.id, other.key);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'not_found', error: `invoice ${t.invoice.id} not found` });
    const unknown = await answer(UNKNOWN, t.key);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'not_found', error: `invoice ${UNKNOWN} not found` });
  });

  it('no key, a wrong key, nobody signed in: 401, with nothing read', async () => {
    const none = await answer(t.invoice.id);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await answer(t.invoice.id, 'ldg_test_not_a_key')).status).toBe(401);
    // A key that is wrong is not made good by a portal session.
    const withPortal = await requesterOf(rt, request(t.invoice.id, 'ldg_test_not_a_key'), async () => portal(t.scope, t.a.id));
    expect(withPortal).toBeNull();
  });

  it('a malformed id: 400 invalid', async () => {
    for (const bad of ['42', 'cst_01h455vb4pex5vsknk084sn02q', 'inv_x']) {
      const res = await answer(bad, t.key);
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toBe('invalid');
    }
  });

  it("the portal: the invoice's customer (any role) gets it; another customer of the scope, or of another scope, 404", async () => {
    await expectPdf(await invoicePdfResponse(rt, t.invoice.id, { kind: 'portal', portal: portal(t.scope, t.a.id, 'member') }), t.invoice);
    // Through requesterOf, as the route asks: no Authorization header, the portal's session.
    const viaSession = await requesterOf(rt, request(t.invoice.id), async () => portal(t.scope, t.a.id, 'owner'));
    await expectPdf(await invoicePdfResponse(rt, t.invoice.id, viaSession), t.invoice);

    // Customer B of the same scope: the answer to an id that does not exist.
    const b = await invoicePdfResponse(rt, t.invoice.id, { kind: 'portal', portal: portal(t.scope, t.b.id, 'owner') });
    expect(b.status).toBe(404);
    expect(await b.json()).toMatchObject({ code: 'not_found', error: `invoice ${t.invoice.id} not found` });
    const elsewhere = await invoicePdfResponse(rt, t.invoice.id, { kind: 'portal', portal: portal(other.scope, other.a.id, 'owner') });
    expect(elsewhere.status).toBe(404);
  });

  it('an ended portal session: 401', async () => {
    const ended = portal(t.scope, t.a.id, 'owner', new Date(Date.now() - 1000));
    expect((await invoicePdfResponse(rt, t.invoice.id, { kind: 'portal', portal: ended })).status).toBe(401);
  });
});

describe('through the route module (apiRoute, the app runtime)', () => {
  let t: Awaited<ReturnType<typeof tenant>>;
  beforeAll(async () => {
    t = await tenant(await getRuntime());
  });
  afterAll(async () => {
    await (await getRuntime()).close();
  });

  it('GET with the key: the PDF, a request id; a bad id 400, an unknown 404, both JSON', async () => {
    const res = await GET(request(t.invoice.id, t.key), { params: Promise.resolve({ id: t.invoice.id }) });
    expect(res.headers.get('x-request-id')).toBeTruthy();
    await expectPdf(res, t.invoice);
    const bad = await GET(request('nope', t.key), { params: Promise.resolve({ id: 'nope' }) });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/json');
    const unknown = await GET(request(UNKNOWN, t.key), { params: Promise.resolve({ id: UNKNOWN }) });
    expect(unknown.status).toBe(404);
    const post = await POST(new Request(request(t.invoice.id, t.key), { method: 'POST' }));
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });
});
