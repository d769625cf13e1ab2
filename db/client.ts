import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema';

/**
 * One database API for both back ends: PGlite (embedded Postgres in WASM, the default
 * when no DATABASE_URL is set) and a PostgreSQL server through postgres.js. Both are
 * driven by the same drizzle schema, the same migrations and the same queries.
 */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
export type DatabaseKind = 'pglite' | 'postgres';

export interface DatabaseHandle {
  db: Database;
  kind: DatabaseKind;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** A postgres:// URL; when absent, PGlite. */
  url?: string;
  /** PGlite's data directory, or `memory://` for a throw-away database. */
  dataDir?: string;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
}

export const MIGRATIONS_FOLDER = path.join(process.cwd(), 'db', 'migrations');

export async function openDatabase(opts: OpenOptions): Promise<DatabaseHandle> {
  const handle = opts.url ? await openPostgres(opts.url) : await openPglite(opts.dataDir ?? 'memory://');
  if (opts.migrate !== false) await migrateDatabase(handle, opts.url);
  return handle;
}

async function openPostgres(url: string): Promise<DatabaseHandle> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const client = postgres(url, { max: 10, onnotice: () => {}, connect_timeout: 5 });
  // drizzle runs every query through `unsafe(…, { prepare: false })`, and postgres.js then
  // describes each parameterized query before binding it: two round trips a query. Our
  // queries come in a fixed set of shapes (values are always parameters), so named
  // prepared statements, cached per connection by postgres.js, are safe: one round trip.
  const unsafe = client.unsafe.bind(client);
  client.unsafe = ((query: string, params?: unknown[], options?: object) =>
    unsafe(query, params as never, { ...options, prepare: true })) as typeof client.unsafe;
  const db = drizzle({ client, schema }) as unknown as Database;
  return {
    db,
    kind: 'postgres',
    ping: async () => {
      await client`select 1`;
    },
    close: () => client.end({ timeout: 5 }),
  };
}

async function openPglite(dataDir: string): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const release = dataDir.startsWith('memory://') ? () => {} : lockDataDir(dataDir);
  try {
    const client = await PGlite.create(dataDir);
    const db = drizzle({ client, schema }) as unknown as Database;
    return {
      db,
      kind: 'pglite',
      ping: async () => {
        await client.query('select 1');
      },
      close: async () => {
        await client.close();
        release();
      },
    };
  } catch (e) {
    release();
    throw e;
  }
}

/**
 * PGlite is a single-process database: a second process opening the same directory
 * corrupts it. A lock file beside the directory holds the owner's pid; a second process
 * fails at once with a message naming the owner, instead of corrupting the data. A lock
 * whose process is gone (a crash) is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const dir = path.resolve(dataDir);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const lockFile = `${dir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      const release = () => {
        try {
          if (fs.readFileSync(lockFile, 'utf8') === String(process.pid)) fs.unlinkSync(lockFile);
        } catch {
          /* already gone */
        }
      };
      process.once('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(fs.readFileSync(lockFile, 'utf8'));
      if (owner === process.pid || !isAlive(owner)) {
        fs.rmSync(lockFile, { force: true });
        continue;
      }
      throw new Error(
        `The embedded database at ${dir} is in use by process ${owner}. PGlite allows one ` +
          `process per data directory: stop that process, point PGLITE_DATA_DIR elsewhere, ` +
          `or set DATABASE_URL to share a PostgreSQL server.`,
      );
    }
  }
  throw new Error(`could not lock ${lockFile}`);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Any constant works; it only has to be the same for every process migrating this database.
const MIGRATION_LOCK = 7_270_001;

async function migrateDatabase(handle: DatabaseHandle, url?: string): Promise<void> {
  if (handle.kind === 'pglite') {
    const { migrate } = await import('drizzle-orm/pglite/migrator');
    await migrate(handle.db as never, { migrationsFolder: MIGRATIONS_FOLDER });
    return;
  }
  // Several processes (test workers, app instances) may start at once: migrate on one
  // connection holding an advisory lock, so they take turns.
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const client = postgres(url!, { max: 1, onnotice: () => {} });
  try {
    const db = drizzle({ client });
    await db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK})`);
    try {
      await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK})`);
    }
  } finally {
    await client.end({ timeout: 5 });
  }
}
