import { apiKeyFromRequest } from '../auth/request-auth';
import type { Runtime } from '../runtime';
import { rateLimiterFor } from './rate-limit';
import { unauthorized } from './unauthorized';

/**
 * Runs the billing cycle of the API key's scope now (API key only, no cookies) and
 * answers 200 with what it did: `{ periods, invoicesCreated, invoicesFinalized }`.
 * Idempotent: a second call with nothing due reports zeros, so any failure (503 with the
 * database unavailable, 500) is safe to retry. No body is read. For an external scheduler
 * (cron) when the app's own schedule is off.
 */
export async function postBillingRun(rt: Runtime, req: Request): Promise<Response> {
  const key = await apiKeyFromRequest(rt.database, req);
  if (!key) return unauthorized();
  await rateLimiterFor(rt.env).consume(key.id);
  return Response.json(await rt.ledger.billing.run(key.scope), { status: 200 });
}
