import { getRuntime } from '@/server/runtime';

export const dynamic = 'force-dynamic';

const TIMEOUT_MS = 2_000;

/** 200 when the database answers within 2 s, 503 otherwise; says which database. */
export async function GET() {
  let database: string = process.env.DATABASE_URL ? 'postgres' : 'pglite';
  try {
    const rt = await getRuntime();
    database = rt.database.kind;
    await Promise.race([
      rt.database.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${TIMEOUT_MS} ms`)), TIMEOUT_MS)),
    ]);
    return Response.json({ status: 'ok', database }, { headers: { 'cache-control': 'no-store' } });
  } catch (e) {
    return Response.json(
      { status: 'unavailable', database, error: (e as Error).message },
      { status: 503, headers: { 'cache-control': 'no-store' } },
    );
  }
}
