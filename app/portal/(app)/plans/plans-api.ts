import { redirect } from 'next/navigation';
import { getRuntime } from '@/server/runtime';
import { createCaller } from '@/server/trpc/root';
import { portalSession } from '../portal-api';

/**
 * The plans page's procedures (`accountPlans.*`) through a server-side caller whose auth
 * is the session's: scope and customer from it, never from the page or the browser. No
 * API key ever reaches the browser: the page reads here, the dialogs write through the
 * server actions in actions.ts, which call these same procedures.
 */
export async function plansApi(path = '/portal/plans') {
  const portal = await portalSession();
  if (!portal) redirect(`/portal/sign-in?next=${encodeURIComponent(path)}`);
  const rt = await getRuntime();
  return createCaller({ ledger: rt.ledger, auth: { kind: 'portal', scope: portal.scope, portal } }).accountPlans;
}
