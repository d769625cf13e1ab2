/**
 * API keys for product teams.
 *   npm run apikey -- create --tenant acme --app billing [--name "backend"]
 *   npm run apikey -- list   --tenant acme --app billing
 *   npm run apikey -- revoke --tenant acme --app billing --id key_…
 * Uses the same database as the app (DATABASE_URL, or the embedded one under .data/:
 * stop the app first, PGlite allows one process at a time). The key is printed once.
 */
import { parseArgs } from 'node:util';
import { openDatabase } from '../db/client';
import { createApiKey, listApiKeys, revokeApiKey } from '../server/auth/api-keys';
import { EnvError, parseEnv } from '../server/env';
import { scope } from '../server/ledger';

const usage = `usage: npm run apikey -- <create|list|revoke> --tenant T --app A [--name N] [--id key_…]`;

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { tenant: { type: 'string' }, app: { type: 'string' }, name: { type: 'string' }, id: { type: 'string' } },
  });
  const [command] = positionals;
  if (!command || !values.tenant || !values.app) throw new Error(usage);
  const s = scope(values.tenant, values.app);
  const env = parseEnv();
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.PGLITE_DATA_DIR });
  try {
    switch (command) {
      case 'create': {
        const k = await createApiKey(database.db, s, values.name ?? 'default');
        console.log(`Created API key ${k.id} (${k.prefix}…) for ${s.tenantId}/${s.appId}.`);
        console.log('It is shown only this once; store it now:');
        console.log(k.key);
        break;
      }
      case 'list':
        for (const k of await listApiKeys(database.db, s)) {
          console.log(`${k.id}  ${k.prefix}…  ${k.name}  created ${k.createdAt.toISOString()}${k.revokedAt ? '  REVOKED' : ''}`);
        }
        break;
      case 'revoke':
        if (!values.id) throw new Error(usage);
        console.log((await revokeApiKey(database.db, s, values.id)) ? `Revoked ${values.id}.` : `No active key ${values.id} in ${s.tenantId}/${s.appId}.`);
        break;
      default:
        throw new Error(usage);
    }
  } finally {
    await database.close();
  }
}

main().catch((e) => {
  console.error(e instanceof EnvError ? e.message : (e as Error).message);
  process.exit(1);
});
