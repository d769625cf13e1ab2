import { apiRoute, otherMethods } from '@/server/http/route';
import { getRuntime } from '@/server/runtime';

export const dynamic = 'force-dynamic';

const TIMEOUT_MS = 2_000;

/**
 * Readiness: 200 when the database answers within 2 s, 503 otherwise (at once while the
 * database is known to be down); says which database. Never says why: a connection
 * error names hosts and ports.
 */
export const GET = apiRoute('GET /api/health', async () => {
  let database: string = process.env.DATABASE_URL ? 'postgres' : 'pglite';
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const rt = await getRuntime();
    database = rt.database.kind;
    await Promise.race([
      rt.database.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      }),
    ]);
    return Response.json({ status: 'ok', database }, { headers: { 'cache-control': 'no-store' } });
  } catch {
    return Response.json(
      { status: 'unavailable', database, error: `the database did not answer within ${TIMEOUT_MS / 1000} s` },
      { status: 503, headers: { 'cache-control': 'no-store', 'retry-after': '1' } },
    );
  } finally {
    clearTimeout(timer);
  }
});

// HEAD: Next.js answers it from GET.
export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods(['GET']);
