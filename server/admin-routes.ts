import { z } from 'zod';
import type { Database } from '../db/client';
import { refuseAdminRequest } from './admin';
import { jsonError } from './http/errors';
import { apiRoute } from './http/route';
import { getRuntime } from './runtime';

/**
 * The admin routes' shared frame (server/admin.ts): the app's route wrapper (request id,
 * one error boundary: an engine error such as a key of the wrong mode for its scope is
 * answered with its status), then the channel's checks, then the operation on the app's
 * own database. Input that fails the schema is a 400 naming the fields.
 */
export function adminRoute<A extends unknown[]>(where: string, run: (req: Request, db: Database, ...rest: A) => Promise<Response>) {
  return apiRoute(where, async (req: Request, ...rest: A) => {
    const refused = refuseAdminRequest(req);
    if (refused) return jsonError(refused.status, refused.code, refused.message);
    const rt = await getRuntime();
    try {
      return await run(req, rt.database.db, ...rest);
    } catch (e) {
      if (!(e instanceof z.ZodError)) throw e;
      const issues = e.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      return jsonError(400, 'invalid', issues.map((i) => `${i.path}: ${i.message}`).join('; '), { issues });
    }
  });
}
