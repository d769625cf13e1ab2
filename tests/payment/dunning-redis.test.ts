import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '@/db/client';
import { createLedger, createPostgresStore, silentLogger, type Ledger, type Store } from '@/server/ledger';
import { eventually, testRedisUrl } from '../support/redis';
import { uniqueScope } from '../support/stores';

/**
 * Dunning's status moves reach every instance's entitlement cache: two engines on one
 * database and one Redis. Instance B has answered "allowed" for the customer (cached);
 * dunning on instance A makes the subscription `unpaid` (retry schedule [] in this scope:
 * the first failure is the last), and B answers `past_due` without a restart; a payment
 * on A makes it active, and B allows again. PostgreSQL at TEST_DATABASE_URL when set,
 * else PGlite; Redis at TEST_REDIS_URL or the local default (skipped without one).
 */
const redisUrl = await testRedisUrl();

describe.skipIf(!redisUrl)('dunning and the entitlement cache across instances', () => {
  let database: DatabaseHandle;
  let store: Store;
  const engines: Ledger[] = [];

  beforeAll(async () => {
    database = await openDatabase(process.env.TEST_DATABASE_URL ? { url: process.env.TEST_DATABASE_URL } : { dataDir: 'memory://' });
    store = createPostgresStore(database.db);
  });
  afterAll(async () => {
    for (const e of engines) await e.shutdown();
    await database.close();
  });

  async function instance(channel: string) {
    const ledger = await createLedger({ store, logger: silentLogger, entitlements: { redis: { url: redisUrl!, channel, commandTimeoutMs: 10_000 } } });
    engines.push(ledger);
    await ledger.entitlements.whenReady();
    return ledger;
  }

  it('B stops allowing once A makes the subscription unpaid, and allows again once A is paid', async () => {
    const channel = `ledger:test:${randomBytes(4).toString('hex')}`;
    const a = await instance(channel);
    const b = await instance(channel);
    const scope = uniqueScope();
    await a.scopes.register(scope, 'test');
    await a.payments.updateSettings(scope, { retrySchedule: [] });
    const feature = { key: 'exports', name: 'Exports', kind: 'boolean' as const };
    const basic = await a.plans.create(scope, { key: 'basic', name: 'Basic', currency: 'USD', interval: { unit: 'month' }, basePrice: 1000, features: [feature] });
    const plus = await a.plans.create(scope, { key: 'plus', name: 'Plus', currency: 'USD', interval: { unit: 'month' }, basePrice: 3000, features: [feature] });
    const customer = await a.customers.create(scope, { email: 'r@example.com', name: 'R' });
    const card = (number: string) => a.payments.sandbox.attachCard(scope, customer.id, { number, expMonth: 12, expYear: 2030 });
    await card('4242424242424242');
    const sub = await a.subscriptions.create(scope, { customerId: customer.id, planId: basic.id });
    expect(await b.entitled(scope, customer.id, 'exports')).toMatchObject({ allowed: true, reason: 'enabled' }); // cached in B

    // The upgrade's proration invoice is charged to a card that fails: the only try fails.
    await card('4000000000000341');
    await a.subscriptions.changePlan(scope, sub.id, { planId: plus.id });
    expect(await a.subscriptions.get(scope, sub.id)).toMatchObject({ status: 'unpaid' });
    const denied = await eventually(() => b.entitled(scope, customer.id, 'exports'), (r) => !r.allowed);
    expect(denied).toMatchObject({ allowed: false, reason: 'past_due' });

    await card('4242424242424242');
    const [open] = (await a.invoices.listByCustomer(scope, customer.id)).items.filter((i) => i.status === 'open');
    expect((await a.collectPayment(scope, open!.id)).invoice.status).toBe('paid');
    const allowed = await eventually(() => b.entitled(scope, customer.id, 'exports'), (r) => r.allowed);
    expect(allowed).toMatchObject({ allowed: true, reason: 'enabled' });
  });
});
