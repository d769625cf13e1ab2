/**
 * A separate process for the crash tests (tests/meter/crash.test.ts): it meters into the
 * database named by argv and reports progress on stdout, so the parent can kill it at
 * a chosen moment and then check what the database holds.
 *   durable  <db> <tenant> <customerId> <timestamp> <batches> <perBatch>  — meterDurable, prints "ACK n"
 *   buffered <db> <tenant> <customerId> <timestamp> <count>                — meter() only, prints
 *                                                                            "BUFFERED n", then waits for SIGTERM
 * Every event carries the given timestamp: a restart that resends an event sends the very
 * same payload, which is what makes it a duplicate rather than a conflict.
 */
import { openDatabase } from '../../db/client';
import { createLedger, createPostgresStore, flushOnSignals, scope, silentLogger } from '../../server/ledger';

const [mode, db, tenant, customerId, timestamp, a, b] = process.argv.slice(2) as [string, string, string, string, string, string, string?];
const database = await openDatabase(db.startsWith('postgres') ? { url: db } : { dataDir: db });
const s = scope(tenant, 'app');

const ev = (key: string, quantity: number) => ({
  idempotencyKey: key,
  customerId,
  featureKey: 'api_calls',
  quantity,
  timestamp,
});

if (mode === 'durable') {
  const ledger = await createLedger({ store: createPostgresStore(database.db), logger: silentLogger });
  const batches = Number(a);
  const perBatch = Number(b);
  for (let n = 0; n < batches; n++) {
    const results = await ledger.meter.meterDurable(s, Array.from({ length: perBatch }, (_, i) => ev(`d-${n}-${i}`, 1)));
    if (results.some((r) => r.outcome.status !== 'accepted' && r.outcome.status !== 'duplicate')) {
      console.error(JSON.stringify(results.find((r) => r.outcome.status !== 'accepted')));
      process.exit(2);
    }
    console.log(`ACK ${n}`);
  }
  await ledger.shutdown();
  await database.close();
  console.log('DONE');
} else if (mode === 'buffered') {
  // A long interval and a large batch: nothing is written until the signal.
  const ledger = await createLedger({
    store: createPostgresStore(database.db),
    logger: silentLogger,
    meter: { batchSize: 1_000_000, flushIntervalMs: 3_600_000 },
  });
  flushOnSignals(ledger, () => database.close());
  const count = Number(a);
  for (let i = 0; i < count; i++) ledger.meter.meter(s, ev(`b-${i}`, 2));
  console.log(`BUFFERED ${ledger.meter.buffered}`);
  setInterval(() => {}, 1_000); // stay alive until signalled
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(1);
}
