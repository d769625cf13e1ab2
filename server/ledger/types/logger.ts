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
