import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDatabase } from '../../db/client';
import { createMemoryStore } from '../../server/ledger/store/memory';
import { createMemoryWebhookOutStore } from '../../server/ledger/store/memory-webhook-endpoints';
import { createPostgresStore } from '../../server/ledger/store/postgres';
import type { Store } from '../../server/ledger/store/store';
import type { WebhookOutStore } from '../../server/ledger/webhooks-out/types';

/**
 * The stores the outbound webhook suites run on: memory, PGlite and, with
 * TEST_DATABASE_URL, PostgreSQL in a database of the file's own (created and dropped
 * here). Its own, because the worker reads across tenants (every undispatched event,
 * every due message): on the shared database it would take other suites' events and,
 * on a test clock ahead of theirs, their messages.
 */
export interface WebhookStores {
  name: string;
  store: Store;
  webhooksOut: WebhookOutStore;
  close(): Promise<void>;
}

export interface WebhookStoreFactory {
  name: string;
  open(): Promise<WebhookStores>;
}

export function webhookStoreFactories(env: Record<string, string | undefined> = process.env): WebhookStoreFactory[] {
  const factories: WebhookStoreFactory[] = [
    {
      name: 'memory',
      open: async () => {
        const store = createMemoryStore();
        return { name: 'memory', store, webhooksOut: createMemoryWebhookOutStore(store.events), close: async () => {} };
      },
    },
    {
      name: 'pglite',
      open: async () => {
        const handle = await openDatabase({ dataDir: 'memory://' });
        const store = createPostgresStore(handle.db);
        return { name: 'pglite', store, webhooksOut: store.webhooksOut!, close: () => handle.close() };
      },
    },
  ];
  const url = env.TEST_DATABASE_URL;
  if (url) {
    factories.push({
      name: 'postgres',
      open: async () => {
        const { url: own, drop } = await freshDatabase(url);
        const handle = await openDatabase({ url: own });
        const store = createPostgresStore(handle.db);
        return {
          name: 'postgres',
          store,
          // The store's own: on its transactions, as the app has it.
          webhooksOut: store.webhooksOut!,
          close: async () => {
            await handle.close();
            await drop();
          },
        };
      },
    });
  }
  return factories;
}

/** A database of its own on the server at `url`, and how to drop it. */
export async function freshDatabase(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `ledger_wh_${randomBytes(5).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const own = new URL(url);
  own.pathname = `/${name}`;
  return {
    url: own.toString(),
    drop: async () => {
      const a = postgres(url, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}
