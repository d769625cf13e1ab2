import { createRuntime, type Runtime } from '@/server/runtime';
import { parseEnv } from '@/server/env';

/** A whole app runtime on a throw-away PGlite, as the server builds it, for API tests. */
export function createTestRuntime(overrides: Record<string, string> = {}): Promise<Runtime> {
  return createRuntime(parseEnv({ PGLITE_DATA_DIR: 'memory://', LEDGER_DEMO: '0', ...overrides }));
}

/** Makes `getRuntime()` (used by route handlers) build its runtime on memory:// PGlite. */
export function useMemoryRuntimeEnv(): void {
  process.env.PGLITE_DATA_DIR = 'memory://';
  process.env.LEDGER_DEMO = '0';
  delete process.env.DATABASE_URL;
}
