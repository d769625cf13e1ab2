import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { Runtime } from '@/server/runtime';
import type { CustomerId, Scope } from '@/server/ledger';
import { portalFromClaims } from '@/server/portal/claims';
import type { PortalContext, PortalRole } from '@/server/portal/session';
import { acceptInvitations, addMembership, userByEmail } from '@/server/portal/store';
import { createCaller } from '@/server/trpc/root';
import { createTestRuntime } from '../support/runtime';
import { uniqueScope } from '../support/stores';

/**
 * The app as createRuntime builds it (PGlite; PostgreSQL with TEST_DATABASE_URL): the audit
 * trail is on by default, in the app's database, and the portal's own writes (invitations,
 * members added by signing in, members removed) are in it, naming the portal user.
 */
const databases = [
  { name: 'pglite', overrides: {} as Record<string, string> },
  ...(process.env.TEST_DATABASE_URL ? [{ name: 'postgres', overrides: { DATABASE_URL: process.env.TEST_DATABASE_URL, AUTH_SECRET: 'x'.repeat(44) } }] : []),
];

describe.each(databases)('the app\'s audit trail on $name', ({ overrides }) => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createTestRuntime(overrides);
  });
  afterAll(() => rt.close());

  const api = (s: Scope) => createCaller({ ledger: rt.ledger, auth: { kind: 'api_key', scope: s, keyId: 'key_ops' }, ip: '203.0.113.1' });
  const asPortal = (p: PortalContext) => createCaller({ ledger: rt.ledger, auth: { kind: 'portal', scope: p.scope, portal: p }, ip: '192.0.2.10' });

  async function owner(s: Scope, customerId: CustomerId, email: string, role: PortalRole = 'owner') {
    const db = rt.database.db;
    const user = await userByEmail(db, email);
    await addMembership(db, s, customerId, user.id, role, rt.ledger.clock.now());
    const ctx = await portalFromClaims(db, { sub: user.id, email, portal: { ...s, customerId, role, session: null } }, rt.ledger.clock.now());
    return ctx!;
  }

  it('an API change is stored in audit_log in the app\'s database', async () => {
    const s = uniqueScope();
    const c = await api(s).customers.create({ email: 'db@example.com', name: 'Db' });
    const rows = await rt.database.db.execute<{ action: string; actor_type: string; actor_id: string; ip: string }>(
      sql`select action, actor_type, actor_id, ip from audit_log where tenant_id = ${s.tenantId} and app_id = ${s.appId} and entity_id = ${c.id}`,
    );
    const list = Array.isArray(rows) ? rows : (rows as unknown as { rows: unknown[] }).rows;
    expect(list).toEqual([{ action: 'customer.created', actor_type: 'api_key', actor_id: 'key_ops', ip: '203.0.113.1' }]);
  });

  it('members: an invitation, its acceptance at sign-in and a removal, each naming its portal user; no token in the trail', async () => {
    const s = uniqueScope();
    const customer = await api(s).customers.create({ email: 'acct@example.com', name: 'Acct' });
    const own = await owner(s, customer.id, `owner-${s.tenantId}@example.com`);
    const email = `bea-${s.tenantId}@example.com`;
    await asPortal(own).portal.members.invite({ email, role: 'billing' });
    const bea = await userByEmail(rt.database.db, email);
    expect(await acceptInvitations(rt.database.db, bea.id, email, rt.ledger.clock.now())).toBe(1);
    await asPortal(own).portal.members.remove({ userId: bea.id });

    const { items } = await api(s).audit.list({ entityType: 'portal_member' });
    expect(items.map((e) => e.action)).toEqual(['portal_member.removed', 'portal_member.added']);
    expect(items[0]).toMatchObject({
      actor: { type: 'portal_user', id: own.userId, email: own.email },
      entityId: `${customer.id}/${bea.id}`,
      ip: '192.0.2.10',
      changes: { role: { before: 'billing', after: null }, userId: { before: bea.id, after: null } },
    });
    // Added by the invitee's own sign-in.
    expect(items[1]).toMatchObject({ actor: { type: 'portal_user', id: bea.id, email }, changes: { role: { before: null, after: 'billing' } } });
    const [invited] = (await api(s).audit.list({ action: 'portal_invitation.created' })).items;
    expect(invited).toMatchObject({ actor: { type: 'portal_user', id: own.userId }, entityId: `${customer.id}/${email}`, changes: { email: { after: email }, role: { after: 'billing' } } });
    expect(JSON.stringify(invited)).not.toMatch(/token/i);
    // The other scope sees none of it.
    expect((await api(uniqueScope()).audit.list({ entityType: 'portal_member' })).items).toEqual([]);
  });

  it('a member the last owner cannot remove leaves no entry (refused in the same transaction)', async () => {
    const s = uniqueScope();
    const customer = await api(s).customers.create({ email: 'solo@example.com', name: 'Solo' });
    const own = await owner(s, customer.id, `solo-${s.tenantId}@example.com`);
    await expect(asPortal(own).portal.members.remove({ userId: own.userId })).rejects.toThrow(/last owner/);
    expect((await api(s).audit.list({ entityType: 'portal_member' })).items).toEqual([]);
  });
});
