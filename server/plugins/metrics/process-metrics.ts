import { collectDefaultMetrics, Registry } from 'prom-client';

const KEY = Symbol.for('ledger.metrics.process-registry');
type Holder = { [KEY]?: Registry };

/**
 * Node's default metrics (CPU, memory, event loop lag, GC, handles) on a registry of
 * their own, made once per process: collectDefaultMetrics starts observers (GC, event
 * loop) that must not be started again by every engine a process builds (tests build
 * many). Kept on globalThis because Next.js may load this module once per bundle.
 */
export function processRegistry(): Registry {
  const g = globalThis as Holder;
  if (!g[KEY]) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    g[KEY] = registry;
  }
  return g[KEY];
}
