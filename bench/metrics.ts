import { createLedger, createPostgresStore, silentLogger, type Ledger } from '../server/ledger';
import { createMetricsPlugin } from '../server/plugins/metrics/plugin';
import { meteredScope } from './fixtures';
import { report } from './report';

/**
 * What the metrics plugin costs an entitlement hit (issue 10: at most 1.5 times the hit
 * without it). Two engines on the same database and scope, one with the plugin and one
 * without, both with every customer cached; rounds alternate between them (so drift of
 * the machine's speed falls on both), each round a mean over many awaited checks. The
 * figure is the median round with the plugin divided by the median round without.
 * Then the cost of one scrape of what those checks left.
 */
export async function benchMetrics(url: string, smoke: boolean): Promise<void> {
  const f = await meteredScope(url, 100);
  const metrics = createMetricsPlugin();
  const instrumented = await createLedger({ store: createPostgresStore(f.database.db), logger: silentLogger, plugins: [metrics] });
  metrics.attach(instrumented);
  try {
    const { scope } = f;
    const ids = f.customerIds;
    for (const c of ids) {
      await f.ledger.entitled(scope, c, 'api_calls'); // warm both caches
      await instrumented.entitled(scope, c, 'api_calls');
    }

    const perRound = smoke ? 20_000 : 200_000;
    const rounds = smoke ? 6 : 20;
    let sink = 0;
    const meanNs = async (ledger: Ledger) => {
      const t0 = performance.now();
      for (let i = 0; i < perRound; i++) if ((await ledger.entitled(scope, ids[i % ids.length]!, 'api_calls')).allowed) sink++;
      return ((performance.now() - t0) * 1e6) / perRound;
    };
    await meanNs(f.ledger); // JIT warm-up of both paths
    await meanNs(instrumented);
    const without: number[] = [];
    const withPlugin: number[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        without.push(await meanNs(f.ledger));
        withPlugin.push(await meanNs(instrumented));
      } else {
        withPlugin.push(await meanNs(instrumented));
        without.push(await meanNs(f.ledger));
      }
    }
    const bare = median(without);
    const plugged = median(withPlugin);
    report({ name: 'metrics.entitled_hit_ns', value: bare, unit: 'ns', note: `mean of ${perRound} awaited hits, median of ${rounds} rounds, no plugin` });
    report({ name: 'metrics.entitled_hit_with_plugin_ns', value: plugged, unit: 'ns', baseline: 'metrics.entitled_hit_ns' });
    report({ name: 'metrics.entitled_hit_overhead', value: plugged / bare, unit: 'ratio', baseline: 'metrics.entitled_hit_ns', note: 'target ≤ 1.5' });

    // A scrape after all those checks (the hot path's tally copied into the counters).
    const scrapes = smoke ? 20 : 200;
    let bytes = 0;
    const t0 = performance.now();
    for (let i = 0; i < scrapes; i++) bytes = (await metrics.metrics()).length;
    report({ name: 'metrics.scrape_ms', value: (performance.now() - t0) / scrapes, unit: 'ms', note: `${bytes} bytes of text, Node's default metrics included` });
    if (sink < 0) console.log(sink);
  } finally {
    await instrumented.shutdown();
    await f.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
