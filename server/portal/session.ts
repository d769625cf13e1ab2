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
 * actions), or null when nobody is signed in. Implemented by the sign-in work
 * (next-auth + portal sessions); until then nobody is ever signed in.
 */
export async function currentPortal(): Promise<PortalContext | null> {
  return null;
}
