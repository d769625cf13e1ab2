import { z } from 'zod';
import type { Database } from '../db/client';
import { refuseAdminRequest } from './admin';
import { isLedgerError } from './ledger';
import { getRuntime } from './runtime';

/**
 * The admin routes' shared frame: the channel's checks (server/admin.ts), then the
 * operation on the app's own database, with bad input answered 400 with its issues and an
 * engine error (a key of the wrong mode for its scope) with its status. Plain
 * Response.json for now; the app's shared route error wrapper can replace the catch.
 */
const STATUS: Record<string, number> = { invalid: 400, not_found: 404, conflict: 409, illegal_state: 412 };

export async function adminRoute(req: Request, run: (db: Database) => Promise<Response>): Promise<Response> {
  const refused = refuseAdminRequest(req);
  if (refused) return refused;
  try {
    const rt = await getRuntime();
    return await run(rt.database.db);
  } catch (e) {
    if (e instanceof z.ZodError) {
      const issues = e.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      return Response.json({ error: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues }, { status: 400 });
    }
    if (isLedgerError(e)) return Response.json({ error: e.message, code: e.code }, { status: STATUS[e.code] ?? 400 });
    console.error('[admin]', e);
    return Response.json({ error: 'internal error' }, { status: 500 });
  }
}
