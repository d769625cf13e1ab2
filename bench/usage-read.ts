import postgres from 'postgres';
import { openDatabase } from '../db/client';
import { createPostgresStore, newId, scope, type CustomerId, type UsageEvent } from '../server/ledger';
import { latenciesUs, percentile, report } from './report';

/**
 * Reading one customer-month of usage as the raw events grow to 1,000,000: the store's
 * aggregate (hourly rollups for the whole hours, raw events only for the two partial
 * hours at the edges) against the baseline of summing the raw events directly, measured
 * in the same run at each size. The first should stay flat; the second grows.
 * Events are written in time order, as traffic arrives, spread evenly over the month
 * (1,000,000 a month is ~1,400 an hour, the most an edge hour can hold).
 */
const DAY = 86_400_000;

export async function benchUsageRead(url: string, smoke: boolean): Promise<void> {
  const sizes = smoke ? [10_000, 50_000] : [10_000, 100_000, 1_000_000];
  const database = await openDatabase({ url });
  const store = createPostgresStore(database.db);
  const raw = postgres(url, { max: 1, onnotice: () => {} });
  const s = scope(`bench-read-${Date.now()}`, 'app');
  const customerId = newId('customer') as CustomerId;
  // A period anchored mid-hour, as a real subscription's is: both edges are partial hours.
  const to = new Date(Math.floor(Date.now() / 1000) * 1000 - 37 * 60_000 - 12_000);
  const from = new Date(to.getTime() - 30 * DAY);
  const span = to.getTime() - from.getTime();
  const samples = smoke ? 50 : 200;
  try {
    let stored = 0;
    for (const size of sizes) {
      const t0 = performance.now();
      while (stored < size) {
        const n = Math.min(10_000, size - stored);
        const events: UsageEvent[] = Array.from({ length: n }, (_, i) => {
          const k = stored + i;
          const timestamp = new Date(from.getTime() + Math.floor((k / size) * span));
          return {
            id: newId('event'),
            idempotencyKey: `r-${k}`,
            customerId,
            featureKey: 'api_calls',
            quantity: String(1 + (k % 3)),
            timestamp,
            properties: {},
            distinctValue: null,
          };
        });
        await store.usage.insertEvents(s, events);
        stored += n;
      }
      await raw`analyze usage_events`;
      await raw`analyze usage_rollups`;
      const loadS = (performance.now() - t0) / 1000;
      const label = size >= 1_000_000 ? `${size / 1_000_000}M` : `${size / 1000}k`;

      const q = { customerId, featureKey: 'api_calls', aggregation: 'sum' as const, from, to };
      const ours = await latenciesUs(samples, () => store.usage.aggregate(s, q));
      const scan = await latenciesUs(samples, () =>
        raw`select coalesce(sum(quantity), 0)::text as v from usage_events
            where series = hashtextextended(${s.tenantId} || '|' || ${s.appId} || '|' || ${customerId} || '|' || 'api_calls', 0)
              and tenant_id = ${s.tenantId} and app_id = ${s.appId} and customer_id = ${customerId}
              and feature_key = 'api_calls' and timestamp >= ${from} and timestamp < ${to}`,
      );
      const name = size === sizes[sizes.length - 1] && !smoke ? 'usage.read_month_p99_ms' : `usage.read_month_p99_ms.${label}`;
      report({ name: `usage.raw_scan_month_p99_ms.${label}`, value: percentile(scan, 99) / 1000, unit: 'ms', note: `sum over ${size} raw events` });
      report({ name, value: percentile(ours, 99) / 1000, unit: 'ms', baseline: `usage.raw_scan_month_p99_ms.${label}`, note: `${size} raw events in the month (loaded in ${loadS.toFixed(1)} s)` });
    }
  } finally {
    await raw`delete from usage_events where tenant_id = ${s.tenantId}`;
    await raw`delete from usage_rollups where tenant_id = ${s.tenantId}`;
    await raw.end();
    await database.close();
  }
}
