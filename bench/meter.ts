import postgres from 'postgres';
import { newId } from '../server/ledger';
import { events, meteredScope } from './fixtures';
import { report } from './report';

/**
 * meter -> PostgreSQL, durable and deduplicated: `meterDurable` called by several
 * concurrent producers, each batch committed before it resolves. Baseline, same run:
 * postgres.js multi-row INSERTs of the same rows into the same table (no dedup check,
 * no rollups), with the same batch size and concurrency.
 */
export async function benchMeterDurable(url: string, smoke: boolean): Promise<void> {
  const total = smoke ? 20_000 : 300_000;
  const batch = 1_000;
  const producers = 4;
  const f = await meteredScope(url, 50);
  const raw = postgres(url, { max: producers, onnotice: () => {} });
  try {
    // Baseline rows: the same columns our statement writes.
    const baseRows = events('base', total, f.customerIds).map((e) => ({
      tenant_id: f.scope.tenantId,
      app_id: 'baseline',
      id: newId('event'),
      idempotency_key: e.idempotencyKey,
      customer_id: e.customerId,
      feature_key: e.featureKey,
      quantity: String(e.quantity),
      timestamp: new Date(e.timestamp),
      properties: raw.json({}),
      payload_hash: 'x'.repeat(43),
    }));
    const baseline = await run(total, batch, producers, (from, to) => raw`insert into usage_events ${raw(baseRows.slice(from, to))}`);
    report({ name: 'meter.baseline_insert_events_per_s', value: baseline, unit: 'events/s', note: `postgres.js multi-row insert, batches of ${batch}, ${producers} concurrent` });

    const evs = events('dur', total, f.customerIds);
    const durable = await run(total, batch, producers, (from, to) => f.ledger.meter.meterDurable(f.scope, evs.slice(from, to)));
    report({ name: 'meter.durable_events_per_s', value: durable, unit: 'events/s', baseline: 'meter.baseline_insert_events_per_s', note: `meterDurable, batches of ${batch}, ${producers} concurrent, dedup + hourly rollups` });
    report({ name: 'meter.durable_vs_baseline', value: durable / baseline, unit: 'ratio' });
  } finally {
    await raw`delete from usage_events where tenant_id = ${f.scope.tenantId}`;
    await raw`delete from usage_rollups where tenant_id = ${f.scope.tenantId}`.catch(() => {});
    await raw.end();
    await f.close();
  }
}

/** `producers` loops share `total` rows in slices of `batch`; returns rows per second. */
async function run(total: number, batch: number, producers: number, write: (from: number, to: number) => Promise<unknown>) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: producers }, async () => {
      while (next < total) {
        const from = next;
        next += batch;
        await write(from, Math.min(total, from + batch));
      }
    }),
  );
  return (total / (performance.now() - t0)) * 1000;
}
