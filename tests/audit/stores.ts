import { openDatabase, type Database } from '@/db/client';
import { createMemoryAuditStore, createMemoryStore, createPostgresAuditedStores, type AuditStore, type Store } from '@/server/ledger';

/**
 * The engine's store and the audit store, on each back end: memory, PGlite (`memory://`),
 * and the PostgreSQL server at TEST_DATABASE_URL when set (shared: tests use unique scopes).
 * `db` is the database handle's, for raw SQL (null in memory).
 */
export interface AuditedStores {
  name: 'memory' | 'pglite' | 'postgres';
  store: Store;
  audit: AuditStore;
  db: Database | null;
  close(): Promise<void>;
}

export function auditFactories(env: Record<string, string | undefined> = process.env): { name: AuditedStores['name']; open(): Promise<AuditedStores> }[] {
  const onDatabase = (name: 'pglite' | 'postgres', open: () => ReturnType<typeof openDatabase>) => ({
    name,
    open: async (): Promise<AuditedStores> => {
      const handle = await open();
      return { name, ...createPostgresAuditedStores(handle.db), db: handle.db, close: () => handle.close() };
    },
  });
  return [
    { name: 'memory', open: async () => ({ name: 'memory', store: createMemoryStore(), audit: createMemoryAuditStore(), db: null, close: async () => {} }) },
    onDatabase('pglite', () => openDatabase({ dataDir: 'memory://' })),
    ...(env.TEST_DATABASE_URL ? [onDatabase('postgres', () => openDatabase({ url: env.TEST_DATABASE_URL! }))] : []),
  ];
}
