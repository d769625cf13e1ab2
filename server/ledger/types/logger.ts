/** The engine logs through this; the app passes its own (console by default). */
export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

export const consoleLogger: Logger = {
  debug: () => {},
  info: (m, d) => console.info(`[ledger] ${m}`, d ?? ''),
  warn: (m, d) => console.warn(`[ledger] ${m}`, d ?? ''),
  error: (m, d) => console.error(`[ledger] ${m}`, d ?? ''),
};

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * What a log line says of a failed store call: the driver's own error (its SQLSTATE or
 * socket code and message), never the wrapper's. drizzle wraps driver errors in one whose
 * message is the whole SQL text and its bound values — large, and possibly personal data.
 */
export function errorSummary(err: unknown): { error: string; code?: string } {
  let e = err as { message?: unknown; code?: unknown; cause?: unknown } | null;
  for (let depth = 0; e && typeof e === 'object' && e.cause && typeof e.cause === 'object' && depth < 5; depth++) {
    e = e.cause as typeof e;
  }
  const message = e && typeof e.message === 'string' ? e.message : String(err);
  const code = e && typeof e.code === 'string' ? e.code : undefined;
  // A driver message never holds a query; a wrapper that had no cause might: cut it there.
  const safe = message.startsWith('Failed query:') ? 'query failed' : message.slice(0, 300);
  return code ? { error: safe, code } : { error: safe };
}
