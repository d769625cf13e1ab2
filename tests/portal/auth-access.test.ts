import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '@/db/client';
import { parseEnv } from '@/server/env';
import { createLedger, createPostgresStore, ManualClock, silentLogger, type CustomerId, type Ledger, type Scope } from '@/server/ledger';
import { portalFromClaims, type PortalClaim } from '@/server/portal/claims';
import { registerPortalDeps } from '@/server/portal/database';
import type { PortalContext, PortalRole } from '@/server/portal/session';
import { acceptInvitations, addMembership, consumePortalSession, invitationByToken, readMailbox, userByEmail } from '@/server/portal/store';
import { createCallerFactory, portalBillingProcedure, router } from '@/server/trpc/init';
import { createCaller } from '@/server/trpc/root';
import { uniqueScope } from '../support/stores';
import { codeOf } from '../support/trpc';

/**
 * Who signs in to the portal, through the tRPC procedures (createCaller with an API key
 * or a portal context) and the session claims the cookie carries, on PGlite and (with
 * TEST_DATABASE_URL) PostgreSQL: portal session URLs (single use, 5 minutes, an hour
 * signed in), members and invitations (owners only; never the last owner), roles
 * (member: FORBIDDEN on billing writes) and isolation between customers and scopes.
 */
const T0 = new Date('2026-03-02T09:00:00.000Z');
const MIN = 60_000;

const databases = [
  { name: 'pglite', open: () => openDatabase({ dataDir: 'memory://' }) },
  ...(process.env.TEST_DATABASE_URL ? [{ name: 'postgres', open: () => openDatabase({ url: process.env.TEST_DATABASE_URL! }) }] : []),
];

/** A test router with one billing write, as the pages' procedures use it. */
const billingProbe = createCallerFactory(router({ pay: portalBillingProcedure.mutation(({ ctx }) => `paid for ${ctx.portal.customerId}`) }));

