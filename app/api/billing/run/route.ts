import { apiKeyFromRequest } from '@/server/auth/request-auth';
import { isLedgerError } from '@/server/ledger';
import { getRuntime } from '@/server/runtime';
import { httpStatusFor } from '@/server/trpc/errors';

export const dynamic = 'force-dynamic';

/**
 * Runs the billing cycle of the API key's scope now (API key only, no cookies) and
 * answers 200 with what it did: `{ periods, invoicesCreated, invoicesFinalized }`.
 * Idempotent: a second call with nothing due reports zeros. For an external scheduler
 * (cron) when the app's own schedule is off.
 */
export async function POST(req: Request) {
  const rt = await getRuntime();
  const key = await apiKeyFromRequest(rt.database.db, req);
  if (!key) return Response.json({ error: 'a valid API key is required: Authorization: Bearer ldg_…' }, { status: 401 });
  try {
    return Response.json(await rt.ledger.billing.run(key.scope), { status: 200 });
  } catch (e) {
    if (isLedgerError(e)) return Response.json({ error: e.message, code: e.code }, { status: httpStatusFor(e.code) });
    console.error('[billing] run failed', e);
    return Response.json({ error: 'the billing cycle failed; it is safe to retry' }, { status: 500 });
  }
}
