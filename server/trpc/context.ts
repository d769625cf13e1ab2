import { apiKeyFromRequest } from '../auth/request-auth';
import { clientIpOf } from '../http/client-ip';
import { rateLimiterFor } from '../http/rate-limit';
import type { Ledger, Scope } from '../ledger';
import { portalFromRequest } from '../portal/request-session';
import type { PortalContext } from '../portal/session';
import { getRuntime, type Runtime } from '../runtime';
import { trpcErrorOf } from './errors';

/**
 * The request context. `auth` is set only by a valid API key; the scope of every
 * procedure comes from it, never from the input.
 */
export interface Context {
  ledger: Ledger;
  auth:
    | { kind: 'api_key'; scope: Scope; keyId: string }
    /** A portal user acting for one customer (server/portal/session.ts). */
    | { kind: 'portal'; scope: Scope; portal: PortalContext }
    | null;
  /** The caller's IP as forwarded by the proxy (server/http/client-ip.ts), for the audit trail. */
  ip?: string | null;
}

/**
 * Reads `Authorization: Bearer <key>`; without a valid key, the portal's session cookie
 * (a signed-in portal user: `auth.kind` 'portal'); neither leaves `auth` null. A key
 * wins when both are sent. A valid
 * key's rate limit is counted here, one point per call of the batch. Failures (the
 * runtime not starting, the key lookup with the database down, the rate limit) are
 * thrown as the tRPC error the caller gets: 503, 429, never an unexplained 500.
 */
export async function createContext(
  req: Request,
  runtime: Runtime | Promise<Runtime> = getRuntime(),
  opts: { calls?: number } = {},
): Promise<Context> {
  try {
    const rt = await runtime;
    const key = await apiKeyFromRequest(rt.database, req);
    if (key) {
      await rateLimiterFor(rt.env).consume(key.id, opts.calls ?? 1);
      return { ledger: rt.ledger, auth: { kind: 'api_key', scope: key.scope, keyId: key.id }, ip: clientIpOf(req) };
    }
    const portal = await portalFromRequest(rt, req);
    return { ledger: rt.ledger, auth: portal ? { kind: 'portal', scope: portal.scope, portal } : null, ip: clientIpOf(req) };
  } catch (e) {
    throw trpcErrorOf(e);
  }
}
