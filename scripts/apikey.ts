/**
 * API keys for product teams.
 *   npm run apikey -- create --tenant acme --app billing [--name backend] [--mode live|test]
 *   npm run apikey -- list   --tenant acme --app billing
 *   npm run apikey -- revoke --tenant acme --app billing --id key_…
 *
 * Works whether the app runs or not. On PostgreSQL (DATABASE_URL) it connects like any
 * other client. On the embedded database, which one process at a time may open: when the
 * app runs, it asks the app through its local admin channel (server/admin.ts); when no
 * app runs, it opens the database itself. A new key is printed once, on a line of its own.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { openDatabase, type DatabaseHandle } from '../db/client';
import { ADMIN_TOKEN_HEADER, readAdminEndpoint, type AdminEndpoint } from '../server/admin';
import { createKey, listKeys, revokeKey, type CreatedKey, type KeyListing } from '../server/api-key-admin';
import { EnvError, parseEnv } from '../server/env';

const usage = `usage:
  npm run apikey -- create --tenant T --app A [--name N] [--mode live|test]
  npm run apikey -- list   --tenant T --app A
  npm run apikey -- revoke --tenant T --app A --id key_…`;

class UsageError extends Error {}

/** The three operations, done either on a database this process opened or by the running app. */
interface KeyAdmin {
  create(input: { tenant: string; app: string; name?: string; mode?: 'live' | 'test' }): Promise<CreatedKey>;
  list(input: { tenant: string; app: string }): Promise<KeyListing[]>;
  revoke(input: { tenant: string; app: string; id: string }): Promise<boolean>;
  close(): Promise<void>;
}

function direct(handle: DatabaseHandle): KeyAdmin {
  return {
    create: (i) => createKey(handle.db, i),
    list: (i) => listKeys(handle.db, i),
    revoke: (i) => revokeKey(handle.db, i),
    close: () => handle.close(),
  };
}

function throughApp(endpoint: AdminEndpoint): KeyAdmin {
  const call = async (method: string, pathAndQuery: string, body?: unknown) => {
    let res: Response;
    try {
      res = await fetch(`${endpoint.url}${pathAndQuery}`, {
        method,
        headers: { [ADMIN_TOKEN_HEADER]: endpoint.token, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      throw new Error(`The app (process ${endpoint.pid}) holds the embedded database but does not answer at ${endpoint.url}: ${(e as Error).cause ?? (e as Error).message}`);
    }
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok && !(res.status === 404 && 'revoked' in json)) throw new Error(String(json.error ?? `the app answered ${res.status}`));
    return json;
  };
  const q = (i: { tenant: string; app: string }) => `tenant=${encodeURIComponent(i.tenant)}&app=${encodeURIComponent(i.app)}`;
  return {
    create: async (i) => (await call('POST', '/api/admin/api-keys', i)) as unknown as CreatedKey,
    list: async (i) => (await call('GET', `/api/admin/api-keys?${q(i)}`)).items as KeyListing[],
    revoke: async (i) => (await call('DELETE', `/api/admin/api-keys/${encodeURIComponent(i.id)}?${q(i)}`)).revoked === true,
    close: async () => {},
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The way in. An app that is starting holds the database before its channel is open:
 * wait for the channel then (up to a minute) instead of failing.
 */
async function connect(): Promise<KeyAdmin> {
  const env = parseEnv();
  if (env.DATABASE_URL) return direct(await openDatabase({ url: env.DATABASE_URL }));
  const dataDir = env.PGLITE_DATA_DIR;
  if (dataDir.startsWith('memory://')) {
    throw new Error('PGLITE_DATA_DIR is a memory database: it lives inside one process, and there is nothing here to manage.');
  }
  const deadline = Date.now() + 60_000;
  let told = false;
  for (;;) {
    const endpoint = readAdminEndpoint(dataDir);
    if (endpoint) return throughApp(endpoint);
    try {
      return direct(await openDatabase({ dataDir }));
    } catch (e) {
      const holder = /in use by process (\d+)/.exec((e as Error).message);
      if (!holder || Date.now() > deadline) throw e;
      if (!told) console.error(`The embedded database is held by process ${holder[1]}; waiting for it to open its admin channel…`);
      told = true;
      await sleep(250);
    }
  }
}

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      app: { type: 'string' },
      name: { type: 'string' },
      id: { type: 'string' },
      mode: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command] = positionals;
  if (values.help) return void console.log(usage);
  if (!command || !['create', 'list', 'revoke'].includes(command) || !values.tenant || !values.app) throw new UsageError(usage);
  if (values.mode !== undefined && values.mode !== 'live' && values.mode !== 'test') throw new UsageError(`--mode is live or test\n${usage}`);
  if (command === 'revoke' && !values.id) throw new UsageError(`revoke needs --id key_…\n${usage}`);
  const s = { tenant: values.tenant, app: values.app };

  const admin = await connect();
  try {
    switch (command) {
      case 'create': {
        const k = await admin.create({ ...s, name: values.name, mode: values.mode as 'live' | 'test' | undefined });
        console.log(`Created API key ${k.id} (${k.prefix}…) named "${k.name}" for ${k.tenant}/${k.app}, a ${k.mode} scope.`);
        console.log('It is shown only this once; store it now:');
        console.log(k.key);
        break;
      }
      case 'list': {
        const keys = await admin.list(s);
        if (keys.length === 0) console.log(`No API keys in ${s.tenant}/${s.app}.`);
        for (const k of keys) {
          console.log(`${k.id}  ${k.prefix}…  ${k.name}  created ${k.createdAt}${k.revokedAt ? `  REVOKED ${k.revokedAt}` : ''}`);
        }
        break;
      }
      case 'revoke': {
        const revoked = await admin.revoke({ ...s, id: values.id! });
        if (!revoked) {
          console.error(`No active key ${values.id} in ${s.tenant}/${s.app}.`);
          process.exitCode = 1;
        } else console.log(`Revoked ${values.id}.`);
        break;
      }
    }
  } finally {
    await admin.close();
  }
}

main().catch((e: unknown) => {
  if (e instanceof EnvError || e instanceof UsageError) console.error(e.message);
  // bad input, checked by the same schema as the app's (server/api-key-admin.ts)
  else if (e instanceof z.ZodError) console.error(e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  else console.error((e as Error).message ?? e);
  process.exit(1);
});
