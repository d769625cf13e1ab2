import { apiKeyFromRequest } from '../auth/request-auth';
import type { Ledger, Scope } from '../ledger';
import { getRuntime, type Runtime } from '../runtime';

/**
 * The request context. `auth` is set only by a valid API key; the scope of every
 * procedure comes from it, never from the input.
 */
export interface Context {
  ledger: Ledger;
  auth: { kind: 'api_key'; scope: Scope; keyId: string } | null;
}

/** Reads `Authorization: Bearer <key>`; an absent or bad key leaves `auth` null. */
export async function createContext(req: Request, runtime: Runtime | Promise<Runtime> = getRuntime()): Promise<Context> {
  const rt = await runtime;
  const key = await apiKeyFromRequest(rt.database.db, req);
  return {
    ledger: rt.ledger,
    auth: key ? { kind: 'api_key', scope: key.scope, keyId: key.id } : null,
  };
}
