import { Dec } from '../server/ledger';
import { meteredScope } from './fixtures';
import { latenciesUs, percentile, report } from './report';

/**
 * `entitled()` on a cache hit (p50, p99 and checks per second on one core), and on a
 * miss against PostgreSQL (every check after dropping the customer's entry). The hit's
 * baseline in the same run: a Map lookup of the same key, the least a cache can cost.
 */
export async function benchEntitlements(url: string, smoke: boolean): Promise<void> {
  const f = await meteredScope(url, 100);
  try {
    const { ledger, scope } = f;
    const ids = f.customerIds;
    // Some usage, so metered answers carry numbers.
    await ledger.meter.meterDurable(scope, ids.map((c, i) => ({ idempotencyKey: `e${i}`, customerId: c, featureKey: 'api_calls', quantity: i + 1, timestamp: new Date().toISOString() })));
    for (const c of ids) await ledger.entitled(scope, c, 'api_calls'); // warm the cache

    const n = smoke ? 200_000 : 2_000_000;
    // Baseline: the same keys in a Map.
    const map = new Map(ids.map((c) => [`${scope.tenantId}\u0000${scope.appId}\u0000${c}`, { allowed: true }]));
    const keys = ids.map((c) => `${scope.tenantId}\u0000${scope.appId}\u0000${c}`);
    let sink = 0;
    let t0 = performance.now();
    for (let i = 0; i < n; i++) if (map.get(keys[i % keys.length]!)!.allowed) sink++;
    const mapPerS = (n / (performance.now() - t0)) * 1000;
    report({ name: 'entitled.baseline_map_lookups_per_s', value: mapPerS, unit: 'lookups/s' });

    // Throughput: awaited checks back to back, one core.
    t0 = performance.now();
    for (let i = 0; i < n; i++) if ((await ledger.entitled(scope, ids[i % ids.length]!, 'api_calls')).allowed) sink++;
    const perS = (n / (performance.now() - t0)) * 1000;
    report({ name: 'entitled.hit_checks_per_s', value: perS, unit: 'checks/s', baseline: 'entitled.baseline_map_lookups_per_s' });

    // Latency of single checks: timed one by one (the timer's own cost, ~40 ns, is in the figure).
    const samples = new Float64Array(smoke ? 100_000 : 1_000_000);
    for (let i = 0; i < samples.length; i++) {
      const s = performance.now();
      const r = await ledger.entitled(scope, ids[i % ids.length]!, 'api_calls');
      samples[i] = (performance.now() - s) * 1000;
      if (r.allowed) sink++;
    }
    samples.sort();
    const pick = (p: number) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))]!;
    report({ name: 'entitled.hit_p50_us', value: new Dec(pick(50)).toDecimalPlaces(3).toNumber(), unit: 'µs' });
    report({ name: 'entitled.hit_p99_us', value: new Dec(pick(99)).toDecimalPlaces(3).toNumber(), unit: 'µs' });

    // Misses: drop the entry, then check (subscription, plan and usage read from PostgreSQL).
    const misses = await latenciesUs(smoke ? 200 : 2_000, async (i) => {
      const c = ids[i % ids.length]!;
      await ledger.entitlements.invalidate(scope, c);
      return ledger.entitled(scope, c, 'api_calls');
    });
    report({ name: 'entitled.miss_p50_ms', value: percentile(misses, 50) / 1000, unit: 'ms' });
    report({ name: 'entitled.miss_p99_ms', value: percentile(misses, 99) / 1000, unit: 'ms', note: 'subscription, plan and a month of usage read from PostgreSQL' });
    if (sink < 0) console.log(sink);
  } finally {
    await f.close();
  }
}
