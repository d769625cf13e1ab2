import { createApiKey } from '../server/auth/api-keys';
import { createLedgerClient } from '../server/trpc/client';
import { startApp } from './app';
import { meteredScope } from './fixtures';
import { load } from './load';
import { percentile, report } from './report';

/**
 * The production build (`next start`) on PostgreSQL: `POST /api/meter` with batches of
 * 100 events against the app's trivial liveness route, in the same run; then the time
 * from a 202 to `usage.summary` showing the event.
 */
const PORT = 3290;

export async function benchHttp(url: string, smoke: boolean): Promise<void> {
  const f = await meteredScope(url, 100);
  const { key } = await createApiKey(f.database.db, f.scope, 'bench');
  const app = await startApp(url, PORT);
  const base = app.base;
  try {
    const seconds = smoke ? 2 : 10;
    const concurrency = 16;

    const trivial = await load({ url: `${base}/api/live`, concurrency, seconds });
    report({ name: 'http.trivial_requests_per_s', value: trivial.perSecond, unit: 'req/s', note: `GET /api/live, ${concurrency} connections` });

    const run = Date.now();
    const now = new Date().toISOString();
    const meter = await load({
      url: `${base}/api/meter`,
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      concurrency,
      seconds,
      body: (i) =>
        JSON.stringify(
          Array.from({ length: 100 }, (_, j) => ({
            idempotencyKey: `h${run}-${i}-${j}`,
            customerId: f.customerIds[(i * 100 + j) % f.customerIds.length],
            featureKey: 'api_calls',
            quantity: 1,
            timestamp: now,
          })),
        ),
    });
    report({ name: 'http.meter_requests_per_s', value: meter.perSecond, unit: 'req/s', baseline: 'http.trivial_requests_per_s' });
    report({ name: 'http.meter_events_per_s', value: meter.perSecond * 100, unit: 'events/s', note: `batches of 100, ${concurrency} connections, ${meter.failures} non-2xx` });

    // Event to visible: from the 202 of one event to usage.summary showing it.
    const client = createLedgerClient({ url: base, apiKey: key });
    const customerId = f.customerIds[0]!;
    const samples: number[] = [];
    const rounds = smoke ? 20 : 200;
    for (let i = 0; i < rounds; i++) {
      const before = await usedNow(client, customerId);
      const res = await fetch(`${base}/api/meter`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ idempotencyKey: `vis${run}-${i}`, customerId, featureKey: 'api_calls', quantity: 1, timestamp: new Date().toISOString() }),
      });
      if (res.status !== 202) throw new Error(`meter answered ${res.status}: ${await res.text()}`);
      const t0 = performance.now();
      while ((await usedNow(client, customerId)) < before + 1) {
        if (performance.now() - t0 > 5_000) throw new Error('event not visible after 5 s');
      }
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    report({ name: 'usage.event_to_visible_p99_ms', value: percentile(samples, 99), unit: 'ms', note: `${rounds} events; includes one usage.summary round trip` });
  } finally {
    await app.stop();
    await f.close();
  }
}

async function usedNow(client: ReturnType<typeof createLedgerClient>, customerId: string): Promise<number> {
  const summary = await client.usage.summary.query({ customerId });
  return summary.features.find((x) => x.featureKey === 'api_calls')?.used ?? 0;
}
