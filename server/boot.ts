import path from 'node:path';
import { openAdminChannel } from './admin';
import { startBillingSchedule } from './billing-schedule';
import { EnvError, parseEnv } from './env';
import { seedDemo } from './demo';
import { flushOnSignals } from './ledger';
import { getRuntime } from './runtime';

/**
 * Runs once when the Next.js server starts (instrumentation.ts), before it serves a
 * request: checks the environment, opens and migrates the database, seeds the demo,
 * opens the admin channel for `npm run apikey` (embedded database only), starts the
 * billing schedule, and on shutdown stops the schedule and closes the database.
 * Any failure here stops the process with its message, before a request is served.
 *
 * Its last line is `[ledger] started`: `npm start` (scripts/start.ts) waits for it and for
 * /api/health before it says Ready, and reads the `Demo API key:` and `Demo customer id:`
 * lines printed just before it.
 */
export async function boot(): Promise<void> {
  try {
    parseEnv();
    const rt = await getRuntime();
    const { env } = rt;
    console.log(`[ledger] database: ${rt.database.kind}${rt.database.kind === 'pglite' ? ` (${env.PGLITE_DATA_DIR})` : ''}`);
    let demo: Awaited<ReturnType<typeof seedDemo>> | null = null;
    if (env.LEDGER_DEMO) {
      demo = await seedDemo(rt);
      if (demo.seeded) console.log(`[ledger] demo data created for ${rt.portalScope.tenantId}/${rt.portalScope.appId}`);
    }
    if (rt.database.kind === 'pglite') {
      // Next.js sets PORT to the port it listens on before the server is prepared.
      const file = openAdminChannel(env.PGLITE_DATA_DIR, Number(process.env.PORT ?? env.PORT));
      if (file) console.log(`[ledger] npm run apikey works beside this app (admin channel: ${path.relative(process.cwd(), file)})`);
    }
    const every = env.LEDGER_BILLING_INTERVAL_MS;
    const schedule = every > 0 ? startBillingSchedule(rt, every) : null;
    console.log(schedule ? `[ledger] billing cycle: every ${every / 1000} s` : '[ledger] billing cycle: not scheduled (LEDGER_BILLING_INTERVAL_MS=0)');
    // On SIGTERM/SIGINT: no billing run starts any more (this listener runs before
    // flushOnSignals's); buffered usage is written, a run in flight finishes, then the
    // database is closed cleanly.
    if (schedule) for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void schedule.stop());
    // Outbound webhooks: sent from the event log by every instance (leases share the work);
    // on a signal no new pass starts, and the engine's shutdown waits for those in flight.
    rt.ledger.webhooksOut.start();
    console.log('[ledger] outbound webhooks: started');
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void rt.ledger.webhooksOut.stop());
    flushOnSignals(rt.ledger, async () => {
      await schedule?.stop();
      await rt.database.close();
    });
    if (demo) {
      console.log(`Demo API key: ${demo.apiKey}`);
      console.log(`Demo customer id: ${demo.customerId ?? '(none: the demo customer was deleted)'}`);
    }
    console.log('[ledger] started');
  } catch (e) {
    console.error(e instanceof EnvError ? e.message : `[ledger] failed to start: ${(e as Error).stack ?? e}`);
    process.exit(1);
  }
}
