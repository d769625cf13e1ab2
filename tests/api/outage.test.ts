import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '@/server/auth/api-keys';
import { parseEnv } from '@/server/env';
import { postBillingRun } from '@/server/http/billing-run-handler';
import { postMeter } from '@/server/http/meter-handler';
import { closeRateLimiter } from '@/server/http/rate-limit';
import { apiRoute } from '@/server/http/route';
import { handleTrpc } from '@/server/http/trpc-handler';
import { scope } from '@/server/ledger';
import { createRuntime, type Runtime } from '@/server/runtime';
import { throwawayCluster, type PgCluster } from '../support/pg-cluster';

/**
 * PostgreSQL stopped under load (a cluster of the test's own, `pg_ctl stop -m immediate`),
 * then started again: every answer is a success or a 503 with `retry-after` and a JSON
 * body — never a 500 — none waits much past the documented bound, and requests succeed
 * again by themselves once the database is back.
 *
 * The bound, with the default limits: a connection attempt 2 s (LEDGER_DB_CONNECT_TIMEOUT_MS)
 * + a wait for a connection 2 s (LEDGER_DB_QUEUE_TIMEOUT_MS) + the metering write's retry
 * pauses (under 1 s) = 5 s. Most answers come at once (the circuit is open). Asserted with
 * a wide margin: this is a busy 2-core machine.
 */
const BOUND_MS = 5_000;
const MARGIN_MS = 5_000;
const OUTAGE_MS = 6_000;
const WORKERS = 6;

const setup = await throwawayCluster();
if ('skip' in setup) console.warn(`[tests] the outage suite is skipped: ${setup.skip}`);

type Kind = 'meter' | 'trpc.query' | 'trpc.mutation' | 'billing.run';
const KINDS: Kind[] = ['meter', 'trpc.query', 'trpc.mutation', 'billing.run'];
interface Answer {
  kind: Kind;
  startedAt: number;
  ms: number;
  status: number | 'hung';
  retryAfter: string | null;
  contentType: string | null;
  body: string;
}

