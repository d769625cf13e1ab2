import { startBillingSchedule } from './billing-schedule';
import { EnvError, parseEnv } from './env';
import { seedDemo } from './demo';
import { flushOnSignals } from './ledger';
import { getRuntime } from './runtime';

/**
 * Runs once when the Next.js server starts (instrumentation.ts): checks the environment,
 * opens and migrates the database, seeds the demo, starts the billing schedule, and on
 * shutdown stops the schedule and closes the database.
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
    const every = rt.env.LEDGER_BILLING_INTERVAL_MS;
    const schedule = every > 0 ? startBillingSchedule(rt, every) : null;
    console.log(schedule ? `[ledger] billing cycle: every ${every / 1000} s` : '[ledger] billing cycle: not scheduled (LEDGER_BILLING_INTERVAL_MS=0)');
    // On SIGTERM/SIGINT: no billing run starts any more (this listener runs before
    // flushOnSignals's); buffered usage is written, a run in flight finishes, then the
    // database is closed cleanly.
    if (schedule) for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void schedule.stop());
    flushOnSignals(rt.ledger, async () => {
      await schedule?.stop();
      await rt.database.close();
    });
  } catch (e) {
    console.error(e instanceof EnvError ? e.message : `[ledger] failed to start: ${(e as Error).stack ?? e}`);
    process.exit(1);
  }
}
