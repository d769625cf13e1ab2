import { redirect } from 'next/navigation';
import { getRuntime } from '@/server/runtime';
import { createCaller } from '@/server/trpc/root';
import { portalSession } from '../portal-api';

/**
 * The credits page's procedures (`accountCredits.*`) through a server-side caller whose
 * auth is the session's: scope and customer from it, never from the page or the browser.
 */
export async function creditsApi(path = '/portal/credits') {
  const portal = await portalSession();
  if (!portal) redirect(`/portal/sign-in?next=${encodeURIComponent(path)}`);
  const rt = await getRuntime();
  return createCaller({ ledger: rt.ledger, auth: { kind: 'portal', scope: portal.scope, portal } }).accountCredits;
}

export type CreditsOverview = Awaited<ReturnType<Awaited<ReturnType<typeof creditsApi>>['overview']>>;