describe.skipIf('skip' in setup)('PostgreSQL stopped under load', () => {
  const cluster = (setup as { cluster: PgCluster }).cluster;
  let rt: Runtime;
  let key: string;
  let customerId: string;
  let seq = 0;
  const answers: Answer[] = [];

  const meter = apiRoute('meter', (req: Request) => postMeter(rt, req));
  const trpc = apiRoute('trpc', (req: Request) => handleTrpc(rt, req));
  const billing = apiRoute('billing', (req: Request) => postBillingRun(rt, req));

  function request(kind: Kind): Promise<Response> {
    const auth = { authorization: `Bearer ${key}` };
    const json = { ...auth, 'content-type': 'application/json' };
    const n = seq++;
    switch (kind) {
      case 'meter':
        return meter(
          new Request('http://test/api/meter', {
            method: 'POST',
            headers: json,
            body: JSON.stringify([{ idempotencyKey: `o${n}`, customerId, featureKey: 'api_calls', quantity: 1, timestamp: new Date().toISOString() }]),
          }),
        );
      case 'trpc.query':
        return trpc(new Request(`http://test/api/trpc/customers.get?input=${encodeURIComponent(JSON.stringify({ json: { id: customerId } }))}`, { headers: auth }));
      case 'trpc.mutation':
        return trpc(new Request('http://test/api/trpc/customers.create', { method: 'POST', headers: json, body: JSON.stringify({ json: { email: `c${n}@example.com`, name: `C${n}` } }) }));
      case 'billing.run':
        return billing(new Request('http://test/api/billing/run', { method: 'POST', headers: auth }));
    }
  }

  async function send(kind: Kind): Promise<Answer> {
    const startedAt = performance.now();
    const hung = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000).unref());
    const res = await Promise.race([request(kind), hung]);
    const body = res === 'hung' ? '' : await res.text();
    const a: Answer = {
      kind,
      startedAt,
      ms: performance.now() - startedAt,
      status: res === 'hung' ? 'hung' : res.status,
      retryAfter: res === 'hung' ? null : res.headers.get('retry-after'),
      contentType: res === 'hung' ? null : res.headers.get('content-type'),
      body,
    };
    answers.push(a);
    return a;
  }

  const ok = (a: Answer) => typeof a.status === 'number' && a.status >= 200 && a.status < 300;

  beforeAll(async () => {
    await cluster.start();
    rt = await createRuntime(parseEnv({ DATABASE_URL: cluster.url, LEDGER_DEMO: '0', LEDGER_RATE_LIMIT_PER_KEY: '0' }));
    const s = scope('outage', 'app');
    key = (await createApiKey(rt.database.db, s, 'load')).key;
    const plan = await rt.ledger.plans.create(s, {
      key: 'p',
      name: 'P',
      currency: 'USD',
      interval: { unit: 'month' },
      features: [{ key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum' }],
    });
    customerId = (await rt.ledger.customers.create(s, { email: 'c@example.com', name: 'C' })).id;
    await rt.ledger.subscriptions.create(s, { customerId, planId: plan.id });
  }, 180_000);

  afterAll(async () => {
    if (rt) {
      await closeRateLimiter(rt.env);
      await rt.close().catch(() => {});
    }
    await cluster.destroy();
  }, 60_000);

  it('answers 503 with retry-after (never 500), within the bound, and recovers by itself', { timeout: 240_000 }, async () => {
    for (const kind of KINDS) expect(ok(await send(kind)), kind).toBe(true);

    let stop = false;
    const load = Promise.all(
      Array.from({ length: WORKERS }, async (_, w) => {
        for (let i = w; !stop; i++) {
          await send(KINDS[i % KINDS.length]!);
          // An answer refused by the open circuit involves no I/O at all: without a turn of
          // the event loop between requests, these loops would starve every timer.
          await new Promise((r) => setImmediate(r));
        }
      }),
    );

    await new Promise((r) => setTimeout(r, 1_000));
    const crashedAt = performance.now();
    await cluster.crash();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const restartAt = performance.now();
    await cluster.start();
    const upAt = performance.now();

    // Back by itself: every kind of request succeeds again, with no help from the test.
    const recovered = new Set<Kind>();
    const deadline = upAt + 30_000;
    while (recovered.size < KINDS.length && performance.now() < deadline) {
      for (const a of answers) if (a.startedAt > upAt && ok(a)) recovered.add(a.kind);
      await new Promise((r) => setTimeout(r, 100));
    }
    stop = true;
    await load;

    const during = answers.filter((a) => a.startedAt >= crashedAt);
    const refused = during.filter((a) => a.status === 503);
    const worst = Math.max(...answers.map((a) => a.ms));
    console.info(
      `[outage] ${answers.length} answers; ${refused.length} were 503 (median ${median(refused.map((a) => a.ms))} ms, worst ${Math.round(Math.max(0, ...refused.map((a) => a.ms)))} ms); ` +
        `worst of all ${Math.round(worst)} ms; restart took ${Math.round(upAt - restartAt)} ms; first success after it ${Math.round(Math.min(...answers.filter((a) => a.startedAt > upAt && ok(a)).map((a) => a.startedAt + a.ms)) - upAt)} ms`,
    );

    expect(refused.length, 'the outage was seen').toBeGreaterThan(0);
    expect([...recovered].sort(), 'every kind of request succeeds again after the restart').toEqual([...KINDS].sort());
    for (const a of answers) {
      const where = `${a.kind} at +${Math.round(a.startedAt - crashedAt)} ms: ${a.status} ${a.body.slice(0, 200)}`;
      expect(a.status === 503 || ok(a), where).toBe(true);
      expect(a.ms, where).toBeLessThan(BOUND_MS + MARGIN_MS);
      if (a.status === 503) {
        expect(a.retryAfter, where).toBe('1');
        expect(a.contentType, where).toMatch(/application\/json/);
        expect(a.body, where).not.toMatch(/ECONN|127\.0\.0\.1|select |insert |Failed query/);
        const body = JSON.parse(a.body);
        const code = a.kind.startsWith('trpc') ? body.error.json.data.ledgerCode : body.code;
        expect(code, where).toBe('unavailable');
      }
    }
  });
});

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)]!);
}
