import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER, openDatabase } from '@/db/client';
import { createPostgresStore } from '@/server/ledger/store/postgres';
import { isId, scope } from '@/server/ledger/types';

/**
 * Migrations on a database with data: the schema as 0003 left it, with rows of that time,
 * then the migrations after it.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-migrations-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The migrations folder cut after its `n` first migrations. */
function migrationsUpTo(n: number): string {
  const folder = path.join(dir, `upto-${n}`);
  fs.mkdirSync(path.join(folder, 'meta'), { recursive: true });
  const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'));
  journal.entries = journal.entries.slice(0, n);
  for (const e of journal.entries) fs.copyFileSync(path.join(MIGRATIONS_FOLDER, `${e.tag}.sql`), path.join(folder, `${e.tag}.sql`));
  fs.writeFileSync(path.join(folder, 'meta', '_journal.json'), JSON.stringify(journal));
  return folder;
}

describe('migrations on an existing database', () => {
  it('0004–0005: a scope-wide test clock of the old kind keeps its customers at its time (a test scope, a clock with them on it), never billed at the real time', async () => {
    const handle = await openDatabase({ dataDir: 'memory://', migrate: false });
    try {
      const db = handle.db;
      await migrate(db as never, { migrationsFolder: migrationsUpTo(4) }); // 0000–0003
      // A rehearsal scope whose clock stands at 2020-01-01 (its customer's month ended on
      // Feb 1, 2020 at the clock's time), and a live scope at the real time.
      for (const app of ['rehearse', 'prod']) {
        await db.execute(sql`insert into plans values ('acme', ${app}, 'pln_01h455vb4pex5vsknk084sn02q', 'm', 1, true, 'active', 'M', '', 'USD', 'month', 1, 1000, 0, '[]', '{}', now(), now())`);
      }
      await db.execute(sql`insert into test_clocks values ('acme', 'rehearse', '2020-01-01T00:00:00Z', now(), now(), 3)`);
      await db.execute(sql`insert into customers (tenant_id, app_id, id, email, name, created_at, updated_at) values
        ('acme', 'rehearse', 'cst_01h455vb4pex5vsknk084sn02q', 'r@example.com', 'R', '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z'),
        ('acme', 'prod', 'cst_01h455vb4pex5vsknk084sn02r', 'p@example.com', 'P', now(), now())`);
      await db.execute(sql`insert into subscriptions (tenant_id, app_id, id, customer_id, plan_id, status, quantity, billing_anchor, current_period_start, current_period_end, created_at, updated_at, unbilled_from) values
        ('acme', 'rehearse', 'sub_01h455vb4pex5vsknk084sn02q', 'cst_01h455vb4pex5vsknk084sn02q', 'pln_01h455vb4pex5vsknk084sn02q', 'active', 1, '2020-01-01', '2020-01-01', '2020-02-01', '2020-01-01', '2020-01-01', '2020-01-01'),
        ('acme', 'prod', 'sub_01h455vb4pex5vsknk084sn02r', 'cst_01h455vb4pex5vsknk084sn02r', 'pln_01h455vb4pex5vsknk084sn02q', 'active', 1, now(), now(), now() + interval '1 month', now(), now(), now())`);

      await migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER });
      const store = createPostgresStore(db);
      const rehearse = scope('acme', 'rehearse');
      expect(await store.scopes.mode(rehearse)).toBe('test');
      expect(await store.scopes.mode(scope('acme', 'prod'))).toBeNull(); // untouched: live
      const clocks = await store.billing.allTestClocks();
      expect(clocks).toHaveLength(1);
      const [{ clock }] = clocks as [(typeof clocks)[number]];
      expect(isId('testClock', clock.id)).toBe(true);
      expect(clock.now).toEqual(new Date('2020-01-01T00:00:00Z'));
      expect((await store.customers.get(rehearse, 'cst_01h455vb4pex5vsknk084sn02q' as never))?.testClockId).toBe(clock.id);
      expect((await store.customers.get(scope('acme', 'prod'), 'cst_01h455vb4pex5vsknk084sn02r' as never))?.testClockId).toBeNull();
      // At the real time nothing is due: the rehearsal's month ends at its clock's time.
      expect(await store.billing.dueWork(new Date(), 100)).toEqual([]);
    } finally {
      await handle.close();
    }
  });
});
