import postgres from 'postgres';
import { openDatabase } from '../db/client';
import { createLedger, createPostgresStore, newId, scope, silentLogger } from '../server/ledger';
import { latenciesUs, opsPerSecond, percentile, report } from './report';

/**
 * The engine's write and read paths on PostgreSQL, each beside a baseline measured in
 * the same run: the same row written (or read) by postgres.js directly. The gap is
 * what the engine costs: validation, id generation, drizzle, hooks.
 */
export async function benchEngine(url: string, n: number): Promise<void> {
  const database = await openDatabase({ url });
  const raw = postgres(url, { max: 1, onnotice: () => {} });
  const ledger = await createLedger({ store: createPostgresStore(database.db), logger: silentLogger });
  const s = scope(`bench-${Date.now()}`, 'app');
  try {
    const now = new Date();
    const baseline = await opsPerSecond(n, (i) =>
      raw`insert into customers (tenant_id, app_id, id, email, name, metadata, created_at, updated_at)
          values (${s.tenantId}, 'raw', ${newId('customer')}, ${`raw${i}@example.com`}, ${'Raw'}, ${raw.json({})}, ${now}, ${now})`,
    );
    report({ name: 'customers.baseline_insert_per_s', value: baseline, unit: 'rows/s' });
    const created: string[] = [];
    const engine = await opsPerSecond(n, async (i) => {
      created.push((await ledger.customers.create(s, { email: `c${i}@example.com`, name: `C${i}` })).id);
    });
    report({ name: 'customers.create_per_s', value: engine, unit: 'ops/s', baseline: 'customers.baseline_insert_per_s' });

    const rawRead = await latenciesUs(n, (i) =>
      raw`select * from customers where tenant_id = ${s.tenantId} and app_id = ${s.appId} and id = ${created[i % created.length]!}`,
    );
    report({ name: 'customers.baseline_select_p50_us', value: percentile(rawRead, 50), unit: 'µs' });
    const read = await latenciesUs(n, (i) => ledger.customers.get(s, created[i % created.length]!));
    report({ name: 'customers.get_p50_us', value: percentile(read, 50), unit: 'µs', baseline: 'customers.baseline_select_p50_us' });
    report({ name: 'customers.get_p99_us', value: percentile(read, 99), unit: 'µs' });
  } finally {
    await raw`delete from customers where tenant_id = ${s.tenantId}`;
    await raw.end();
    await ledger.shutdown();
    await database.close();
  }
}
