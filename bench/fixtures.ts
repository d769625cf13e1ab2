import { createLedger, createPostgresStore, scope, silentLogger, type Ledger, type MeterConfig, type Scope } from '../server/ledger';
import { openDatabase, type DatabaseHandle } from '../db/client';

/** A fresh scope with one metered plan and `customers` customers, on PostgreSQL at `url`. */
export async function meteredScope(url: string, customers: number, meter?: Partial<MeterConfig>) {
  const database: DatabaseHandle = await openDatabase({ url });
  const ledger: Ledger = await createLedger({ store: createPostgresStore(database.db), logger: silentLogger, meter });
  const s: Scope = scope(`bench-${Date.now()}-${Math.floor(Math.random() * 1e6)}`, 'app');
  const plan = await ledger.plans.create(s, {
    key: 'usage',
    name: 'Usage',
    currency: 'USD',
    interval: { unit: 'month' },
    features: [{ key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', limit: 1e12 }],
  });
  const ids = [];
  for (let i = 0; i < customers; i++) {
    const c = await ledger.customers.create(s, { email: `bench${i}@example.com`, name: `Bench ${i}` });
    await ledger.subscriptions.create(s, { customerId: c.id, planId: plan.id, trialDays: 0 });
    ids.push(c.id);
  }
  return {
    database,
    ledger,
    scope: s,
    customerIds: ids,
    async close() {
      await ledger.shutdown();
      await database.close();
    },
  };
}

/** `n` distinct events spread over the customers, stamped within the last minute. */
export function events(prefix: string, n: number, customerIds: string[], now = Date.now()) {
  return Array.from({ length: n }, (_, i) => ({
    idempotencyKey: `${prefix}-${i}`,
    customerId: customerIds[i % customerIds.length]!,
    featureKey: 'api_calls',
    quantity: 1 + (i % 5),
    timestamp: new Date(now - (i % 60_000)).toISOString(),
  }));
}
