import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../db/client';
import { createLedger, createPostgresStore, scope, silentLogger } from '../server/ledger';
import { report } from './report';

/**
 * Outbound webhooks, on PostgreSQL:
 * - `webhooks.deliveries_per_s`: signed messages from the event log to a local receiver:
 *   the fan-out (events read with skip locked, a message per endpoint, the events marked
 *   dispatched), then each message claimed under a lease, signed with standardwebhooks,
 *   POSTed, and its attempt recorded; 4 in flight per endpoint.
 * - `webhooks.baseline_posts_per_s`: bare POSTs of the same bodies to the same receiver,
 *   at the same concurrency, in the same run: what the receiver and HTTP alone allow.
 * Target: deliveries at least 0.5 of the bare POSTs.
 */
const ENDPOINTS = 4;
const PER_ENDPOINT = 4;
/** Sender threads (BENCH_WEBHOOK_SENDER_THREADS; default the worker's own, 0: on the main thread), for A/B runs. */
const SENDER_THREADS = process.env.BENCH_WEBHOOK_SENDER_THREADS === undefined ? undefined : Number(process.env.BENCH_WEBHOOK_SENDER_THREADS);

export async function benchWebhooksOut(url: string, smoke: boolean): Promise<void> {
  const events = smoke ? 50 : 500;
  const warmup = smoke ? 10 : 500;
  const receiver = await startSink();
  const database = await openDatabase({ url });
  const ledger = await createLedger({
    store: createPostgresStore(database.db),
    logger: silentLogger,
    webhooksOut: { guard: { allowHttp: true, allowPrivate: true }, perEndpoint: PER_ENDPOINT, ...(SENDER_THREADS === undefined ? {} : { senderThreads: SENDER_THREADS }) },
  });
  try {
    // The worker reads every scope: the other benchmarks' events are fanned out first, untimed.
    await ledger.webhooksOut.runOnce();
    const s = scope(`bench-wh-${Date.now()}-${Math.floor(Math.random() * 1e6)}`, 'app');
    for (let i = 0; i < ENDPOINTS; i++) await ledger.webhooksOut.create(s, { url: `${receiver.url}/hook-${i}`, eventTypes: ['customer.created'] });
    const customers = async (from: number, n: number) => {
      for (let i = from; i < from + n; i++) await ledger.customers.create(s, { email: `wh${i}@example.com`, name: `Receiver ${i}`, metadata: { plan: 'pro', seat: String(i) } });
    };
    const agent = new http.Agent({ keepAlive: true });
    const concurrency = ENDPOINTS * PER_ENDPOINT;
    /** Bare POSTs of the bodies, `concurrency` at a time, each to the endpoint its delivery went to. */
    const postAll = async (bodies: string[]) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (let i = next++; i < bodies.length; i = next++) await post(agent, `${receiver.url}/hook-${i % ENDPOINTS}`, bodies[i]!);
        }),
      );
    };
    // Untimed, both ways, so neither is measured while the JIT compiles the HTTP client and
    // server they share (the deliveries ran first, cold, and the bare POSTs after them, warm).
    await customers(0, warmup);
    const warm: string[] = [];
    receiver.capture = warm;
    await ledger.webhooksOut.runOnce();
    receiver.capture = null;
    await postAll(warm);

    await customers(warmup, events);
    // The tables as autovacuum keeps them in production: this server runs without it, so
    // every earlier run's dead rows (every message passes through pending) stayed in the
    // indexes, and the later a run, the more of them its claims and fan-out walked.
    await database.db.execute(sql`vacuum analyze events, webhook_endpoints, webhook_deliveries, webhook_attempts`);
    const bodies: string[] = [];
    receiver.capture = bodies;
    const t0 = performance.now();
    const run = await ledger.webhooksOut.runOnce();
    const deliveriesPerS = (run.succeeded / (performance.now() - t0)) * 1000;
    if (run.succeeded !== events * ENDPOINTS || run.failed > 0) throw new Error(`expected ${events * ENDPOINTS} deliveries, got ${JSON.stringify(run)}`);
    receiver.capture = null;

    const t1 = performance.now();
    await postAll(bodies);
    const postsPerS = (bodies.length / (performance.now() - t1)) * 1000;
    agent.destroy();

    report({ name: 'webhooks.baseline_posts_per_s', value: postsPerS, unit: 'req/s', note: `bare POSTs of the same ${bodies.length} bodies to the same receiver, ${concurrency} at a time` });
    report({
      name: 'webhooks.deliveries_per_s',
      value: deliveriesPerS,
      unit: 'deliveries/s',
      baseline: 'webhooks.baseline_posts_per_s',
      note: `${events} events × ${ENDPOINTS} endpoints from the event log, signed, ${PER_ENDPOINT} in flight per endpoint, every attempt recorded, sender threads: ${SENDER_THREADS ?? 'default (0: the main thread)'}; ratio ${(deliveriesPerS / postsPerS).toFixed(2)} (target ≥ 0.5)`,
    });
  } finally {
    await ledger.shutdown();
    await database.close();
    await receiver.close();
  }
}

/** A receiver that reads each body and answers 200 (capturing the bodies while asked). */
async function startSink(): Promise<{ url: string; capture: string[] | null; close(): Promise<void> }> {
  const sink = {
    url: '',
    capture: null as string[] | null,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // The body is read the same way whether it is kept or not (both phases pay the same).
      const body = Buffer.concat(chunks).toString('utf8');
      sink.capture?.push(body);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return sink;
}

function post(agent: http.Agent, url: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
