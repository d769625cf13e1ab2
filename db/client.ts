import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { databaseLimits } from '../server/env';
import { DatabaseGuard } from '../server/http/database-guard';
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
  /**
   * LISTENs on a channel on a connection of its own. `onListening` runs each time the
   * LISTEN is in place (first, and after every reconnect: notifications sent meanwhile
   * were missed); `onLost` when its connection drops. Resolves once the first LISTEN is
   * in place or has failed (it keeps retrying in the background); returns the stopper.
   */
  subscribe(channel: string, handlers: ChannelHandlers): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface ChannelHandlers {
  onNotify(payload: string): void;
  onListening(): void;
  onLost(): void;
}

/**
 * How long a request may wait for PostgreSQL (server/env.ts, README "Failures and
 * limits"): connecting, waiting for a free connection, running a statement.
 */
export interface DatabaseLimits {
  poolMax: number;
  connectTimeoutMs: number;
  queueTimeoutMs: number;
  /** PostgreSQL's statement_timeout on every connection of the pool; 0: none. */
  statementTimeoutMs: number;
}

export interface OpenOptions {
  /** A postgres:// URL; when absent, PGlite. */
  url?: string;
  /** PGlite's data directory, or `memory://` for a throw-away database. */
  dataDir?: string;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  /** Default: from the environment (LEDGER_DB_*), as server/env.ts reads it. */
  limits?: DatabaseLimits;
}

export const MIGRATIONS_FOLDER = path.join(process.cwd(), 'db', 'migrations');

export async function openDatabase(opts: OpenOptions): Promise<DatabaseHandle> {
  const limits = opts.limits ?? databaseLimits();
  const handle = opts.url ? await openPostgres(opts.url, limits) : await openPglite(opts.dataDir ?? 'memory://');
  if (opts.migrate !== false) {
    try {
      await migrateDatabase(handle, opts.url, limits);
    } catch (e) {
      await handle.close().catch(() => {});
      throw e;
    }
  }
  return handle;
}

/**
 * postgres.js retries a failed connection after a backoff growing to 20 s, and a query
 * waiting for that connection waits as long. A short, capped backoff (seconds): waiting
 * queries fail (or run) within a second, and the pool finds the database again as soon as
 * it is back.
 */
const reconnectBackoffS = (retries: number) => Math.min(0.05 * 2 ** retries, 0.5);

async function openPostgres(url: string, limits: DatabaseLimits): Promise<DatabaseHandle> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const options = {
    onnotice: () => {},
    connect_timeout: limits.connectTimeoutMs / 1000,
    backoff: reconnectBackoffS,
    // A connection idle this long is closed (and opened again when needed).
    idle_timeout: 60,
    connection: limits.statementTimeoutMs > 0 ? { statement_timeout: limits.statementTimeoutMs } : {},
  };
  const client = postgres(url, { ...options, max: limits.poolMax });
  const unsafe = client.unsafe.bind(client);
  const guard = new DatabaseGuard({
    queueTimeoutMs: limits.queueTimeoutMs,
    probe: () => unsafe('select 1'), // the driver's own: the guard would refuse its probe
    probeTimeoutMs: limits.connectTimeoutMs + 1_000,
  });
  // drizzle runs every query through `unsafe(…, { prepare: false })`, and postgres.js then
  // describes each parameterized query before binding it: two round trips a query. Our
  // queries come in a fixed set of shapes (values are always parameters), so named
  // prepared statements, cached per connection by postgres.js, are safe: one round trip.
  // Every query (a transaction's BEGIN too: postgres.js sends it through `unsafe`) passes
  // the guard: refused at once while the database is down, bounded while it waits.
  client.unsafe = ((query: string, params?: unknown[], options?: { onexecute?: unknown }) => {
    guard.admit();
    const q = unsafe(query, params as never, { ...options, prepare: true } as never);
    return guard.watch(q as never, { deadline: !options?.onexecute });
  }) as typeof client.unsafe;
  const db = drizzle({ client, schema }) as unknown as Database;
  const listeners: { end(): Promise<void> }[] = [];
  return {
    db,
    kind: 'postgres',
    ping: async () => {
      guard.admit();
      await client.unsafe('select 1');
    },
    subscribe: async (channel, handlers) => {
      const listener = await listenPostgres((extra) => postgres(url, { ...options, ...extra }), channel, handlers);
      listeners.push(listener);
      return () => listener.end();
    },
    close: async () => {
      guard.stop();
      await Promise.all(listeners.map((l) => l.end()));
      await client.end({ timeout: 5 });
    },
  };
}

/**
 * A LISTEN on one connection of its own, kept up: when the connection drops, `onLost`,
 * then LISTEN again until it succeeds, then `onListening`. (postgres.js's own `listen`
 * re-listens too, but does not say when its connection dropped.)
 */
async function listenPostgres(
  connect: (extra: PostgresOptions) => PostgresClient,
  channel: string,
  handlers: ChannelHandlers,
): Promise<{ end(): Promise<void> }> {
  let ended = false;
  let retry: ReturnType<typeof setTimeout> | null = null;
  const sql = connect({
    max: 1,
    idle_timeout: null as never,
    max_lifetime: null,
    fetch_types: false,
    // Not in postgres.js's types, but what its own `listen` uses: every notification.
    onnotify: (ch: string, payload: string) => {
      if (ch === channel) handlers.onNotify(payload);
    },
    onclose: () => {
      if (ended) return;
      handlers.onLost();
      schedule(0);
    },
  } as PostgresOptions);
  const listen = async () => {
    try {
      await sql.unsafe(`listen "${channel.replace(/"/g, '""')}"`);
      handlers.onListening();
    } catch {
      if (!ended) schedule(250);
    }
  };
  const schedule = (ms: number) => {
    if (retry || ended) return;
    retry = setTimeout(() => {
      retry = null;
      void listen();
    }, ms);
    retry.unref();
  };
  await listen();
  return {
    end: async () => {
      ended = true;
      if (retry) clearTimeout(retry);
      await sql.end({ timeout: 1 });
    },
  };
}

type PostgresClient = ReturnType<typeof import('postgres')>;
type PostgresOptions = NonNullable<Parameters<typeof import('postgres')>[1]>;

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
      // One process, one connection: the LISTEN never drops.
      subscribe: async (channel, handlers) => {
        const stop = await client.listen(channel, (payload) => handlers.onNotify(payload));
        handlers.onListening();
        return stop;
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

/** Whether a process with this pid runs (a lock or channel file's owner). */
export function isAlive(pid: number): boolean {
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

async function migrateDatabase(handle: DatabaseHandle, url: string | undefined, limits: DatabaseLimits): Promise<void> {
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
  // No statement timeout here: the advisory lock waits for another instance's migration.
  const client = postgres(url!, { max: 1, onnotice: () => {}, connect_timeout: limits.connectTimeoutMs / 1000, backoff: reconnectBackoffS });
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
