/**
 * The billing cycle, once, from the command line (cron, or by hand).
 *   npm run billing -- run                                every scope with work due now
 *   npm run billing -- run --tenant acme --app billing    one scope
 *   npm run billing -- run --tenant acme --app billing --at 2026-11-30T00:00:00Z
 *                                                         one scope, as of an earlier instant
 * Prints what each scope's run did; exits 1 if any scope failed (the others still ran).
 * Uses the same database as the app (DATABASE_URL, or the embedded one under .data/:
 * stop the app first, PGlite allows one process at a time).
 */
import { parseArgs } from 'node:util';
import { runDueScopes, type ScopeRun } from '../server/billing-schedule';
import { EnvError, parseEnv } from '../server/env';
import { instant, isLedgerError, scope } from '../server/ledger';
import { createRuntime } from '../server/runtime';

const usage = `usage: npm run billing -- run [--tenant T --app A [--at <RFC 3339 date-time>]]`;

/** `--at`, read by the same schema as every date at Ledger's boundaries. */
function atOf(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const r = instant.safeParse(value);
  if (!r.success) throw new Error(`--at: ${r.error.issues[0]!.message}`);
  return r.data;
}

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { tenant: { type: 'string' }, app: { type: 'string' }, at: { type: 'string' } },
  });
  const [command] = positionals;
  if (command !== 'run' || positionals.length > 1 || !values.tenant !== !values.app) throw new Error(usage);
  if (values.at !== undefined && !values.tenant) throw new Error(`--at needs --tenant and --app\n${usage}`);
  const one = values.tenant && values.app ? scope(values.tenant, values.app) : null;
  const at = atOf(values.at);
  const rt = await createRuntime(parseEnv());
  let failed = 0;
  const print = (run: ScopeRun) => {
    const where = `${run.scope.tenantId}/${run.scope.appId}`;
    if (run.report) {
      const r = run.report;
      console.log(`${where}: ${r.periods} period(s) billed, ${r.invoicesCreated} invoice(s) created, ${r.invoicesFinalized} finalized`);
    } else {
      failed++;
      const e = run.error;
      console.error(`${where}: FAILED ${isLedgerError(e) ? `(${e.code}) ${e.message}` : ((e as Error)?.stack ?? String(e))}`);
    }
  };
  try {
    if (one) {
      try {
        print({ scope: one, report: await rt.ledger.billing.run(one, at) });
      } catch (error) {
        print({ scope: one, error });
      }
    } else {
      const ran = await runDueScopes(rt.ledger, rt.ledger.clock.now(), print);
      if (ran === 0) console.log('No scope has billing work due.');
    }
  } finally {
    await rt.close();
  }
  if (failed > 0) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e instanceof EnvError ? e.message : (e as Error).message);
  process.exit(1);
});
