import { Redis } from 'ioredis';
import { openDatabase } from '../db/client';
import { createLedger, createPostgresStore, scope, silentLogger, type Ledger, type Scope } from '../server/ledger';
import { latenciesUs, percentile, report } from './report';

/**
 * `entitlements.consume` with Redis: the latency of one consumption (one Lua script
 * round trip, plus the engine's work around it) beside a Redis `GET` round trip on the
 * same server, sampled alternately in the same run (target: consume p99 ≤ 3× GET p99),
 * and consumptions per second on one instance with many in flight. Then the same on the
 * store path (PostgreSQL, no Redis) for comparison. Redis at REDIS_URL, else
 * 127.0.0.1:6379; without Redis only the store path is measured.
 */
const customers = 100;

async function world(url: string, redisUrl: string | null, credits = false) {
  const database = await openDatabase({ url });
  const ledger: Ledger = await createLedger({
    store: createPostgresStore(database.db),
    logger: silentLogger,
    entitlements: redisUrl ? { redis: { url: redisUrl, channel: `ledger:bench:${Date.now()}` } } : {},
  });
  await ledger.entitlements.whenReady();
  const s: Scope = scope(`bench-consume-${Date.now()}-${Math.floor(Math.random() * 1e6)}`, 'app');
  const plan = await ledger.plans.create(s, {
    key: 'usage',
    name: 'Usage',
    currency: 'USD',
    interval: { unit: 'month' },
    features: [
      credits
        ? // Prepaid: 0.01 a call from a wallet of 1,000,000.00 (every consumption prices the period's usage).
          { key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', limitByCredits: true, price: { model: 'per_unit', unitPrice: '0.01' } }
        : { key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', limit: 1e12 },
    ],
  });
  const ids: string[] = [];
  for (let i = 0; i < customers; i++) {
    const c = await ledger.customers.create(s, { email: `bench${i}@example.com`, name: `Bench ${i}` });
    await ledger.subscriptions.create(s, { customerId: c.id, planId: plan.id, trialDays: 0 });
    if (credits) {
      const { wallet } = await ledger.wallets.create(s, { customerId: c.id, currency: 'USD' });
      await ledger.wallets.grant(s, { walletId: wallet.id, amount: 100_000_000 });
    }
    ids.push(c.id);
  }
  let n = 0;
  const consume = (i: number) =>
    ledger.entitlements.consume(s, { customerId: ids[i % ids.length]!, featureKey: 'api_calls', quantity: 1, idempotencyKey: `k${n++}` });
  // Warm: every customer's entry cached, every counter set.
  for (let i = 0; i < customers; i++) await consume(i);
  return {
    ledger,
    consume,
    async close() {
      await ledger.shutdown();
      await database.close();
    },
  };
}

/** `total` consumptions with `inFlight` at a time; consumptions per second. */
async function throughput(consume: (i: number) => Promise<unknown>, total: number, inFlight: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) await consume(next++);
    }),
  );
  return (total / (performance.now() - t0)) * 1000;
}

export async function benchConsume(url: string, smoke: boolean): Promise<void> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  const hasRedis = await probe.connect().then(
    () => true,
    () => false,
  );
  const samples = smoke ? 2_000 : 20_000;

  if (hasRedis) {
    const w = await world(url, redisUrl);
    try {
      await probe.set('ledger:bench:get', '1');
      const gets: number[] = [];
      const consumes: number[] = [];
      for (let i = 0; i < samples; i++) {
        let t0 = performance.now();
        await probe.get('ledger:bench:get');
        gets.push((performance.now() - t0) * 1000);
        t0 = performance.now();
        await w.consume(i);
        consumes.push((performance.now() - t0) * 1000);
      }
      gets.sort((a, b) => a - b);
      consumes.sort((a, b) => a - b);
      report({ name: 'redis.get_p99_us', value: percentile(gets, 99), unit: 'µs', note: `p50 ${percentile(gets, 50).toFixed(1)} µs` });
      report({
        name: 'entitlements.consume_p99_us',
        value: percentile(consumes, 99),
        unit: 'µs',
        baseline: 'redis.get_p99_us',
        note: `p50 ${percentile(consumes, 50).toFixed(1)} µs; ${(percentile(consumes, 99) / percentile(gets, 99)).toFixed(2)}× the GET p99 (target ≤ 3×); Redis path, one script per consumption`,
      });
      const perS = await throughput(w.consume, smoke ? 5_000 : 50_000, 64);
      report({ name: 'entitlements.consume_per_s', value: perS, unit: 'consumptions/s', note: 'one instance, Redis, 64 in flight over 100 customers' });
      await w.ledger.entitlements.consumptionsWritten();
    } finally {
      await w.close();
    }
  } else {
    console.error('# no Redis at REDIS_URL or 127.0.0.1:6379: the Redis figures are skipped');
  }
  probe.disconnect();

  // The store path: a transaction with an advisory lock per customer and feature.
  const w = await world(url, null);
  try {
    const lat = await latenciesUs(smoke ? 300 : 3_000, w.consume);
    report({ name: 'entitlements.consume_store_p99_us', value: percentile(lat, 99), unit: 'µs', note: `p50 ${percentile(lat, 50).toFixed(1)} µs; PostgreSQL, no Redis` });
    const perS = await throughput(w.consume, smoke ? 1_000 : 10_000, 64);
    report({ name: 'entitlements.consume_store_per_s', value: perS, unit: 'consumptions/s', note: 'one instance, PostgreSQL, 64 in flight over 100 customers' });
  } finally {
    await w.close();
  }

  // Limited by credits: the customer's lock, the period's usage priced, the wallet read.
  const c = await world(url, null, true);
  try {
    const lat = await latenciesUs(smoke ? 200 : 2_000, c.consume);
    report({
      name: 'entitlements.consume_credits_p99_us',
      value: percentile(lat, 99),
      unit: 'µs',
      baseline: 'entitlements.consume_store_p99_us',
      note: `p50 ${percentile(lat, 50).toFixed(1)} µs; limitByCredits, PostgreSQL`,
    });
    const perS = await throughput(c.consume, smoke ? 1_000 : 10_000, 64);
    report({ name: 'entitlements.consume_credits_per_s', value: perS, unit: 'consumptions/s', note: 'one instance, 64 in flight over 100 customers' });
    const one = await throughput(() => c.consume(0), smoke ? 200 : 1_000, 16);
    report({ name: 'entitlements.consume_credits_one_customer_per_s', value: one, unit: 'consumptions/s', note: "16 in flight on one customer: they wait for each other (the customer's lock)" });
  } finally {
    await c.close();
  }
}
