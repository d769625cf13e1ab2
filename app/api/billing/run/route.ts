import { apiKeyFromRequest } from '@/server/auth/request-auth';
import { rateLimiterFor } from '@/server/http/rate-limit';
import { apiRoute, otherMethods } from '@/server/http/route';
import { unauthorized } from '@/server/http/unauthorized';
import { getRuntime } from '@/server/runtime';

export const dynamic = 'force-dynamic';

/**
 * Runs the billing cycle of the API key's scope now (API key only, no cookies) and
 * answers 200 with what it did: `{ periods, invoicesCreated, invoicesFinalized }`.
 * Idempotent: a second call with nothing due reports zeros, so any failure (503 with the
 * database unavailable, 500) is safe to retry. No body is read. For an external scheduler
 * (cron) when the app's own schedule is off.
 */
export const POST = apiRoute('POST /api/billing/run', async (req: Request) => {
  const rt = await getRuntime();
  const key = await apiKeyFromRequest(rt.database, req);
  if (!key) return unauthorized();
  await rateLimiterFor(rt.env).consume(key.id);
  return Response.json(await rt.ledger.billing.run(key.scope), { status: 200 });
});

export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = otherMethods(['POST']);
