import { TRPCError } from '@trpc/server';
import { notFound, redirect } from 'next/navigation';
import { cache } from 'react';
import { currentPortal } from '@/server/portal/session';
import { getRuntime } from '@/server/runtime';
import { createCaller } from '@/server/trpc/root';

/** The request's portal context, read once per render (layout and page share it). */
export const portalSession = cache(currentPortal);

/**
 * The portal's procedures for a server component, through a server-side caller whose
 * auth is the session's (scope and customer from it, never from the page). Nobody signed
 * in: to sign-in, coming back to `path` after.
 */
export async function portalApi(path: string) {
  const portal = await portalSession();
  if (!portal) redirect(`/portal/sign-in?next=${encodeURIComponent(path)}`);
  const rt = await getRuntime();
  return createCaller({ ledger: rt.ledger, auth: { kind: 'portal', scope: portal.scope, portal } }).account;
}

/** A procedure's NOT_FOUND (another customer's id, or none) as the page's not-found. */
export async function orNotFound<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof TRPCError && (e.code === 'NOT_FOUND' || e.code === 'BAD_REQUEST')) notFound();
    throw e;
  }
}
