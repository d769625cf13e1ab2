import { EnvError, parseEnv } from './env';
import { seedDemo } from './demo';
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
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        // Close the embedded database cleanly so its files are consistent, then exit.
        void rt.close().finally(() => process.exit(0));
      });
    }
  } catch (e) {
    console.error(e instanceof EnvError ? e.message : `[ledger] failed to start: ${(e as Error).stack ?? e}`);
    process.exit(1);
  }
}
