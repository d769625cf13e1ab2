import { randomBytes } from 'node:crypto';
import { openDatabase } from '../../db/client';
import { createMemoryStore } from '../../server/ledger/store/memory';
import { createPostgresStore } from '../../server/ledger/store/postgres';
import type { Store } from '../../server/ledger/store/store';
import { scope, type Scope } from '../../server/ledger/types';

/**
 * The stores a suite runs against. Every one is opened the same way and closed the same
 * way, so a suite reads `describe.each(storeFactories())` and knows nothing of back ends:
 * - `memory`: createMemoryStore();
 * - `pglite`: an embedded PostgreSQL in WASM (`memory://`), migrated, one per call;
 * - `postgres`: the server at `TEST_DATABASE_URL`, when set. It is shared by every test
 *   file and every run, so tests on it must work inside a `uniqueScope()`.
 *
 * PGlite instances are heavy: open them in `beforeAll`, once per test file.
 */
export interface OpenStore {
  name: StoreName;
  store: Store;
  close(): Promise<void>;
}

export type StoreName = 'memory' | 'pglite' | 'postgres';

export interface StoreFactory {
  name: StoreName;
  open(): Promise<OpenStore>;
}

export function storeFactories(
  env: Record<string, string | undefined> = process.env,
): StoreFactory[] {
  const factories: StoreFactory[] = [
    {
      name: 'memory',
      open: async () => ({ name: 'memory', store: createMemoryStore(), close: async () => {} }),
    },
    {
      name: 'pglite',
      open: async () => {
        const handle = await openDatabase({ dataDir: 'memory://' });
        return { name: 'pglite', store: createPostgresStore(handle.db), close: () => handle.close() };
      },
    },
  ];
  const url = env.TEST_DATABASE_URL;
  if (url) {
    factories.push({
      name: 'postgres',
      open: async () => {
        const handle = await openDatabase({ url });
        return { name: 'postgres', store: createPostgresStore(handle.db), close: () => handle.close() };
      },
    });
  }
  return factories;
}

/**
 * Registers `beforeAll`/`afterAll` through the caller's hooks and returns a getter: the
 * store is opened once for the file (or describe block) and closed after it.
 */
export function useStore(
  factory: StoreFactory,
  hooks: { beforeAll: (fn: () => Promise<void>) => void; afterAll: (fn: () => Promise<void>) => void },
): () => Store {
  let opened: OpenStore | null = null;
  hooks.beforeAll(async () => {
    opened = await factory.open();
  });
  hooks.afterAll(async () => {
    await opened?.close();
    opened = null;
  });
  return () => {
    if (!opened) throw new Error(`the ${factory.name} store is not open (use it inside a test)`);
    return opened.store;
  };
}

const suffix = (bytes = 6) => randomBytes(bytes).toString('hex');

/**
 * A fresh scope no other test (in this run or any other, on a shared database) has used:
 * tenant `t-<random>`, app `a-<random>`.
 */
export function uniqueScope(): Scope {
  return scope(`t-${suffix()}`, `a-${suffix(3)}`);
}

/** Another app of the same tenant: the scope includes the app, so this is isolated too. */
export function otherAppOf(s: Scope): Scope {
  return scope(s.tenantId, `a-${suffix(3)}`);
}
