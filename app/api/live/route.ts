export const dynamic = 'force-dynamic';

/**
 * Liveness: the process serves requests. Touches nothing else (readiness, with the
 * database, is /api/health). Also the baseline route of the HTTP benchmarks.
 */
export function GET() {
  return new Response('ok', { headers: { 'content-type': 'text/plain', 'cache-control': 'no-store' } });
}
