import { encode } from 'next-auth/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '@/server/auth/api-keys';
import { closeRateLimiter } from '@/server/http/rate-limit';
import { apiRoute } from '@/server/http/route';
import { handleTrpc } from '@/server/http/trpc-handler';
import type { CustomerId, Scope } from '@/server/ledger';
import type { PortalClaim } from '@/server/portal/claims';
import { addMembership, userByEmail } from '@/server/portal/store';
import type { Runtime } from '@/server/runtime';
import { createTestRuntime } from '../support/runtime';
import { uniqueScope } from '../support/stores';

/**
 * CSRF on /api/trpc (PGlite runtime, the real handler): a POST signed in by the portal's
 * session cookie is done only when its Origin is this app's (or, with no Origin,
 * `Sec-Fetch-Site: same-origin`); otherwise 403 and nothing changes. The app is reached at
 * billing.internal:3000 (Host); LEDGER_PUBLIC_URL is https://billing.example.com. API-key
 * calls, whatever their Origin, and reads are not concerned.
 */
const COOKIE = 'authjs.session-token';
const PUBLIC_URL = 'https://billing.example.com';

let rt: Runtime;
let s: Scope;
let customerId: CustomerId;
let cookie: string;
let apiKey: string;

const trpc = apiRoute('test trpc', (req: Request) => handleTrpc(rt, req));
const post = (path: string, input: unknown, headers: Record<string, string>) =>
  trpc(
    new Request(`http://billing.internal:3000/api/trpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', host: 'billing.internal:3000', ...headers },
      body: JSON.stringify({ json: input }),
    }),
  );
/** Cancel at the period end: the write the checks guard (undone by `resume` between cases). */
const cancel = (headers: Record<string, string>) => post('accountPlans.cancel', { at: 'period_end', reason: 'too_expensive' }, { cookie, ...headers });
const cancelScheduled = async () => (await rt.ledger.subscriptions.listByCustomer(s, customerId)).items[0]!.cancelAtPeriodEnd;
const resumeDirectly = async () => {
  const sub = (await rt.ledger.subscriptions.listByCustomer(s, customerId)).items[0]!;
  if (sub.cancelAtPeriodEnd) await rt.ledger.subscriptions.resume(s, sub.id);
};

beforeAll(async () => {
  rt = await createTestRuntime({ AUTH_SECRET: 'a-test-auth-secret-of-at-least-32-characters', LEDGER_PUBLIC_URL: PUBLIC_URL });
  s = uniqueScope();
  await rt.ledger.scopes.register(s, 'test');
  const plan = await rt.ledger.plans.create(s, { key: 'basic', name: 'Basic', currency: 'USD', interval: { unit: 'month' }, basePrice: 1000, features: [] });
  customerId = (await rt.ledger.customers.create(s, { email: 'ada@example.com', name: 'Ada', collectionMethod: 'send_invoice' })).id;
  await rt.ledger.subscriptions.create(s, { customerId, planId: plan.id });
  const user = await userByEmail(rt.database.db, `owner-${s.tenantId}@example.com`);
  await addMembership(rt.database.db, s, customerId, user.id, 'owner', rt.ledger.clock.now());
  const claim: PortalClaim = { ...s, customerId, role: 'owner', session: null };
  cookie = `${COOKIE}=${await encode({ token: { sub: user.id, email: user.email, portal: claim }, secret: rt.authSecret!, salt: COOKIE })}`;
  apiKey = (await createApiKey(rt.database.db, s, 'server')).key;
});
afterAll(async () => {
  await closeRateLimiter(rt.env);
  await rt.close();
});

describe('a portal-cookie POST to /api/trpc from another site', () => {
  it.each([
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['a foreign Origin, even with Sec-Fetch-Site: same-origin', { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' }],
    ['our host on another port', { origin: 'http://billing.internal:4000' }],
    ['Origin: null (a sandboxed frame, a redirect)', { origin: 'null' }],
    ['no Origin and Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['neither Origin nor Sec-Fetch-Site', {}],
  ])('%s: 403 FORBIDDEN, the subscription is not cancelled', async (_, headers: Record<string, string>) => {
    const res = await cancel(headers);
    expect(res.status).toBe(403);
    // tRPC's error envelope, through the superjson transformer.
    const { error } = (await res.json()) as { error: { json: { message: string; data: { code: string } } } };
    expect(error.json.data.code).toBe('FORBIDDEN');
    expect(error.json.message).toMatch(/^cross-site request refused: .*nothing was done$/);
    expect(await cancelScheduled()).toBe(false);
  });

  it('a batch is refused whole: none of its calls is done', async () => {
    const res = await trpc(
      new Request('http://billing.internal:3000/api/trpc/accountPlans.cancel,accountPlans.applyCoupon?batch=1', {
        method: 'POST',
        headers: { 'content-type': 'application/json', host: 'billing.internal:3000', origin: 'https://evil.example', cookie },
        body: JSON.stringify({ 0: { json: { at: 'period_end', reason: 'too_expensive' } }, 1: { json: { code: 'NOPE' } } }),
      }),
    );
    expect(res.status).toBe(403);
    expect(await cancelScheduled()).toBe(false);
  });
});

describe('a portal-cookie POST from our own pages', () => {
  it.each([
    ['Origin is the Host', { origin: 'http://billing.internal:3000' }],
    ['Origin is the public URL (LEDGER_PUBLIC_URL), behind a proxy that rewrote Host', { origin: PUBLIC_URL }],
    ['Origin is X-Forwarded-Host, the first of a list', { origin: 'https://portal.example.org', 'x-forwarded-host': 'portal.example.org, lb.internal' }],
    ['Origin with the default port spelled out is the same host', { origin: 'https://billing.example.com:443' }],
    ['no Origin, Sec-Fetch-Site: same-origin', { 'sec-fetch-site': 'same-origin' }],
  ])('%s: done', async (_, headers: Record<string, string>) => {
    const res = await cancel(headers);
    expect(res.status).toBe(200);
    expect(await cancelScheduled()).toBe(true);
    await resumeDirectly();
  });

  it('a foreign X-Forwarded-Host is no way round: the Origin must still match a host we answer as', async () => {
    const res = await cancel({ origin: 'https://evil.example', 'x-forwarded-host': 'billing.example.com' });
    expect(res.status).toBe(403);
    expect(await cancelScheduled()).toBe(false);
  });

  it('a read (GET) is not a write and is answered from any origin: the browser keeps its answer from another site (no CORS)', async () => {
    const res = await trpc(
      new Request(`http://billing.internal:3000/api/trpc/accountPlans.previewCancel`, { headers: { host: 'billing.internal:3000', origin: 'https://evil.example', cookie } }),
    );
    expect(res.status).toBe(200);
  });
});

describe('API-key calls', () => {
  it('are done whatever their Origin, with or without the cookie', async () => {
    const variants: Record<string, string>[] = [{ origin: 'https://evil.example' }, { origin: 'null' }, {}, { origin: 'https://evil.example', cookie }];
    for (const headers of variants) {
      const email = `k-${Object.keys(headers).join('-') || 'none'}@example.com`;
      const res = await post('customers.create', { email, name: 'By key' }, { authorization: `Bearer ${apiKey}`, ...headers });
      expect(res.status).toBe(200);
      const { items } = await rt.ledger.customers.list(s, { limit: 100 });
      expect(items.some((c) => c.email === email)).toBe(true);
    }
  });

  it('with no key and no cookie, a POST is refused as before: 401, not 403', async () => {
    const res = await post('accountPlans.cancel', { at: 'period_end', reason: 'too_expensive' }, { origin: 'https://evil.example' });
    expect(res.status).toBe(401);
  });
});
