import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * postgres.js 3.4.9 crashes the process when a transaction's connection dies mid-query:
 * sql.begin() writes its ROLLBACK to the socket closed() has nulled, from a setImmediate
 * callback (porsager/postgres#1208). scripts/patch-postgres.mjs guards it; this test
 * reproduces the upstream report and asserts the failure is an ordinary rejection, no
 * uncaught exception, and that the pool works afterwards. On a real server only.
 */
const url = process.env.TEST_DATABASE_URL;

describe.skipIf(!url)('a transaction whose connection is killed (porsager/postgres#1208)', () => {
  const sql = postgres(url!, { max: 2, onnotice: () => {} });
  const killer = postgres(url!, { max: 1, onnotice: () => {} });
  afterAll(async () => {
    await sql.end({ timeout: 1 });
    await killer.end({ timeout: 1 });
  });

  it('rejects the transaction; nothing is thrown outside it; the pool answers again', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      let pid: number | null = null;
      const tx = sql.begin(async (t) => {
        const [row] = await t<{ pid: number }[]>`select pg_backend_pid() as pid`;
        pid = row!.pid;
        await t`select pg_sleep(3)`; // in flight when the backend dies
      });
      const outcome = tx.then(
        () => 'committed',
        (e: unknown) => e,
      );
      while (pid === null) await new Promise((r) => setTimeout(r, 20));
      await killer`select pg_terminate_backend(${pid})`;
      const e = await outcome;
      expect(e).toBeInstanceOf(Error);
      // The ROLLBACK's write would have crashed here, from a setImmediate callback.
      await new Promise((r) => setTimeout(r, 300));
      expect(uncaught).toEqual([]);
      const [row] = await sql<{ one: number }[]>`select 1 as one`;
      expect(row!.one).toBe(1);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