describe.each(databases)('portal sign-in and access on $name', (database) => {
  let handle: DatabaseHandle;
  let ledger: Ledger;
  let clock: ManualClock;

  beforeAll(async () => {
    handle = await database.open();
    clock = new ManualClock(T0);
    ledger = await createLedger({ store: createPostgresStore(handle.db), clock, logger: silentLogger });
    registerPortalDeps({ db: handle.db, ledger, env: parseEnv({ PGLITE_DATA_DIR: 'memory://', LEDGER_DEMO: '0', LEDGER_PUBLIC_URL: 'https://billing.example.com/' }) });
  });
  afterAll(async () => {
    await ledger.shutdown();
    await handle.close();
  });

  const api = (s: Scope) => createCaller({ ledger, auth: { kind: 'api_key', scope: s, keyId: 'key_test' } });
  const asPortal = (p: PortalContext) => createCaller({ ledger, auth: { kind: 'portal', scope: p.scope, portal: p } });
  const now = () => clock.now();
  const claimsOf = (userId: string, email: string, c: PortalClaim) => ({ sub: userId, email, portal: c });

  async function customerIn(s: Scope, email = 'ada@example.com') {
    return api(s).customers.create({ email, name: `Customer ${email}` });
  }

  /** A signed-in user with a membership, and the portal context the cookie's claims give. */
  async function member(s: Scope, customerId: CustomerId, email: string, role: PortalRole) {
    const user = await userByEmail(handle.db, email);
    await addMembership(handle.db, s, customerId, user.id, role, now());
    const ctx = await portalFromClaims(handle.db, claimsOf(user.id, email, { ...s, customerId, role, session: null }), now());
    expect(ctx).not.toBeNull();
    return { user, ctx: ctx! };
  }

  it('createSession: a 5-minute URL under LEDGER_PUBLIC_URL that signs in once, as billing, for an hour, with the return URL', async () => {
    const s = uniqueScope();
    const customer = await customerIn(s);
    const { url, expiresAt } = await api(s).portal.createSession({ customerId: customer.id, returnUrl: 'https://app.example.com/settings' });
    expect(url).toMatch(/^https:\/\/billing\.example\.com\/portal\/session\/[A-Za-z0-9_-]{43}$/);
    expect(expiresAt.toISOString()).toBe(new Date(T0.getTime() + 5 * MIN).toISOString());
    const token = url.slice(url.lastIndexOf('/') + 1);

    clock.advance(4 * MIN);
    const used = await consumePortalSession(handle.db, token, now());
    expect(used).toEqual({ scope: s, customerId: customer.id, returnUrl: 'https://app.example.com/settings', signedInUntil: new Date(now().getTime() + 60 * MIN) });
    // Once only: a second open (even at once) signs nobody in.
    expect(await consumePortalSession(handle.db, token, now())).toBeNull();

    // The claim it gives ends an hour after the open.
    const claim: PortalClaim = { ...s, customerId: customer.id, role: 'billing', session: { returnUrl: used!.returnUrl, expiresAt: used!.signedInUntil.getTime() } };
    const ctx = await portalFromClaims(handle.db, claimsOf('portal-session:x', customer.email, claim), now());
    expect(ctx).toMatchObject({ scope: s, customerId: customer.id, role: 'billing', returnUrl: 'https://app.example.com/settings' });
    expect(await asPortal(ctx!).portal.me()).toEqual({
      userId: 'portal-session:x',
      email: 'ada@example.com',
      customerId: customer.id,
      role: 'billing',
      returnUrl: 'https://app.example.com/settings',
      expiresAt: used!.signedInUntil,
    });
    clock.advance(60 * MIN - 1);
    expect(await portalFromClaims(handle.db, claimsOf('portal-session:x', customer.email, claim), now())).not.toBeNull();
    clock.advance(1);
    expect(await portalFromClaims(handle.db, claimsOf('portal-session:x', customer.email, claim), now())).toBeNull();
  });

  it('createSession: an unopened URL expires at 5 minutes; two opens at once sign in exactly one', async () => {
    const s = uniqueScope();
    const customer = await customerIn(s);
    const late = await api(s).portal.createSession({ customerId: customer.id });
    clock.advance(5 * MIN);
    expect(await consumePortalSession(handle.db, late.url.split('/').pop()!, now())).toBeNull();

    const race = await api(s).portal.createSession({ customerId: customer.id });
    const token = race.url.split('/').pop()!;
    const results = await Promise.all([consumePortalSession(handle.db, token, now()), consumePortalSession(handle.db, token, now())]);
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(results.find((r) => r)?.returnUrl).toBeNull();
  });

  it("createSession: another scope's customer is NOT_FOUND; a portal user or no auth cannot make one; bad URLs are refused", async () => {
    const [a, b] = [uniqueScope(), uniqueScope()];
    const other = await customerIn(b);
    expect(await codeOf(api(a).portal.createSession({ customerId: other.id }))).toBe('NOT_FOUND');
    const mine = await customerIn(a);
    const { ctx } = await member(a, mine.id, `owner-${a.tenantId}@example.com`, 'owner');
    expect(await codeOf(asPortal(ctx).portal.createSession({ customerId: mine.id }))).toBe('UNAUTHORIZED');
    expect(await codeOf(createCaller({ ledger, auth: null }).portal.createSession({ customerId: mine.id }))).toBe('UNAUTHORIZED');
    expect(await codeOf(api(a).portal.createSession({ customerId: mine.id, returnUrl: 'javascript:alert(1)' }))).toBe('BAD_REQUEST');
  });

  it('members: an owner invites by email; signing in with it makes the membership once; list shows members and open invitations', async () => {
    const s = uniqueScope();
    const customer = await customerIn(s);
    const { ctx: owner } = await member(s, customer.id, `owner-${s.tenantId}@example.com`, 'owner');
    const invitee = `Bea-${s.tenantId}@Example.com`;
    const sent = await asPortal(owner).portal.members.invite({ email: invitee, role: 'member' });
    expect(sent).toEqual({ email: invitee.toLowerCase(), role: 'member', expiresAt: new Date(now().getTime() + 7 * 24 * 60 * MIN) });
    const [mail] = await readMailbox(handle.db, { to: invitee });
    expect(mail).toMatchObject({ to: invitee.toLowerCase(), url: expect.stringMatching(/^https:\/\/billing\.example\.com\/portal\/sign-in\?invitation=[A-Za-z0-9_-]{43}$/) });
    expect(mail!.text).toContain(`as member`);
    const token = mail!.url!.split('=')[1]!;
    expect(await invitationByToken(handle.db, token, now())).toEqual({ scope: s, customerId: customer.id, email: invitee.toLowerCase(), role: 'member' });

    let listed = await asPortal(owner).portal.members.list();
    expect(listed.members.map((m) => [m.email, m.role])).toEqual([[owner.email, 'owner']]);
    expect(listed.invitations.map((i) => [i.email, i.role])).toEqual([[invitee.toLowerCase(), 'member']]);

    const bea = await userByEmail(handle.db, invitee);
    clock.advance(1000);
    expect(await acceptInvitations(handle.db, bea.id, invitee, now())).toBe(1);
    expect(await acceptInvitations(handle.db, bea.id, invitee, now())).toBe(0); // once
    expect(await invitationByToken(handle.db, token, now())).toBeNull();
    listed = await asPortal(owner).portal.members.list();
    expect(listed.members.map((m) => [m.email, m.role])).toEqual([
      [owner.email, 'owner'],
      [invitee.toLowerCase(), 'member'],
    ]);
    expect(listed.invitations).toEqual([]);
    const beaCtx = await portalFromClaims(handle.db, claimsOf(bea.id, bea.email, { ...s, customerId: customer.id, role: 'owner', session: null }), now());
    // The role is the membership's, not the claim's.
    expect(beaCtx?.role).toBe('member');
  });

  it('an invitation not accepted within 7 days is gone', async () => {
    const s = uniqueScope();
    const customer = await customerIn(s);
    const { ctx: owner } = await member(s, customer.id, `owner-${s.tenantId}@example.com`, 'owner');
    const email = `late-${s.tenantId}@example.com`;
    await asPortal(owner).portal.members.invite({ email, role: 'billing' });
    clock.advance(7 * 24 * 60 * MIN);
    const late = await userByEmail(handle.db, email);
    expect(await acceptInvitations(handle.db, late.id, email, now())).toBe(0);
    expect((await asPortal(owner).portal.members.list()).invitations).toEqual([]);
  });

  it('roles: billing and member cannot manage users; member gets FORBIDDEN on billing writes; owner and billing pass', async () => {
    const s = uniqueScope();
    const customer = await customerIn(s);
    const { ctx: owner } = await member(s, customer.id, `o-${s.tenantId}@example.com`, 'owner');
    const { ctx: billing } = await member(s, customer.id, `b-${s.tenantId}@example.com`, 'billing');
    const { ctx: viewer } = await member(s, customer.id, `m-${s.tenantId}@example.com`, 'member');
    for (const who of [billing, viewer]) {
      expect(await codeOf(asPortal(who).portal.members.invite({ email: 'x@example.com', role: 'owner' }))).toBe('FORBIDDEN');
      expect(await codeOf(asPortal(who).portal.members.list())).toBe('FORBIDDEN');
      expect(await codeOf(asPortal(who).portal.members.remove({ userId: owner.userId }))).toBe('FORBIDDEN');
    }
    const probe = (p: PortalContext) => billingProbe({ ledger, auth: { kind: 'portal', scope: p.scope, portal: p } });
    expect(await codeOf(probe(viewer).pay())).toBe('FORBIDDEN');
    expect(await probe(billing).pay()).toBe(`paid for ${customer.id}`);
    expect(await probe(owner).pay()).toBe(`paid for ${customer.id}`);
    // An API key is not a portal user.
    expect(await codeOf(api(s).portal.me())).toBe('UNAUTHORIZED');
  });

  it('remove: the last owner stays; a removed member is signed out at their next request', async () => {
    const s = uniqueScope();
    const customer = await customerIn(s);
    const { ctx: owner } = await member(s, customer.id, `o-${s.tenantId}@example.com`, 'owner');
    const { user: bea } = await member(s, customer.id, `b-${s.tenantId}@example.com`, 'member');
    expect(await codeOf(asPortal(owner).portal.members.remove({ userId: owner.userId }))).toBe('PRECONDITION_FAILED');
    expect(await codeOf(asPortal(owner).portal.members.remove({ userId: 'nobody' }))).toBe('NOT_FOUND');
    await asPortal(owner).portal.members.remove({ userId: bea.id });
    expect((await asPortal(owner).portal.members.list()).members.map((m) => m.userId)).toEqual([owner.userId]);
    expect(await portalFromClaims(handle.db, claimsOf(bea.id, bea.email, { ...s, customerId: customer.id, role: 'member', session: null }), now())).toBeNull();

    // With a second owner, the first can go.
    const { user: cy } = await member(s, customer.id, `c-${s.tenantId}@example.com`, 'owner');
    await asPortal(owner).portal.members.remove({ userId: owner.userId });
    expect(await portalFromClaims(handle.db, claimsOf(cy.id, cy.email, { ...s, customerId: customer.id, role: 'owner', session: null }), now())).toMatchObject({ role: 'owner' });
  });

  it("isolation: a user of customer A gets nothing of B (same scope or another) by naming it in the claims; memberships lists only their own", async () => {
    const s = uniqueScope();
    const other = uniqueScope();
    const a = await customerIn(s, 'a@example.com');
    const b = await customerIn(s, 'b@example.com');
    const c = await customerIn(other, 'c@example.com');
    const { user, ctx } = await member(s, a.id, `u-${s.tenantId}@example.com`, 'owner');
    for (const [scope, customerId] of [[s, b.id], [other, c.id], [other, a.id]] as const) {
      expect(await portalFromClaims(handle.db, claimsOf(user.id, user.email, { ...scope, customerId, role: 'owner', session: null }), now())).toBeNull();
    }
    // B's owner does not see A's members, and A's owner's list is A's.
    const { ctx: bOwner } = await member(s, b.id, `bo-${s.tenantId}@example.com`, 'owner');
    expect((await asPortal(bOwner).portal.members.list()).members.map((m) => m.email)).toEqual([bOwner.email]);
    expect((await asPortal(ctx).portal.members.remove({ userId: bOwner.userId }).catch((e: TRPCError) => e.code))).toBe('NOT_FOUND');
    // Memberships in two scopes: both listed, the active one marked.
    clock.advance(1000);
    await addMembership(handle.db, other, c.id, user.id, 'member', now());
    const mine = await asPortal(ctx).portal.memberships();
    expect(mine.map((m) => [m.scope.tenantId, m.customerId, m.role, m.active])).toEqual([
      [s.tenantId, a.id, 'owner', true],
      [other.tenantId, c.id, 'member', false],
    ]);
  });
});
