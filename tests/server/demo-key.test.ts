import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApiKey, listApiKeys, verifyApiKey } from '@/server/auth/api-keys';
import { DEMO_KEY_NAME, demoKeyFileFor, seedDemo } from '@/server/demo';
import { createTestRuntime } from '../support/runtime';

/**
 * The demo key a newcomer exports stays valid across restarts, and demo keys do not pile
 * up: one active demo key per demo scope, kept beside the embedded database (0600).
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-demo-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** One start of the app on a data directory: open, seed, close. */
async function start(dataDir: string, env: Record<string, string> = {}) {
  const rt = await createTestRuntime({ PGLITE_DATA_DIR: dataDir, LEDGER_DEMO: '1', ...env });
  try {
    const demo = await seedDemo(rt);
    const keys = await listApiKeys(rt.database.db, rt.portalScope);
    return { demo, keys, active: keys.filter((k) => !k.revokedAt), rt };
  } finally {
    await rt.close();
  }
}

// Not a timing assertion: a bound on a hang (each start opens and migrates PGlite on disk).
describe('the demo key', { timeout: 300_000 }, () => {
  it('is the same at every start, kept beside the database readable by its owner only', async () => {
    const dataDir = path.join(dir, 'stable', 'pglite');
    const first = await start(dataDir);
    expect(first.demo.seeded).toBe(true);
    expect(first.demo.apiKey).toMatch(/^ldg_test_[0-9A-Za-z]{12}_[0-9A-Za-z]{32}$/);
    expect(first.demo.customerId).toMatch(/^cst_/);
    const file = `${dataDir}.demo-key`;
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(first.demo.apiKey);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    const second = await start(dataDir);
    const third = await start(dataDir);
    expect(second.demo).toEqual({ apiKey: first.demo.apiKey, customerId: first.demo.customerId, seeded: false });
    expect(third.demo.apiKey).toBe(first.demo.apiKey);
    expect(third.keys).toHaveLength(1); // no key made by the restarts
  });

  it('revokes the demo keys earlier starts left behind, and replaces a kept key the database does not know', async () => {
    const dataDir = path.join(dir, 'pile', 'pglite');
    const first = await start(dataDir);
    // Earlier versions made a new demo key at every start; a few are still active.
    const rt = await createTestRuntime({ PGLITE_DATA_DIR: dataDir });
    for (let i = 0; i < 3; i++) await createApiKey(rt.database.db, rt.portalScope, DEMO_KEY_NAME, { mode: 'test' });
    await rt.close();
    const next = await start(dataDir);
    expect(next.demo.apiKey).toBe(first.demo.apiKey);
    expect(next.active.map((k) => k.prefix)).toEqual([first.demo.apiKey.slice(0, -33)]);

    // A kept key from another database (the data directory was replaced): a new key, kept instead.
    fs.writeFileSync(`${dataDir}.demo-key`, 'ldg_test_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n');
    const after = await start(dataDir);
    expect(after.demo.apiKey).not.toBe(first.demo.apiKey);
    expect(fs.readFileSync(`${dataDir}.demo-key`, 'utf8').trim()).toBe(after.demo.apiKey);
    expect(after.active).toHaveLength(1);
  });

  it('is LEDGER_DEMO_API_KEY when set, stored once however many starts use it', async () => {
    const dataDir = path.join(dir, 'preset', 'pglite');
    const preset = 'ldg_test_presetPRESET_0123456789abcdefghijABCDEFGHIJ01';
    for (let i = 0; i < 3; i++) {
      const s = await start(dataDir, { LEDGER_DEMO_API_KEY: preset });
      expect(s.demo.apiKey).toBe(preset);
      expect(s.keys).toHaveLength(1);
    }
    expect(fs.existsSync(`${dataDir}.demo-key`)).toBe(false); // the environment holds it
  });

  it('on a memory database: a key for that database, nothing kept on disk', async () => {
    const rt = await createTestRuntime({ LEDGER_DEMO: '1' });
    try {
      expect(demoKeyFileFor(rt.env)).toBeNull();
      const { apiKey } = await seedDemo(rt);
      expect(await verifyApiKey(rt.database.db, apiKey)).toMatchObject({ scope: rt.portalScope, mode: 'test' });
    } finally {
      await rt.close();
    }
  });
});
