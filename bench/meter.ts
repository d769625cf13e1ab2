import postgres from 'postgres';
import { newId } from '../server/ledger';
import { events, meteredScope } from './fixtures';
import { report } from './report';

/**
 * meter -> PostgreSQL, durable and deduplicated: `meterDurable` called by concurrent
 * producers, each batch committed before it resolves. Baseline, same run: postgres.js
 * multi-row INSERTs of the same rows into the same table (no dedup check, no rollups,
 * rows built before the clock starts), with the same batch size and concurrency.
 * The two alternate over several rounds and the medians are reported: on a 2-core
 * machine shared with the database, one round of either can be 20 % off.
 */
export async function benchMeterDurable(url: string, smoke: boolean): Promise<void> {
  const perRound = smoke ? 10_000 : 100_000;
  const rounds = smoke ? 1 : 3;
  const batch = 1_000;
  const producers = 4;
  const f = await meteredScope(url, 50);
  const raw = postgres(url, { max: producers, onnotice: () => {} });
  const baseline: number[] = [];
  const durable: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      // Baseline rows: the same columns our statement writes.
      const baseRows = events(`base${round}`, perRound, f.customerIds).map((e, i) => ({
        tenant_id: f.scope.tenantId,
        app_id: 'baseline',
        id: newId('event'),
        idempotency_key: e.idempotencyKey,
        customer_id: e.customerId,
        feature_key: e.featureKey,
        quantity: String(e.quantity),
        timestamp: new Date(e.timestamp),
        properties: raw.json({}),
        seq: i,
      }));
      baseline.push(await run(perRound, batch, producers, (from, to) => raw`insert into usage_events ${raw(baseRows.slice(from, to))}`));
      const evs = events(`dur${round}`, perRound, f.customerIds);
      durable.push(await run(perRound, batch, producers, (from, to) => f.ledger.meter.meterDurable(f.scope, evs.slice(from, to))));
    }
    const b = median(baseline);
    const d = median(durable);
    const note = `median of ${rounds} alternating rounds of ${perRound} events, batches of ${batch}, ${producers} concurrent`;
    report({ name: 'meter.baseline_insert_events_per_s', value: b, unit: 'events/s', note: `postgres.js multi-row insert; ${note}` });
    report({ name: 'meter.durable_events_per_s', value: d, unit: 'events/s', baseline: 'meter.baseline_insert_events_per_s', note: `meterDurable: validation, dedup, hourly rollups; ${note}` });
    report({ name: 'meter.durable_vs_baseline', value: d / b, unit: 'ratio' });
  } finally {
    await raw`delete from usage_events where tenant_id = ${f.scope.tenantId}`;
    await raw`delete from usage_rollups where tenant_id = ${f.scope.tenantId}`;
    await raw.end();
    await f.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

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
