import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '@/db/client';

/**
 * PGlite allows one process per data directory; a second opener must fail with a clear
 * message rather than corrupt the data. A lock left by a dead process is taken over.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-lock-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the embedded database lock', () => {
  it('refuses a data directory held by another live process, naming it', async () => {
    const dataDir = path.join(dir, 'held');
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      fs.writeFileSync(`${dataDir}.lock`, String(other.pid));
      await expect(openDatabase({ dataDir })).rejects.toThrow(new RegExp(`in use by process ${other.pid}`));
      expect(fs.existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(false);
    } finally {
      other.kill();
    }
  });

  it('takes over a lock whose process is gone, and keeps data across reopen', async () => {
    const dataDir = path.join(dir, 'stale');
    fs.writeFileSync(`${dataDir}.lock`, '999999999');
    const first = await openDatabase({ dataDir });
    expect(fs.readFileSync(`${dataDir}.lock`, 'utf8')).toBe(String(process.pid));
    await first.db.execute(`insert into customers (tenant_id, app_id, id, email, name, created_at, updated_at) values ('t','a','cst_01h455vb4pex5vsknk084sn02q','x@example.com','X', now(), now())` as never);
    await first.close();
    expect(fs.existsSync(`${dataDir}.lock`)).toBe(false);
    const second = await openDatabase({ dataDir });
    const rows = await second.db.execute(`select email from customers` as never);
    expect(JSON.stringify(rows)).toContain('x@example.com');
    await second.close();
  }, 120_000); // two embedded databases opened and migrated on disk: slow on a busy machine
});
