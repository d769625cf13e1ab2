import postgres from 'postgres';

/**
 * The benchmarks run on a PostgreSQL server: BENCH_DATABASE_URL, or by default the local
 * server's `ledger_bench` database, created when missing.
 */
export async function benchDatabaseUrl(): Promise<string> {
  if (process.env.BENCH_DATABASE_URL) return process.env.BENCH_DATABASE_URL;
  const admin = postgres('postgres://root@127.0.0.1:5432/test', { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin`select 1 from pg_database where datname = 'ledger_bench'`;
    if (!row) await admin.unsafe('create database ledger_bench');
  } finally {
    await admin.end();
  }
  return 'postgres://root@127.0.0.1:5432/ledger_bench';
}

export const redact = (url: string) => url.replace(/\/\/([^:@/]+)(:[^@]*)?@/, '//$1@');
