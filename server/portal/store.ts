import { and, asc, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { auditLog, authUsers, devMailbox, portalInvitations, portalMemberships, portalSessions } from '../../db/schema';
import { auditRow, conflict, currentRequest, entryOf, illegalState, notFound, type AuditInput, type CustomerId, type RequestContext, type Scope } from '../ledger';
import type { PortalRole } from './session';
import { hashToken, newToken } from './tokens';

/**
 * The audit trail's entry of a portal write (members and invitations are the portal's
 * own rows, not the engine's), inserted in the write's transaction. The actor is the
 * request's (the signed-in portal user), or `who` when there is none (a sign-in).
 */
async function audit(db: Pick<Database, 'insert'>, s: Scope, input: AuditInput, now: Date, who: RequestContext | null = null): Promise<void> {
  await db.insert(auditLog).values(auditRow(s, entryOf(input, currentRequest() ?? who, now)));
}

/** A membership's id in the trail: the customer and the user. */
const memberId = (customerId: string, userId: string) => `${customerId}/${userId}`;

/**
 * The portal's own rows: memberships, invitations, portal sessions, the development
 * mailbox. Every call that acts for a customer takes its scope. Times come from the
 * caller (the engine's clock), so tests can move them.
 */

/** How long a portal session URL may wait before it is opened. */
export const PORTAL_SESSION_URL_TTL_MS = 5 * 60_000;
/** How long a visitor signed in by a portal session URL stays signed in. */
export const PORTAL_SESSION_MAX_AGE_MS = 60 * 60_000;
/** How long an invitation waits for its invitee. */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60_000;

export interface Membership {
  scope: Scope;
  customerId: CustomerId;
  role: PortalRole;
}

const membershipOf = (r: { tenantId: string; appId: string; customerId: string; role: PortalRole }): Membership => ({
  scope: { tenantId: r.tenantId, appId: r.appId } as Scope,
  customerId: r.customerId as CustomerId,
  role: r.role,
});

/** Every customer a user belongs to, oldest first (the first is the default). */
export async function membershipsOf(db: Database, userId: string): Promise<Membership[]> {
  const rows = await db
    .select()
    .from(portalMemberships)
    .where(eq(portalMemberships.userId, userId))
    .orderBy(asc(portalMemberships.createdAt), asc(portalMemberships.tenantId), asc(portalMemberships.appId), asc(portalMemberships.customerId));
  return rows.map(membershipOf);
}

/** The user's role for this customer, or null when they are not (or no longer) a member. */
export async function roleOf(db: Database, s: Scope, customerId: string, userId: string): Promise<PortalRole | null> {
  const [row] = await db
    .select({ role: portalMemberships.role })
    .from(portalMemberships)
    .where(
      and(
        eq(portalMemberships.tenantId, s.tenantId),
        eq(portalMemberships.appId, s.appId),
        eq(portalMemberships.customerId, customerId),
        eq(portalMemberships.userId, userId),
      ),
    );
  return row?.role ?? null;
}

/** Adds a membership, or changes its role when the user already belongs. */
export async function addMembership(db: Database, s: Scope, customerId: string, userId: string, role: PortalRole, now: Date): Promise<void> {
  await db
    .insert(portalMemberships)
    .values({ ...s, customerId, userId, role, createdAt: now })
    .onConflictDoUpdate({
      target: [portalMemberships.tenantId, portalMemberships.appId, portalMemberships.customerId, portalMemberships.userId],
      set: { role },
    });
}

export interface MemberView {
  userId: string;
  email: string | null;
  name: string | null;
  role: PortalRole;
  createdAt: Date;
}

export interface InvitationView {
  email: string;
  role: PortalRole;
  createdAt: Date;
  expiresAt: Date;
}

/** A customer's members, and the invitations still open. */
export async function listMembers(db: Database, s: Scope, customerId: string, now: Date): Promise<{ members: MemberView[]; invitations: InvitationView[] }> {
  const members = await db
    .select({
      userId: portalMemberships.userId,
      email: authUsers.email,
      name: authUsers.name,
      role: portalMemberships.role,
      createdAt: portalMemberships.createdAt,
    })
    .from(portalMemberships)
    .innerJoin(authUsers, eq(authUsers.id, portalMemberships.userId))
    .where(and(eq(portalMemberships.tenantId, s.tenantId), eq(portalMemberships.appId, s.appId), eq(portalMemberships.customerId, customerId)))
    .orderBy(asc(portalMemberships.createdAt), asc(authUsers.email));
  const invitations = await db
    .select({ email: portalInvitations.email, role: portalInvitations.role, createdAt: portalInvitations.createdAt, expiresAt: portalInvitations.expiresAt })
    .from(portalInvitations)
    .where(
      and(
        eq(portalInvitations.tenantId, s.tenantId),
        eq(portalInvitations.appId, s.appId),
        eq(portalInvitations.customerId, customerId),
        isNull(portalInvitations.acceptedAt),
        gt(portalInvitations.expiresAt, now),
      ),
    )
    .orderBy(asc(portalInvitations.email));
  return { members, invitations };
}

/**
 * Removes a member. The last owner cannot be removed (nobody could invite again), checked
 * in the same transaction as the delete, with the customer's memberships locked, so two
 * owners removing each other at once cannot both succeed.
 */
export async function removeMember(db: Database, s: Scope, customerId: string, userId: string, now: Date = new Date()): Promise<void> {
  await db.transaction(async (tx) => {
    const rows = await tx
      .select({ userId: portalMemberships.userId, role: portalMemberships.role })
      .from(portalMemberships)
      .where(and(eq(portalMemberships.tenantId, s.tenantId), eq(portalMemberships.appId, s.appId), eq(portalMemberships.customerId, customerId)))
      .for('update');
    const target = rows.find((r) => r.userId === userId);
    if (!target) throw notFound('member', userId);
    if (target.role === 'owner' && rows.filter((r) => r.role === 'owner').length === 1) {
      throw illegalState('the last owner cannot be removed: make another member an owner first');
    }
    await tx
      .delete(portalMemberships)
      .where(
        and(
          eq(portalMemberships.tenantId, s.tenantId),
          eq(portalMemberships.appId, s.appId),
          eq(portalMemberships.customerId, customerId),
          eq(portalMemberships.userId, userId),
        ),
      );
    await audit(tx, s, { action: 'portal_member.removed', entityId: memberId(customerId, userId), before: { customerId, userId, role: target.role }, after: null }, now);
  });
}

/**
 * Invites an email address (lowercased) with a role; inviting again replaces the open
 * invitation. Returns the token for the invitation's link (shown once, stored hashed).
 */
export async function createInvitation(
  db: Database,
  s: Scope,
  input: { customerId: string; email: string; role: PortalRole; invitedBy: string | null },
  now: Date,
): Promise<{ token: string; expiresAt: Date }> {
  const token = newToken();
  const expiresAt = new Date(now.getTime() + INVITATION_TTL_MS);
  const email = input.email.trim().toLowerCase();
  const values = { ...s, customerId: input.customerId, email, role: input.role, tokenHash: hashToken(token), invitedBy: input.invitedBy, createdAt: now, expiresAt, acceptedAt: null };
  await db.transaction(async (tx) => {
    await tx
      .insert(portalInvitations)
      .values(values)
      .onConflictDoUpdate({
        target: [portalInvitations.tenantId, portalInvitations.appId, portalInvitations.customerId, portalInvitations.email],
        set: { role: values.role, tokenHash: values.tokenHash, invitedBy: values.invitedBy, createdAt: now, expiresAt, acceptedAt: null },
      });
    // Never the token's hash: the trail is read by API keys.
    await audit(tx, s, { action: 'portal_invitation.created', entityId: `${input.customerId}/${email}`, before: null, after: { customerId: input.customerId, email, role: input.role, invitedBy: input.invitedBy, expiresAt: expiresAt.toISOString() } }, now);
  });
  return { token, expiresAt };
}

/**
 * Accepts every open invitation of this email for this user: each becomes a membership,
 * once (accepted_at is set by a conditional update, so two sign-ins at once accept it
 * once). Called when the email is proven: a magic link, or a provider's verified email.
 */
export async function acceptInvitations(db: Database, userId: string, email: string, now: Date): Promise<number> {
  const open = await db
    .select()
    .from(portalInvitations)
    .where(and(eq(portalInvitations.email, email.trim().toLowerCase()), isNull(portalInvitations.acceptedAt), gt(portalInvitations.expiresAt, now)));
  let accepted = 0;
  for (const inv of open) {
    await db.transaction(async (tx) => {
      const taken = await tx
        .update(portalInvitations)
        .set({ acceptedAt: now })
        .where(
          and(
            eq(portalInvitations.tenantId, inv.tenantId),
            eq(portalInvitations.appId, inv.appId),
            eq(portalInvitations.customerId, inv.customerId),
            eq(portalInvitations.email, inv.email),
            eq(portalInvitations.tokenHash, inv.tokenHash),
            isNull(portalInvitations.acceptedAt),
          ),
        )
        .returning({ role: portalInvitations.role });
      if (taken.length === 0) return;
      // An existing membership keeps its role unless the invitation raises it to owner.
      const added = await tx
        .insert(portalMemberships)
        .values({ tenantId: inv.tenantId, appId: inv.appId, customerId: inv.customerId, userId, role: inv.role, createdAt: now })
        .onConflictDoNothing()
        .returning({ role: portalMemberships.role });
      // The invitee made the change, by signing in.
      const invitee: RequestContext = { actor: { type: 'portal_user', id: userId, email: inv.email }, requestId: null, ip: null };
      if (added.length) {
        await audit(tx, { tenantId: inv.tenantId, appId: inv.appId } as Scope, { action: 'portal_member.added', entityId: memberId(inv.customerId, userId), before: null, after: { customerId: inv.customerId, userId, role: inv.role, email: inv.email } }, now, invitee);
      }
      accepted++;
    });
  }
  return accepted;
}

/** An open invitation by its link's token (for the sign-in page to say who invites whom), or null. */
export async function invitationByToken(db: Database, token: string, now: Date): Promise<{ scope: Scope; customerId: CustomerId; email: string; role: PortalRole } | null> {
  const [row] = await db
    .select()
    .from(portalInvitations)
    .where(and(eq(portalInvitations.tokenHash, hashToken(token)), isNull(portalInvitations.acceptedAt), gt(portalInvitations.expiresAt, now)));
  return row ? { scope: { tenantId: row.tenantId, appId: row.appId } as Scope, customerId: row.customerId as CustomerId, email: row.email, role: row.role } : null;
}

/** The user of an email address, made if there is none (Auth.js's adapter would make the same row). */
export async function userByEmail(db: Database, email: string, name: string | null = null): Promise<{ id: string; email: string; name: string | null }> {
  const e = email.trim().toLowerCase();
  await db.insert(authUsers).values({ email: e, name }).onConflictDoNothing({ target: authUsers.email });
  const [row] = await db.select({ id: authUsers.id, email: authUsers.email, name: authUsers.name }).from(authUsers).where(eq(authUsers.email, e));
  if (!row) throw conflict(`the user ${e} could not be made`);
  return { id: row.id, email: row.email ?? e, name: row.name };
}

// ——— Portal sessions ———

export async function createPortalSession(
  db: Database,
  s: Scope,
  input: { customerId: string; returnUrl: string | null },
  now: Date,
): Promise<{ token: string; expiresAt: Date }> {
  const token = newToken();
  const expiresAt = new Date(now.getTime() + PORTAL_SESSION_URL_TTL_MS);
  await db.insert(portalSessions).values({ tokenHash: hashToken(token), ...s, customerId: input.customerId, returnUrl: input.returnUrl, createdAt: now, expiresAt });
  return { token, expiresAt };
}

export interface ConsumedPortalSession {
  scope: Scope;
  customerId: CustomerId;
  returnUrl: string | null;
  /** The end of the visitor's sign-in: an hour from its use. */
  signedInUntil: Date;
}

/**
 * Uses a portal session token: one conditional update (unused and unexpired → used now),
 * so of two opens at once exactly one signs in. Null for an unknown, used or expired token.
 */
export async function consumePortalSession(db: Database, token: string, now: Date): Promise<ConsumedPortalSession | null> {
  const [row] = await db
    .update(portalSessions)
    .set({ usedAt: now })
    .where(and(eq(portalSessions.tokenHash, hashToken(token)), isNull(portalSessions.usedAt), gt(portalSessions.expiresAt, now)))
    .returning();
  if (!row) return null;
  return {
    scope: { tenantId: row.tenantId, appId: row.appId } as Scope,
    customerId: row.customerId as CustomerId,
    returnUrl: row.returnUrl,
    signedInUntil: new Date(now.getTime() + PORTAL_SESSION_MAX_AGE_MS),
  };
}

// ——— The development mailbox ———

export interface MailboxMessage {
  id: number;
  to: string;
  subject: string;
  text: string;
  url: string | null;
  createdAt: Date;
}

export async function deliverToMailbox(db: Database, m: { to: string; subject: string; text: string; url: string | null }, now: Date = new Date()): Promise<void> {
  await db.insert(devMailbox).values({ ...m, createdAt: now });
}

/** The newest messages first (all, or one address's). */
export async function readMailbox(db: Database, opts: { to?: string; limit?: number } = {}): Promise<MailboxMessage[]> {
  return db
    .select()
    .from(devMailbox)
    .where(opts.to ? eq(devMailbox.to, opts.to.trim().toLowerCase()) : sql`true`)
    .orderBy(desc(devMailbox.id))
    .limit(opts.limit ?? 50);
}
