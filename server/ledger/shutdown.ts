import type { Ledger } from './ledger';

/**
 * For processes that embed the engine: on SIGTERM or SIGINT, write buffered usage and
 * close the engine, then run `after` (close the database) and exit. The engine itself
 * installs no signal handlers; the app calls this once (server/boot.ts).
 */
export function flushOnSignals(ledger: Ledger, after: () => Promise<void> = async () => {}): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      void ledger
        .shutdown()
        .then(after)
        .catch((e: unknown) => console.error('[ledger] shutdown failed', e))
        .finally(() => process.exit(0));
    });
  }
}
