/**
 * A separate process for tests/webhooks-out/crash.test.ts: it runs one pass of the
 * outbound webhooks worker on the database named by argv and is killed (kill -9) while
 * the test's receiver holds its message's request open: after the fan-out committed,
 * before the answer was recorded.
 *   <db>
 * Prints "DELIVERING" just before the pass; never prints more unless the pass ends.
 * LEDGER_WEBHOOKS_ALLOW_PRIVATE=1 comes from the test (the receiver is on 127.0.0.1).
 */
import { openDatabase } from '../../db/client';
import { createLedger, createPostgresStore, silentLogger } from '../../server/ledger';

const [db] = process.argv.slice(2) as [string];
const database = await openDatabase(db.startsWith('postgres') ? { url: db } : { dataDir: db });
const ledger = await createLedger({
  store: createPostgresStore(database.db),
  logger: silentLogger,
  // A timeout far beyond the test's: the process is killed while it waits.
  // The message made by the fan-out is leased for 60 s, renewed every 20 s while this
  // process lives: the test's next engine comes 2 minutes after the kill by its clock.
  webhooksOut: { timeoutMs: 600_000, leaseMs: 60_000 },
});
console.log('DELIVERING');
const report = await ledger.webhooksOut.runOnce();
console.log(`DELIVERED ${JSON.stringify(report)}`);
