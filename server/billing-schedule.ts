import { consoleLogger, isLedgerError, scopeKey, withRequest, type CycleReport, type Ledger, type Logger, type Scope, type TestClockId } from './ledger';
import type { Runtime } from './runtime';

/**
 * The billing cycle on a schedule, for the app: every interval, the work due (a period
 * that ended, a draft past its grace, an invoice a change still owes) is found with one
 * query across scopes, each item judged at its customer's time: the real time, or the
 * time of the test clock the customer is on. Then each scope's customers on no clock
 * (at the real time), and each clock with work due at its own time, run on their own,
 * one after another. Clocks do not move by themselves: their customers have work due
 * only when an advance left some undone (it failed midway) or a change's invoice could
 * not be made. The engine's cycle is idempotent and safe to run concurrently, so
 * several app instances may each run this.
 */

/** How many scopes one query for due work returns. */
const SCOPES_PER_QUERY = 1000;

/** One run: a scope's customers on no clock (`testClockId` null or absent), or one clock's. */
export type ScopeRun =
  | { scope: Scope; testClockId?: TestClockId | null; report: CycleReport; error?: never }
  | { scope: Scope; testClockId?: TestClockId | null; error: unknown; report?: never };

/**
 * Runs the cycle of every scope (and test clock) with work due at `at`, each once, in
 * turn; a run that fails is reported to `each` like the others and the rest still run.
 * Asks again after each batch (more than 1,000 due) until nothing new comes back; stops
 * early, between runs, once `signal` is aborted. Returns how many runs there were.
 */
export async function runDueScopes(
  ledger: Pick<Ledger, 'store' | 'billing'>,
  at: Date,
  each: (run: ScopeRun) => void,
  signal?: AbortSignal,
): Promise<number> {
  const seen = new Set<string>();
  for (;;) {
    const keyOf = (w: { scope: Scope; testClockId: TestClockId | null }) => `${scopeKey(w.scope)}\u0000${w.testClockId ?? ''}`;
    const due = (await ledger.store.billing.dueWork(at, SCOPES_PER_QUERY)).filter((w) => !seen.has(keyOf(w)));
    if (due.length === 0) return seen.size;
    for (const work of due) {
      if (signal?.aborted) return seen.size;
      seen.add(keyOf(work));
      const { scope, testClockId } = work;
      let run: ScopeRun;
      try {
        const report = testClockId ? await ledger.billing.runClock(scope, testClockId) : await ledger.billing.run(scope);
        run = { scope, testClockId, report };
      } catch (error) {
        run = { scope, testClockId, error };
      }
      each(run);
    }
  }
}

/** The billing schedule's changes (renewals, dunning, reconcile) are the system's. */
const SYSTEM = { actor: { type: 'system', id: 'billing_schedule' }, requestId: null, ip: null } as const;

export interface BillingSchedule {
  /** Stops the ticks (a run in flight stops before its next scope) and resolves once it has. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Runs the billing cycle every `intervalMs` (after the webhook events still pending and the
 * reconcile of pending payments), one run at a time: a tick that comes while
 * the previous run is still going is skipped. A failing scope is logged, never thrown;
 * the timer does not keep the process alive.
 */
export function startBillingSchedule(rt: Pick<Runtime, 'ledger'>, intervalMs: number, logger: Logger = consoleLogger): BillingSchedule {
  if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new RangeError(`a billing interval is a whole number of milliseconds ≥ 1, got ${intervalMs}`);
  const stopping = new AbortController();
  let running: Promise<void> | null = null;

  // The event log's retention: once an hour is plenty (it deletes in batches).
  let purgedAt = 0;
  const tick = () => withRequest(SYSTEM, tickAsSystem);
  const tickAsSystem = async () => {
    // Provider webhooks stored but never processed (the process died between storing and
    // processing, and no delivery has come since): settled here, before the cycle.
    try {
      await rt.ledger.webhooks.processPending();
    } catch (e) {
      logger.error('billing schedule: could not process pending webhook events', { error: describe(e) });
    }
    // Payments and refunds left pending (a provider timeout, a crash between its answer and
    // our write): asked again with their own idempotency keys, so each is charged once.
    try {
      const r = await rt.ledger.reconcile.run();
      if (r.asked + r.refundsRetried + r.tooOld + r.errors > 0) logger.info('billing schedule: reconciled pending payments', { ...r });
    } catch (e) {
      logger.error('billing schedule: could not reconcile pending payments', { error: describe(e) });
    }
    try {
      await runDueScopes(rt.ledger, rt.ledger.clock.now(), (run) => logRun(logger, run), stopping.signal);
    } catch (e) {
      logger.error('billing schedule: could not find the scopes with work due', { error: describe(e) });
    }
    if (Date.now() - purgedAt >= 3_600_000) {
      purgedAt = Date.now();
      try {
        const n = await rt.ledger.events.purgeExpired();
        if (n > 0) logger.info('billing schedule: expired events deleted', { count: n, retentionDays: rt.ledger.events.retentionDays });
      } catch (e) {
        logger.error('billing schedule: could not delete expired events', { error: describe(e) });
      }
      try {
        const n = await rt.ledger.webhooksOut.purgeExpired();
        if (n > 0) logger.info('billing schedule: settled webhook messages deleted', { count: n, retentionDays: rt.ledger.webhooksOut.retentionDays });
      } catch (e) {
        logger.error('billing schedule: could not delete settled webhook messages', { error: describe(e) });
      }
      try {
        const n = await rt.ledger.audit.purgeExpired(); // the audit trail's one delete path: entries past its retention
        if (n > 0) logger.info('billing schedule: expired audit entries deleted', { count: n, retentionDays: rt.ledger.audit.retentionDays });
      } catch (e) {
        logger.error('billing schedule: could not delete expired audit entries', { error: describe(e) });
      }
    }
  };
  const timer = setInterval(() => {
    if (running || stopping.signal.aborted) return;
    running = tick().finally(() => (running = null));
  }, intervalMs);
  timer.unref();

  return {
    async stop() {
      stopping.abort();
      clearInterval(timer);
      await running;
    },
  };
}

function logRun(logger: Logger, run: ScopeRun): void {
  const where = { tenantId: run.scope.tenantId, appId: run.scope.appId, ...(run.testClockId ? { testClockId: run.testClockId } : {}) };
  if (run.report) {
    const r = run.report;
    if (r.periods + r.invoicesCreated + r.invoicesFinalized > 0) logger.info('billing cycle', { ...where, ...r });
  } else {
    logger.error('billing cycle failed', { ...where, error: describe(run.error), ...(isLedgerError(run.error) ? { code: run.error.code } : {}) });
  }
}

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));
