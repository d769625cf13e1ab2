import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '@/db/client';
import { createLedger, createPostgresStore, ManualClock, scope, silentLogger } from '@/server/ledger';
import { startReceiver, type Receiver } from '../support/webhook-receiver';
import { freshDatabase } from '../support/webhook-stores';

/**
 * At least once, with a real crash: a second process fans an event out and is killed
 * (kill -9) while the receiver holds its message's request open. A new engine on the same
 * database, once the dead worker's lease has lapsed, sends the message again: the same
 * webhook-id, verified, and recorded as delivered. Nothing lost. On an embedded PGlite
 * directory, and on PostgreSQL (a database of the test's own) when TEST_DATABASE_URL is set.
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-wh-crash-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of drops) await d();
});
const targets: [string, () => Promise<string>][] = [['pglite', async () => path.join(tmp, `db-${Math.random().toString(36).slice(2)}`)]];
if (process.env.TEST_DATABASE_URL) {
  targets.push([
    'postgres',
    async () => {
      const own = await freshDatabase(process.env.TEST_DATABASE_URL!);
      drops.push(own.drop);
      return own.url;
    },
  ]);
}

const child = path.resolve(import.meta.dirname, '../support/webhooks-out-child.ts');
/** Two Node processes compiling TypeScript and opening a database: slow on a busy machine; nothing waits on a timer. */
const PROCESS_TEST_TIMEOUT = 240_000;

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());

async function engine(db: string, clock?: ManualClock) {
  const database = await openDatabase(db.startsWith('postgres') ? { url: db } : { dataDir: db });
  const ledger = await createLedger({
    store: createPostgresStore(database.db),
    logger: silentLogger,
    webhooksOut: { guard: { allowHttp: true, allowPrivate: true } },
    ...(clock ? { clock } : {}),
  });
  return {
    ledger,
    async close() {
      await ledger.shutdown();
      await database.close();
    },
  };
}

describe.each(targets)('killed mid-delivery, on %s', (_name, makeDb) => {
  it('the message is sent again after a restart: at least once, the same webhook-id, recorded as delivered', async () => {
    const db = await makeDb();
    const hook = `/crash-${Math.random().toString(36).slice(2, 8)}`;
    const s = scope(`whcrash-${Math.random().toString(36).slice(2, 10)}`, 'app');
    // An endpoint and one event for it, written by a first engine.
    const first = await engine(db);
    let endpointId: string;
    let customerId: string;
    try {
      const { endpoint, secret } = await first.ledger.webhooksOut.create(s, { url: receiver.url(hook), eventTypes: ['customer.created'] });
      endpointId = endpoint.id;
      receiver.secrets(hook, secret);
      customerId = (await first.ledger.customers.create(s, { email: 'ada@example.com', name: 'Ada' })).id;
    } finally {
      await first.close();
    }

    // The child fans it out and sends it; the receiver holds the request; kill -9.
    receiver.next(hook, { stall: true });
    const proc = spawn(process.execPath, ['--import', 'tsx', child, db], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LEDGER_WEBHOOKS_ALLOW_PRIVATE: '1' } });
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    const lines = readline.createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('DELIVERING');
    while (receiver.inFlight(hook) === 0) {
      if (proc.exitCode !== null) throw new Error('the child ended before it sent the message');
      await new Promise((r) => setTimeout(r, 20));
    }
    proc.kill('SIGKILL');
    await exited;
    receiver.release();
    expect(receiver.of(hook)).toHaveLength(1);

    // A new engine, after the dead worker's lease has lapsed: the child leased the message
    // for 60 s and renewed it every 20 s while it lived (its 10-minute attempt timeout no
    // longer lengthens a lease), so 2 minutes after the kill it is free.
    const again = await engine(db, new ManualClock(new Date(Date.now() + 2 * 60_000)));
    try {
      const report = await again.ledger.webhooksOut.runOnce();
      expect(report).toMatchObject({ dispatched: 0, attempted: 1, succeeded: 1 });
      const got = receiver.of(hook);
      expect(got).toHaveLength(2);
      expect(got[1]!.headers['webhook-id']).toBe(got[0]!.headers['webhook-id']);
      expect(got.map((r) => r.verifiedWith)).toEqual([[true], [true]]);
      expect(got[1]!.payload).toMatchObject({ type: 'customer.created', data: { id: customerId } });
      const [attempt, ...more] = (await again.ledger.webhooksOut.attempts(s, endpointId)).items;
      expect(more).toEqual([]); // the killed attempt never got to be recorded
      expect(attempt).toMatchObject({ status: 'succeeded', responseCode: 200 });
      expect(await again.ledger.webhooksOut.delivery(s, attempt!.deliveryId)).toMatchObject({ status: 'succeeded', attempts: 1 });
      // Nothing is left: another pass sends nothing.
      expect(await again.ledger.webhooksOut.runOnce()).toMatchObject({ dispatched: 0, attempted: 0 });
    } finally {
      await again.close();
    }
  }, PROCESS_TEST_TIMEOUT);
});
