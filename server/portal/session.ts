import type { CustomerId, Scope } from '../ledger';

/**
 * Who is signed in to the portal, and for which customer: the one source of a portal
 * request's scope and customer (never the input). A user may belong to several customers;
 * the portal acts for one at a time.
 *
 * Roles: `owner` and `billing` change plans, pay and edit billing details (owners also
 * invite users); `member` sees plans, usage and invoices.
 */
export const PORTAL_ROLES = ['owner', 'billing', 'member'] as const;
export type PortalRole = (typeof PORTAL_ROLES)[number];

export interface PortalContext {
  userId: string;
  email: string;
  scope: Scope;
  customerId: CustomerId;
  role: PortalRole;
  /**
   * Signed in through a portal session (a product team's `portal.createSession`): where
   * "back" leads, and when the session ends (at most an hour). Null for a sign-in.
   */
  returnUrl: string | null;
  expiresAt: Date | null;
}

/** May this role change plans, pay and edit billing details? */
export const canManageBilling = (role: PortalRole): boolean => role === 'owner' || role === 'billing';

/**
 * The portal context of the current request (server components, route handlers, server
 * actions), or null when nobody is signed in, the portal session has ended (an hour), or
 * the user is no longer a member of the customer the session names. Reads the next-auth
 * session cookie (server/auth/next-auth.ts); the role is read again from the database.
 */
export async function currentPortal(): Promise<PortalContext | null> {
  // Loaded here, not at the top: next-auth pulls in next/headers, and this module's types
  // are imported by the engine-free tRPC layer and tests.
  const [{ auth }, { portalFromClaims }, { getRuntime }] = await Promise.all([
    import('../auth/next-auth'),
    import('./claims'),
    import('../runtime'),
  ]);
  const session = (await auth()) as { user?: { id?: string; email?: string | null }; portal?: unknown } | null;
  if (!session?.user?.id) return null;
  const rt = await getRuntime();
  return portalFromClaims(rt.database.db, { sub: session.user.id, email: session.user.email ?? null, portal: session.portal }, rt.ledger.clock.now());
}
