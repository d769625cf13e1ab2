import { expect } from 'vitest';
import { createLedger, type Ledger } from '../../server/ledger/ledger';
import { HOOK_NAMES, type HookName, type LedgerHooks, type Plugin } from '../../server/ledger/plugin/hooks';
import type { Store } from '../../server/ledger/store/store';
import { LedgerError, ManualClock, silentLogger, type Logger, type Scope } from '../../server/ledger/types';
import { uniqueScope } from './stores';

/** Mid-January 2025, 10:00 UTC: where every engine test's clock starts unless it says otherwise. */
export const T0 = new Date('2025-01-15T10:00:00.000Z');
export const DAY = 86_400_000;

export interface TestEngine {
  ledger: Ledger;
  clock: ManualClock;
  /** A fresh scope of its own (a random tenant), so a shared database stays clean. */
  scope: Scope;
}

export async function testEngine(
  store: Store,
  opts: { start?: Date | string; plugins?: Plugin[]; logger?: Logger } = {},
): Promise<TestEngine> {
  const clock = new ManualClock(opts.start ?? T0);
  const ledger = await createLedger({ store, clock, logger: opts.logger ?? silentLogger, plugins: opts.plugins });
  return { ledger, clock, scope: uniqueScope() };
}

export interface LogEntry {
  level: keyof Logger;
  msg: string;
  data?: Record<string, unknown>;
}

/** A logger that keeps what it is told, for tests that assert on logging. */
export function capturingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: keyof Logger) => (msg: string, data?: Record<string, unknown>) => {
    entries.push({ level, msg, data });
  };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface HookCall {
  hook: HookName;
  args: unknown[];
}

/** A plugin implementing every hook, recording each call in order. */
export function recordingPlugin(name = 'recorder'): { plugin: Plugin; calls: HookCall[]; of(hook: HookName): unknown[][] } {
  const calls: HookCall[] = [];
  const hooks = Object.fromEntries(
    HOOK_NAMES.map((hook) => [hook, (...args: unknown[]) => void calls.push({ hook, args })]),
  ) as unknown as Required<LedgerHooks>;
  return {
    plugin: { name, ...hooks },
    calls,
    of: (hook) => calls.filter((c) => c.hook === hook).map((c) => c.args),
  };
}

/** Awaits a promise expected to fail with a LedgerError of `code`, and returns it. */
export async function rejectsWith(p: Promise<unknown>, code: LedgerError['code']): Promise<LedgerError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected a LedgerError "${code}"`).toBeInstanceOf(LedgerError);
  expect((err as LedgerError).code, (err as Error).message).toBe(code);
  return err as LedgerError;
}
