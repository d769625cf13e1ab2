import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseGuard } from '@/server/http/database-guard';
import { DatabaseUnavailableError } from '@/server/http/unavailable';
import { createMetricsPlugin } from '@/server/plugins/metrics/plugin';
import { setMetricsSink } from '@/server/plugins/metrics/recorder';
import { sample, settled } from './samples';

/** A postgres.js query as the guard sees it: a promise, with a `state` once sent. */
const failedQuery = (error: unknown) => {
  const p = Promise.reject(error);
  p.catch(() => {}); // the caller's own handling, elsewhere
  return Object.assign(p, { state: null, reject() {} });
};
const withCode = (code: string) => Object.assign(new Error(code), { code });

// Needs the guard to record what it sees (server/http/database-guard.ts, the diff in issue
// 10's report): enable with that change.
describe('database errors, counted where the guard watches every query', () => {
  afterEach(() => setMetricsSink(null));

  it('connection failures, transient failures and refusals while the circuit is open are counted; an error of the server (a unique violation) is not', async () => {
    const metrics = createMetricsPlugin({ defaultMetrics: false });
    metrics.installSink();
    const guard = new DatabaseGuard({ queueTimeoutMs: 1_000, probe: async () => {}, probeTimeoutMs: 100, failureThreshold: 100, log: () => {} });
    for (const e of [withCode('ECONNREFUSED'), withCode('57P01'), withCode('40001'), withCode('23505'), new DatabaseUnavailableError('circuit open')]) {
      guard.watch(failedQuery(e), { deadline: false });
    }
    await settled();
    guard.stop();
    const text = await metrics.metrics();
    expect(sample(text, 'ledger_dependency_errors_total', { dependency: 'database', kind: 'connection' })).toBe(2);
    expect(sample(text, 'ledger_dependency_errors_total', { dependency: 'database', kind: 'transient' })).toBe(1);
    expect(sample(text, 'ledger_dependency_errors_total', { dependency: 'database', kind: 'unavailable' })).toBe(1);
  });
});
