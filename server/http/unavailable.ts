/**
 * "The database is unavailable": the one classification of errors that mean a request
 * could not reach PostgreSQL (or PGlite), answered 503 with `retry-after` everywhere.
 * Anything else that is not an engine error is a bug, answered 500.
 */

/** Node's socket errors and postgres.js's own connection errors (`err.code`). */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/** SQLSTATEs of a server that is going away, starting up or full. */
const CONNECTION_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, in recovery
  '53300', // too_many_connections
]);

/**
 * The database is there but this statement did not get through; a retry may: a
 * statement_timeout (57014), a serialization failure (40001), a deadlock (40P01).
 */
const TRANSIENT_SQLSTATES = new Set(['57014', '40001', '40P01']);

// A registry symbol rather than `instanceof`: Next.js may load this module in several
// bundles (route handlers, instrumentation), and each copy must recognise the others' errors.
const UNAVAILABLE = Symbol.for('ledger.database-unavailable');

/** Raised before a query reaches the driver: the circuit is open, or no connection came in time. */
export class DatabaseUnavailableError extends Error {
  readonly [UNAVAILABLE] = true;
  override name = 'DatabaseUnavailableError';
}

/**
 * `connection`: the database cannot be reached (counts towards opening the circuit);
 * `transient`: it is reachable but this statement did not get through (timed out,
 * serialization failure, deadlock); `null`: not an availability problem. Looks through wrapping errors (drizzle's `cause`, AggregateError's `errors`).
 */
export function unavailability(e: unknown, depth = 0): 'connection' | 'transient' | null {
  if (typeof e !== 'object' || e === null || depth > 5) return null;
  const err = e as { [UNAVAILABLE]?: boolean; code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (err[UNAVAILABLE] === true) return 'connection';
  if (typeof err.code === 'string') {
    if (CONNECTION_ERROR_CODES.has(err.code) || CONNECTION_SQLSTATES.has(err.code) || err.code.startsWith('08')) return 'connection';
    if (TRANSIENT_SQLSTATES.has(err.code)) return 'transient';
  }
  // PGlite closed under us (shutdown): as good as a lost connection.
  if (err.message === 'PGlite is closed') return 'connection';
  const inner = unavailability(err.cause, depth + 1);
  if (inner) return inner;
  if (Array.isArray(err.errors)) {
    for (const x of err.errors) {
      const k = unavailability(x, depth + 1);
      if (k) return k;
    }
  }
  return null;
}

export const isUnavailable = (e: unknown): boolean => unavailability(e) !== null;

/** What every 503 says: seconds to wait before retrying. */
export const RETRY_AFTER_UNAVAILABLE_S = 1;
