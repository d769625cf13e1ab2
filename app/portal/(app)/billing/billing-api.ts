import { redirect } from 'next/navigation';
import { getRuntime } from '@/server/runtime';
import { createCaller } from '@/server/trpc/root';
import { portalSession } from '../portal-api';

/**
 * The billing page's procedures (`accountBilling.*`) through a server-side caller whose
 * auth is the session's: scope and customer from it, never from the page or the browser.
 * The page reads here; the forms write through the server actions in actions.ts.
 */
export async function billingApi(path = '/portal/billing') {
  const portal = await portalSession();
  if (!portal) redirect(`/portal/sign-in?next=${encodeURIComponent(path)}`);
  const rt = await getRuntime();
  return createCaller({ ledger: rt.ledger, auth: { kind: 'portal', scope: portal.scope, portal } }).accountBilling;
}
