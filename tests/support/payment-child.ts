/**
 * A separate process for tests/payment/crash.test.ts: it collects one invoice through the
 * Stripe adapter against the test's fake Stripe server, on the database named by argv,
 * and is killed (kill -9) while the fake holds back the answer of a charge it already
 * made: the moment between the provider's success and Ledger's write.
 *   <db> <tenant> <app> <invoiceId> <fake Stripe port>
 * Prints "COLLECTING" just before it asks; never prints more unless the answer comes.
 */
import { openDatabase } from '../../db/client';
import { createLedger, createPostgresStore, scope, silentLogger } from '../../server/ledger';
import { createStripeProvider } from '../../server/ledger/payment/stripe';

const [db, tenant, app, invoiceId, port] = process.argv.slice(2) as [string, string, string, string, string];
const database = await openDatabase(db.startsWith('postgres') ? { url: db } : { dataDir: db });
const provider = createStripeProvider({
  secretKey: 'sk_test_crash',
  webhookSecret: 'whsec_crash',
  // A timeout far beyond the test's: the process is killed while it waits.
  stripeOptions: { host: '127.0.0.1', port: Number(port), protocol: 'http', maxNetworkRetries: 0, telemetry: false, timeout: 600_000 },
});
const ledger = await createLedger({ store: createPostgresStore(database.db), logger: silentLogger, providers: [provider] });
console.log('COLLECTING');
const { invoice } = await ledger.collectPayment(scope(tenant, app), invoiceId);
console.log(`COLLECTED ${invoice.status}`);
