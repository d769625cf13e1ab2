import { TRPCError } from '@trpc/server';
import { expect } from 'vitest';
import type { CustomerId, Scope } from '@/server/ledger';
import type { PortalContext, PortalRole } from '@/server/portal/session';

/** The TRPCError a call was refused with (it must be one). */
export async function trpcErrorOf(p: Promise<unknown>): Promise<TRPCError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TRPCError);
  return e as TRPCError;
}

/** The tRPC code a call was refused with: `NOT_FOUND`, `FORBIDDEN`, … */
export const codeOf = async (p: Promise<unknown>): Promise<string> => (await trpcErrorOf(p)).code;

/** A signed-in portal user of the customer, as the session gives it (a sign-in, not a portal session). */
export const portalContext = (scope: Scope, customerId: CustomerId, role: PortalRole = 'owner'): PortalContext => ({
  userId: `usr_${customerId}`,
  email: `${customerId}@example.com`,
  scope,
  customerId,
  role,
  returnUrl: null,
  expiresAt: null,
});
