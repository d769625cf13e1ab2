import { redirect } from 'next/navigation';
import { getRuntime } from '@/server/runtime';
import { createCaller } from '@/server/trpc/root';
import { portalSession } from '../portal-api';

/**
 * The plans page's procedures (`accountPlans.*`) through a server-side caller whose auth
 * is the session's: scope and customer from it, never from the page or the browser. The
 * page (a server component) reads here; the client components call the same procedures
 * over /api/trpc with the session's cookie (app/_lib/trpc-react.tsx). No API key ever
 * reaches the browser.
 */
export async function plansApi(path = '/portal/plans') {
  const portal = await portalSession();
  if (!portal) redirect(`/portal/sign-in?next=${encodeURIComponent(path)}`);
  const rt = await getRuntime();
  return createCaller({ ledger: rt.ledger, auth: { kind: 'portal', scope: portal.scope, portal } }).accountPlans;
}
