import { EnvError, parseEnv } from './env';
import { seedDemo } from './demo';
import { flushOnSignals } from './ledger';
import { getRuntime } from './runtime';

/**
 * Runs once when the Next.js server starts (instrumentation.ts): checks the environment,
 * opens and migrates the database, seeds the demo and closes the database on shutdown.
 * Any failure here stops the process with its message, before a request is served.
 */
export async function boot(): Promise<void> {
  try {
    parseEnv();
    const rt = await getRuntime();
    console.log(`[ledger] database: ${rt.database.kind}${rt.database.kind === 'pglite' ? ` (${rt.env.PGLITE_DATA_DIR})` : ''}`);
    if (rt.env.LEDGER_DEMO) {
      const { apiKey, seeded } = await seedDemo(rt);
      if (seeded) console.log(`[ledger] demo data created for ${rt.portalScope.tenantId}/${rt.portalScope.appId}`);
      console.log(`Demo API key: ${apiKey}`);
    }
    // On SIGTERM/SIGINT: write buffered usage, then close the database cleanly.
    flushOnSignals(rt.ledger, () => rt.database.close());
  } catch (e) {
    console.error(e instanceof EnvError ? e.message : `[ledger] failed to start: ${(e as Error).stack ?? e}`);
    process.exit(1);
  }
}
