import { otherMethods } from '@/server/http/route';

export const dynamic = 'force-dynamic';

/**
 * Liveness: the process serves requests. Touches nothing else (readiness, with the
 * database, is /api/health). Also the baseline route of the HTTP benchmarks, so it stays
 * bare: no wrapper, no request id.
 */
export function GET() {
  return new Response('ok', { headers: { 'content-type': 'text/plain', 'cache-control': 'no-store' } });
}

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods(['GET']);
