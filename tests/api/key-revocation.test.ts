import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { createApiKey, revokeApiKey } from '@/server/auth/api-keys';
import { parseEnv } from '@/server/env';
import { closeRateLimiter } from '@/server/http/rate-limit';
import { postMeter } from '@/server/http/meter-handler';
import { apiRoute } from '@/server/http/route';
import type { Scope } from '@/server/ledger';
import { createRuntime, type Runtime } from '@/server/runtime';
import { eventually } from '../support/redis';
import { uniqueScope } from '../support/stores';

/**
 * Revoking a key takes effect at once on every instance: two runtimes (two instances,
 * each with its own key cache) on one real PostgreSQL, keys cached in both, revoked
 * through one, through the CLI (another process), and while an instance's LISTEN is down.
 */
const url = process.env.TEST_DATABASE_URL;
if (!url) console.warn('[tests] TEST_DATABASE_URL is not set: the API key revocation suite (two instances on PostgreSQL) is skipped');

describe.skipIf(!url)('API key revocation across instances', () => {
  // A distinct application_name per instance, so the test can cut one instance's LISTEN.
  const tag = `ledger-revoke-${process.pid}-${Date.now()}`;
  let a: Runtime;
  let b: Runtime;
  let s: Scope;
  let customerId: string;
  let n = 0;

  const meterOn = (rt: () => Runtime) => apiRoute('t', (req: Request) => postMeter(rt(), req));
  const onA = meterOn(() => a);
  const onB = meterOn(() => b);
  /** One event through an instance's real handler: its status. */
  const write = async (via: typeof onA, key: string) =>
    (
      await via(
        new Request('http://test/api/meter', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ idempotencyKey: `w${n++}`, customerId, featureKey: 'api_calls', quantity: 1, timestamp: new Date().toISOString() }),
        }),
      )
    ).status;

  const instance = (name: string) =>
    createRuntime(parseEnv({ DATABASE_URL: `${url}${url!.includes('?') ? '&' : '?'}application_name=${tag}-${name}`, LEDGER_DEMO: '0' }));

  beforeAll(async () => {
    a = await instance('a');
    b = await instance('b');
    s = uniqueScope();
    const plan = await a.ledger.plans.create(s, {
      key: 'p',
      name: 'P',
      currency: 'USD',
      interval: { unit: 'month' },
      features: [{ key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum' }],
    });
    customerId = (await a.ledger.customers.create(s, { email: 'c@example.com', name: 'C' })).id;
    await a.ledger.subscriptions.create(s, { customerId, planId: plan.id });
  });
  afterAll(async () => {
    for (const rt of [a, b]) {
      if (!rt) continue;
      await closeRateLimiter(rt.env);
      await rt.close();
    }
  });

  /** A key both instances have verified and cached. */
  async function cachedKey(name: string) {
    const k = await createApiKey(a.database.db, s, name);
    // Until an instance's LISTEN is in place it verifies every request; wait for the cache.
    expect(await write(onA, k.key)).toBe(202);
    expect(await write(onB, k.key)).toBe(202);
    return k;
  }

  it('revoked through one instance: refused there at once, and on the other as soon as the NOTIFY arrives', async () => {
    const k = await cachedKey('backend');
    // Writes through B all along, until B refuses.
    const log: { startedAt: number; status: number }[] = [];
    let stop = false;
    const writer = (async () => {
      while (!stop) {
        const startedAt = performance.now();
        log.push({ startedAt, status: await write(onB, k.key) });
      }
    })();

    await eventually(async () => log.length, (x) => x >= 3); // B is writing
    expect(await revokeApiKey(a.database.db, s, k.id)).toBe(true);
    const revokedAt = performance.now();
    expect(await write(onA, k.key)).toBe(401); // at once, no wait

    const refusedOnB = await eventually(async () => log.find((e) => e.startedAt > revokedAt && e.status === 401), (e) => e !== undefined);
    stop = true;
    await writer;
    expect(refusedOnB, 'B still accepts the revoked key after 5 s').toBeDefined();
    // After B's first refusal, nothing of that key is accepted any more.
    const firstRefusal = log.findIndex((e) => e.status === 401);
    expect(log.slice(firstRefusal).every((e) => e.status === 401)).toBe(true);
    // Accepted after the revoke returned: at most the one write B began in the same
    // instant, before the notification was read off its socket.
    const lateAccepts = log.filter((e) => e.startedAt > revokedAt && e.status === 202).length;
    expect(lateAccepts).toBeLessThanOrEqual(1);
    console.info(`[revocation] B refused ${Math.round(refusedOnB!.startedAt - revokedAt)} ms after the revoke returned; ${lateAccepts} write(s) accepted meanwhile`);
  });

  it('revoked by the CLI (another process): both instances refuse', { timeout: 120_000 }, async () => {
    const k = await cachedKey('cli');
    const root = path.resolve(import.meta.dirname, '../..');
    const cli = spawn(path.join(root, 'node_modules/.bin/tsx'), ['scripts/apikey.ts', 'revoke', '--tenant', s.tenantId, '--app', s.appId, '--id', k.id], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: url, LEDGER_DEMO: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    cli.stdout.on('data', (d) => (out += d));
    cli.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => cli.once('exit', resolve));
    expect(code, out).toBe(0);
    expect(out).toMatch(/Revoked/);
    for (const via of [onA, onB]) expect(await eventually(() => write(via, k.key), (st) => st === 401)).toBe(401);
  });

  it('a revocation while an instance is not listening (a missed notification) is still refused: the cache is not trusted meanwhile, and emptied when the LISTEN is back', async () => {
    const k = await cachedKey('missed');
    const admin = postgres(url!, { max: 1, onnotice: () => {} });
    try {
      // Cut B's LISTEN connection, then revoke without a notification (as if it came while B was away).
      const cut = await admin`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${`${tag}-b`} and query ilike 'listen%'`;
      expect(cut.length).toBe(1);
      await admin`update api_keys set revoked_at = now() where id = ${k.id}`;
      // Well before the cache's own 10 s expiry.
      expect(await eventually(() => write(onB, k.key), (st) => st === 401)).toBe(401);
      // And B's LISTEN is back: a key revoked now is refused at once through the notification.
      const next = await cachedKey('after');
      await eventually(
        async () => (await admin`select count(*)::int as n from pg_stat_activity where application_name = ${`${tag}-b`} and query ilike 'listen%'`)[0]!.n,
        (x) => x === 1,
      );
      expect(await revokeApiKey(a.database.db, s, next.id)).toBe(true);
      expect(await eventually(() => write(onB, next.key), (st) => st === 401)).toBe(401);
    } finally {
      await admin.end();
    }
  });
});
