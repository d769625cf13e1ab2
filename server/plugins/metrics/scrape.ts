import { createHash, timingSafeEqual } from 'node:crypto';
import { jsonError } from '../../http/errors';
import type { MetricsPlugin } from './plugin';

/**
 * `GET /api/metrics`: the Prometheus text format of the app's metrics plugin. With a
 * token configured (LEDGER_METRICS_TOKEN) the scraper must send `Authorization: Bearer
 * <token>`; anything else is 401. 404 when metrics are off (LEDGER_METRICS=0).
 */
export async function metricsResponse(req: Request, plugin: MetricsPlugin | null, token: string | undefined): Promise<Response> {
  if (!plugin) return jsonError(404, 'not_found', 'metrics are off (LEDGER_METRICS=0)');
  if (token !== undefined && !bearerMatches(req.headers.get('authorization'), token)) {
    return jsonError(401, 'unauthorized', 'a bearer token is required: Authorization: Bearer <LEDGER_METRICS_TOKEN>', {
      headers: { 'www-authenticate': 'Bearer realm="metrics"' },
    });
  }
  return new Response(await plugin.metrics(), { status: 200, headers: { 'cache-control': 'no-store', 'content-type': plugin.contentType } });
}

/**
 * Compares in constant time: both sides are hashed first, so neither the token's length
 * nor the position of the first differing byte shows in the time taken.
 */
function bearerMatches(header: string | null, token: string): boolean {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  const given = createHash('sha256').update(m ? m[1]! : '').digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && m !== null;
}
