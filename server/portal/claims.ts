import type { Database } from '../../db/client';
import type { CustomerId, Scope } from '../ledger';
import { PORTAL_ROLES, type PortalContext, type PortalRole } from './session';
import { roleOf } from './store';

/**
 * What the session JWT carries about the portal: the customer the user acts for now.
 * A JWT is signed and encrypted with AUTH_SECRET, but it is read back as untrusted data
 * all the same: a signed-in user's role is read again from portal_memberships at every
 * request (a removed member is out at once), and a portal session's claim ends at its
 * `expiresAt` (at most an hour after the URL was opened).
 */
export interface PortalClaim {
  tenantId: string;
  appId: string;
  customerId: string;
  role: PortalRole;
  /** Signed in by a portal session URL: where "back" leads, and when it ends (epoch ms). */
  session: { returnUrl: string | null; expiresAt: number } | null;
}

export interface SessionClaims {
  /** The user id (token.sub). */
  sub?: string | null;
  email?: string | null;
  portal?: unknown;
}

export function parsePortalClaim(v: unknown): PortalClaim | null {
  if (typeof v !== 'object' || v === null) return null;
  const c = v as Record<string, unknown>;
  if (typeof c.tenantId !== 'string' || typeof c.appId !== 'string' || typeof c.customerId !== 'string') return null;
  if (!PORTAL_ROLES.includes(c.role as PortalRole)) return null;
  const s = c.session as Record<string, unknown> | null | undefined;
  const session =
    s && typeof s === 'object' && typeof s.expiresAt === 'number'
      ? { returnUrl: typeof s.returnUrl === 'string' ? s.returnUrl : null, expiresAt: s.expiresAt }
      : null;
  if (s && !session) return null;
  return { tenantId: c.tenantId, appId: c.appId, customerId: c.customerId, role: c.role as PortalRole, session };
}

/** The portal context of a session's claims at `now`, or null (none, ended, or no longer a member). */
export async function portalFromClaims(db: Database, claims: SessionClaims | null | undefined, now: Date): Promise<PortalContext | null> {
  if (!claims?.sub) return null;
  const claim = parsePortalClaim(claims.portal);
  if (!claim) return null;
  const scope = { tenantId: claim.tenantId, appId: claim.appId } as Scope;
  let role: PortalRole | null = claim.role;
  if (claim.session) {
    if (claim.session.expiresAt <= now.getTime()) return null;
  } else {
    role = await roleOf(db, scope, claim.customerId, claims.sub);
    if (!role) return null;
  }
  return {
    userId: claims.sub,
    email: claims.email ?? '',
    scope,
    customerId: claim.customerId as CustomerId,
    role,
    returnUrl: claim.session?.returnUrl ?? null,
    expiresAt: claim.session ? new Date(claim.session.expiresAt) : null,
  };
}
