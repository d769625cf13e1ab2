import { recordDependencyError } from '../plugins/metrics/recorder';
import { DatabaseUnavailableError, unavailability } from './unavailable';

/**
 * Keeps requests from queueing behind a database that is down.
 *
 * postgres.js keeps an unbounded queue of queries waiting for a connection and retries
 * connecting with a backoff of up to 20 s, so during an outage requests were held until
 * the database came back. Two bounds fix that:
 * - a circuit: after `failureThreshold` connection failures in a row (no success between)
 *   it opens, and every query fails at once with DatabaseUnavailableError; a probe
 *   (`select 1`) runs every `probeIntervalMs`, and the first that answers closes it;
 * - a queue deadline: a query not sent on a connection within `queueTimeoutMs` fails.
 *   (It may still run later, when a connection frees up: like an answer lost on the way,
 *   the caller cannot know; the README says so for each route.)
 */
export interface DatabaseGuardOptions {
  queueTimeoutMs: number;
  /** A `select 1` on the guarded client, bypassing the guard. */
  probe: () => Promise<unknown>;
  /** How long a probe may take before it counts as failed. */
  probeTimeoutMs: number;
  probeIntervalMs?: number;
  failureThreshold?: number;
  log?: (level: 'warn' | 'info', msg: string) => void;
}

/** The parts of a postgres.js Query the guard reads (`state` is set once it is sent). */
interface DriverQuery extends PromiseLike<unknown> {
  state: unknown;
  reject(e: unknown): void;
}

export class DatabaseGuard {
  readonly #opts: Required<DatabaseGuardOptions>;
  #failures = 0;
  #open = false;
  #probeTimer: ReturnType<typeof setTimeout> | null = null;
  #probing = false;
  #stopped = false;

  constructor(opts: DatabaseGuardOptions) {
    this.#opts = {
      probeIntervalMs: 500,
      failureThreshold: 3,
      log: (level, msg) => console[level](`[database] ${msg}`),
      ...opts,
    };
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** Throws at once while the circuit is open. */
  admit(): void {
    if (this.#open) throw new DatabaseUnavailableError('the database is unavailable (circuit open)');
  }

  /**
   * Watches a query from the driver: its outcome feeds the circuit, and unless it opens a
   * transaction (a BEGIN abandoned by its caller would leave its connection reserved
   * forever) it fails once it has waited `queueTimeoutMs` without being sent.
   */
  watch<Q extends DriverQuery>(q: Q, opts: { deadline: boolean }): Q {
    let settled = false;
    const timer = opts.deadline
      ? setTimeout(() => {
          if (!settled && q.state == null) q.reject(new DatabaseUnavailableError(`no database connection within ${this.#opts.queueTimeoutMs} ms`));
        }, this.#opts.queueTimeoutMs)
      : null;
    timer?.unref();
    // Promise.prototype.then, not the query's own: that one would start the query now,
    // before the caller has set its options (`.values()`).
    Promise.prototype.then.call(
      q,
      () => {
        settled = true;
        if (timer) clearTimeout(timer);
        this.#succeeded();
      },
      (e: unknown) => {
        settled = true;
        if (timer) clearTimeout(timer);
        if (e instanceof DatabaseUnavailableError) return void recordDependencyError('database', 'unavailable'); // circuit open, or no connection in time
        const kind = unavailability(e);
        if (kind) recordDependencyError('database', kind); // connection, or transient (timeout, serialization, deadlock)
        if (kind === 'connection') this.#failed();
        else this.#succeeded(); // the server answered, with an error of its own
      },
    );
    return q;
  }

  /** Stops probing (the database is being closed). */
  stop(): void {
    this.#stopped = true;
    if (this.#probeTimer) clearTimeout(this.#probeTimer);
    this.#probeTimer = null;
  }

  #succeeded(): void {
    this.#failures = 0;
  }

  #failed(): void {
    this.#failures++;
    if (!this.#open && this.#failures >= this.#opts.failureThreshold) {
      this.#open = true;
      this.#opts.log('warn', 'unavailable: requests that need it answer 503 until a probe succeeds');
      this.#scheduleProbe();
    }
  }

  #scheduleProbe(): void {
    if (this.#stopped || this.#probeTimer || this.#probing) return;
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = null;
      void this.#probe();
    }, this.#opts.probeIntervalMs);
    this.#probeTimer.unref();
  }

  async #probe(): Promise<void> {
    this.#probing = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.#opts.probe(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new DatabaseUnavailableError('probe timed out')), this.#opts.probeTimeoutMs);
        }),
      ]);
      this.#open = false;
      this.#failures = 0;
      this.#opts.log('info', 'available again');
    } catch {
      // still down: try again
    } finally {
      clearTimeout(timer);
      this.#probing = false;
      if (this.#open) this.#scheduleProbe();
    }
  }
}
