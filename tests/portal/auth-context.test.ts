import { encode } from 'next-auth/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '@/server/auth/api-keys';
import type { PortalClaim } from '@/server/portal/claims';
import { portalFromRequest } from '@/server/portal/request-session';
import { addMembership, userByEmail } from '@/server/portal/store';
import { createContext } from '@/server/trpc/context';
import { createCaller } from '@/server/trpc/root';
import type { Runtime } from '@/server/runtime';
import { uniqueScope } from '../support/stores';
import { createTestRuntime } from '../support/runtime';

/**
 * tRPC's context from a request: the portal's session cookie (a JWT sealed with the
 * runtime's AUTH_SECRET, as Auth.js writes it) makes a portal context; an API key wins
 * when both are sent; a cookie sealed with another secret, a bearer JWT, or a removed
 * membership is nobody.
 */
describe('the portal session cookie in the tRPC context (PGlite runtime)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createTestRuntime({ AUTH_SECRET: 'a-test-auth-secret-of-at-least-32-characters' });
  });
  afterAll(() => rt.close());

  const COOKIE = 'authjs.session-token';
  const seal = (payload: Record<string, unknown>, secret = rt.authSecret!, salt = COOKIE) => encode({ token: payload, secret, salt });
  const request = (headers: Record<string, string>) => new Request('http://localhost/api/trpc/portal.me', { headers });

  async function signedInOwner() {
    const s = uniqueScope();
    await rt.ledger.scopes.register(s, 'test');
    const customer = await rt.ledger.customers.create(s, { email: 'ada@example.com', name: 'Ada' });
    const user = await userByEmail(rt.database.db, `owner-${s.tenantId}@example.com`);
    await addMembership(rt.database.db, s, customer.id, user.id, 'owner', rt.ledger.clock.now());
    const claim: PortalClaim = { ...s, customerId: customer.id, role: 'owner', session: null };
    const jwt = await seal({ sub: user.id, email: user.email, portal: claim });
    return { s, customer, user, jwt };
  }

  it('a session cookie gives a portal context; portal.me answers from it', async () => {
    const { s, customer, user, jwt } = await signedInOwner();
    const ctx = await createContext(request({ cookie: `other=1; ${COOKIE}=${jwt}` }), rt);
    expect(ctx.auth).toMatchObject({ kind: 'portal', scope: s, portal: { userId: user.id, customerId: customer.id, role: 'owner' } });
    expect(await createCaller(ctx).portal.me()).toEqual({ userId: user.id, email: user.email, customerId: customer.id, role: 'owner', returnUrl: null, expiresAt: null });
    // Auth.js splits a large cookie in chunks; the secure name is read too.
    const half = Math.ceil(jwt.length / 2);
    expect((await portalFromRequest(rt, request({ cookie: `${COOKIE}.0=${jwt.slice(0, half)}; ${COOKIE}.1=${jwt.slice(half)}` })))?.customerId).toBe(customer.id);
    const secure = await seal({ sub: user.id, email: user.email, portal: { ...s, customerId: customer.id, role: 'owner', session: null } }, rt.authSecret!, `__Secure-${COOKIE}`);
    expect((await portalFromRequest(rt, request({ cookie: `__Secure-${COOKIE}=${secure}` })))?.customerId).toBe(customer.id);
  });

  it('an API key wins over a session cookie', async () => {
    const { jwt } = await signedInOwner();
    const keyScope = uniqueScope();
    const { key, id } = await createApiKey(rt.database.db, keyScope, 'k', { mode: 'test' });
    const ctx = await createContext(request({ cookie: `${COOKIE}=${jwt}`, authorization: `Bearer ${key}` }), rt);
    expect(ctx.auth).toEqual({ kind: 'api_key', scope: keyScope, keyId: id });
  });

  it('nobody: another secret, a bearer JWT instead of a cookie, garbage, or a claim for a customer the user does not belong to', async () => {
    const { s, user, jwt } = await signedInOwner();
    const forged = await seal({ sub: user.id, email: user.email, portal: { ...s, customerId: 'cst_x', role: 'owner', session: null } }, 'another-secret-of-at-least-32-characters!!');
    const attempts: Record<string, string>[] = [{ cookie: `${COOKIE}=${forged}` }, { authorization: `Bearer ${jwt}` }, { cookie: `${COOKIE}=not-a-jwt` }, { cookie: `${COOKIE}=%E0%A4%A` }];
    for (const headers of attempts) {
      expect((await createContext(request(headers), rt)).auth).toBeNull();
    }
    const other = await rt.ledger.customers.create(s, { email: 'b@example.com', name: 'B' });
    const elsewhere = await seal({ sub: user.id, email: user.email, portal: { ...s, customerId: other.id, role: 'owner', session: null } });
    expect((await createContext(request({ cookie: `${COOKIE}=${elsewhere}` }), rt)).auth).toBeNull();
  });
});
