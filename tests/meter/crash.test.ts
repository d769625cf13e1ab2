import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '@/db/client';
import { createLedger, createPostgresStore, scope, silentLogger } from '@/server/ledger';

/**
 * Crash safety, with a real second process: events acknowledged as durable survive a
 * kill -9; events only buffered by meter() are written on SIGTERM; a restart that sends
 * everything again stores each event exactly once. On PostgreSQL when TEST_DATABASE_URL
 * is set, and always on an embedded PGlite directory.
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-crash-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const targets: [string, () => string][] = [['pglite', () => path.join(tmp, `db-${Math.random().toString(36).slice(2)}`)]];
if (process.env.TEST_DATABASE_URL) targets.push(['postgres', () => process.env.TEST_DATABASE_URL!]);

const child = path.resolve(import.meta.dirname, '../support/meter-child.ts');

async function prepare(db: string) {
  const tenant = `crash-${Math.random().toString(36).slice(2, 10)}`;
  const database = await openDatabase(db.startsWith('postgres') ? { url: db } : { dataDir: db });
  const ledger = await createLedger({ store: createPostgresStore(database.db), logger: silentLogger });
  const s = scope(tenant, 'app');
  const plan = await ledger.plans.create(s, {
    key: 'p',
    name: 'P',
    currency: 'USD',
    interval: { unit: 'month' },
    features: [{ key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum' }],
  });
  const customerId = (await ledger.customers.create(s, { email: 'c@example.com', name: 'C' })).id;
  await ledger.subscriptions.create(s, { customerId, planId: plan.id });
  await ledger.shutdown();
  await database.close();
  return { tenant, customerId };
}

/** What the database holds for the tenant: the sum and the keys. */
async function inspect(db: string, tenant: string, customerId: string) {
  const database = await openDatabase(db.startsWith('postgres') ? { url: db } : { dataDir: db });
  try {
    const store = createPostgresStore(database.db);
    const sum = await store.usage.aggregate(scope(tenant, 'app'), {
      customerId: customerId as never,
      featureKey: 'api_calls',
      aggregation: 'sum',
      from: new Date(Date.now() - 86_400_000),
      to: new Date(Date.now() + 600_000),
    });
    const count = await store.usage.aggregate(scope(tenant, 'app'), {
      customerId: customerId as never,
      featureKey: 'api_calls',
      aggregation: 'count',
      from: new Date(Date.now() - 86_400_000),
      to: new Date(Date.now() + 600_000),
    });
    return { sum: Number(sum), count: Number(count) };
  } finally {
    await database.close();
  }
}

function run(args: string[]): { proc: ChildProcess; lines: AsyncIterableIterator<string>; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, lines, exited };
}

async function until(lines: AsyncIterableIterator<string>, pred: (line: string) => boolean): Promise<string> {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error('the child ended before the expected line');
    if (pred(value)) return value;
  }
}

/**
 * Each test starts one or two Node processes that compile TypeScript and open an embedded
 * database, and opens it twice more itself: about 10 s alone, several times that on a
 * busy 2-core machine. Nothing here waits on a timer; the limit only stops a hang.
 */
const PROCESS_TEST_TIMEOUT = 240_000;

describe.each(targets)('crash safety on %s', (_name, makeDb) => {
  it('every batch acknowledged before a kill -9 is stored; a restart resending all stores each event once', async () => {
    const db = makeDb();
    const { tenant, customerId } = await prepare(db);
    const perBatch = 100;

    const ts = new Date().toISOString();
    const first = run(['durable', db, tenant, customerId, ts, '1000', String(perBatch)]);
    await until(first.lines, (l) => l === 'ACK 4');
    first.proc.kill('SIGKILL'); // mid-flight: batch 5 may be half-sent
    await first.exited;

    const afterKill = await inspect(db, tenant, customerId);
    expect(afterKill.count).toBeGreaterThanOrEqual(5 * perBatch); // all acknowledged batches
    expect(afterKill.count % perBatch).toBe(0); // a batch is written whole or not at all

    // Restart and send batches 0..9 again: the first ones are duplicates.
    const second = run(['durable', db, tenant, customerId, ts, '10', String(perBatch)]);
    await until(second.lines, (l) => l === 'DONE');
    expect(await second.exited).toBe(0);
    expect(await inspect(db, tenant, customerId)).toEqual({ sum: 10 * perBatch, count: 10 * perBatch });
  }, PROCESS_TEST_TIMEOUT);

  it('events only buffered by meter() are written on SIGTERM', async () => {
    const db = makeDb();
    const { tenant, customerId } = await prepare(db);
    const p = run(['buffered', db, tenant, customerId, new Date().toISOString(), '500']);
    expect(await until(p.lines, (l) => l.startsWith('BUFFERED'))).toBe('BUFFERED 500');
    p.proc.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(await inspect(db, tenant, customerId)).toEqual({ sum: 1000, count: 500 });
  }, PROCESS_TEST_TIMEOUT);
});
