import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_HEADER, openAdminChannel, readAdminEndpoint, type AdminEndpoint } from '@/server/admin';
import { verifyApiKey } from '@/server/auth/api-keys';

/**
 * `npm run apikey` on the embedded database, whether the app runs or not: with no app it
 * opens the database itself; while an app holds the database (PGlite: one process per
 * data directory) it asks the app through the admin channel. The "app" here is this test
 * process: the runtime holding the database, the admin route handlers served over HTTP
 * (as Next.js serves them), and the channel's file written as boot writes it.
 */
const root = path.resolve(import.meta.dirname, '..', '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-apikey-'));
const dataDir = path.join(dir, 'pglite');
process.env.PGLITE_DATA_DIR = dataDir;
process.env.LEDGER_DEMO = '0';
delete process.env.DATABASE_URL;
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function apikey(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, PGLITE_DATA_DIR: dataDir, DATABASE_URL: '' };
    const p = spawn(process.execPath, [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/apikey.ts', ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const keyOf = (r: Run) => /^(ldg_(?:live|test)_\S+)$/m.exec(r.stdout)?.[1];
const idOf = (r: Run) => /(key_[0-9a-z]{26})/.exec(r.stdout)?.[1];

// Not a timing assertion: a bound on a hang (each command starts a process that may open PGlite on disk).
describe('npm run apikey', { timeout: 300_000 }, () => {
  it('with no app running, opens the database itself: create (live by default), list, revoke; a test key for a live scope is refused', async () => {
    // A channel file left by an app that is gone does not count.
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(`${dataDir}.admin.json`, JSON.stringify({ pid: 999_999_999, url: 'http://127.0.0.1:9', token: 'x' }));
    expect(readAdminEndpoint(dataDir)).toBeNull();

    const created = await apikey('create', '--tenant', 'acme', '--app', 'billing', '--name', 'backend');
    expect(created.code, created.stderr).toBe(0);
    expect(keyOf(created)).toMatch(/^ldg_live_[0-9A-Za-z]{12}_[0-9A-Za-z]{32}$/);
    const id = idOf(created)!;
    expect(created.stdout).toContain('for acme/billing, a live scope');

    const refused = await apikey('create', '--tenant', 'acme', '--app', 'billing', '--mode', 'test');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('the scope acme/billing is live; it cannot have test keys');

    const revoked = await apikey('revoke', '--tenant', 'acme', '--app', 'billing', '--id', id);
    expect(revoked.stdout).toContain(`Revoked ${id}.`);
    const listed = await apikey('list', '--tenant', 'acme', '--app', 'billing');
    expect(listed.stdout).toMatch(new RegExp(`^${id}  ${keyOf(created)!.slice(0, -33)}…  backend  created \\S+  REVOKED \\S+$`, 'm'));
  });

  it('while the app holds the database, asks the app through its admin channel (token in a 0600 file)', async () => {
    const { getRuntime } = await import('@/server/runtime');
    const keysRoute = await import('@/app/api/admin/api-keys/route');
    const keyRoute = await import('@/app/api/admin/api-keys/[id]/route');
    const rt = await getRuntime(); // holds the lock: the CLI cannot open the database now
    const server = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const url = new URL(req.url!, `http://${req.headers.host}`);
      const request = new Request(url, {
        method: req.method,
        headers: req.headers as Record<string, string>,
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      });
      const id = /^\/api\/admin\/api-keys\/([^/]+)$/.exec(url.pathname)?.[1];
      const handlers = (id ? keyRoute : keysRoute) as unknown as Record<string, (r: Request, ctx?: unknown) => Promise<Response>>;
      const answer = await handlers[req.method!]!(request, { params: Promise.resolve({ id }) });
      res.writeHead(answer.status, Object.fromEntries(answer.headers));
      res.end(Buffer.from(await answer.arrayBuffer()));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const file = openAdminChannel(dataDir, (server.address() as { port: number }).port)!;
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const endpoint = readAdminEndpoint(dataDir) as AdminEndpoint;
      expect(endpoint.pid).toBe(process.pid);

      const created = await apikey('create', '--tenant', 'acme', '--app', 'sandbox', '--name', 'ci', '--mode', 'test');
      expect(created.code, created.stderr).toBe(0);
      const key = keyOf(created)!;
      expect(key).toMatch(/^ldg_test_/);
      expect(await verifyApiKey(rt.database.db, key)).toMatchObject({ scope: { tenantId: 'acme', appId: 'sandbox' }, mode: 'test', name: 'ci' });
      const listed = await apikey('list', '--tenant', 'acme', '--app', 'sandbox');
      expect(listed.stdout).toContain(`${idOf(created)}  ${key.slice(0, -33)}…  ci  created`);
      const revoked = await apikey('revoke', '--tenant', 'acme', '--app', 'sandbox', '--id', idOf(created)!);
      expect(revoked.stdout).toContain('Revoked');
      expect(await verifyApiKey(rt.database.db, key)).toBeNull();
      const again = await apikey('revoke', '--tenant', 'acme', '--app', 'sandbox', '--id', idOf(created)!);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('No active key');

      // The routes answer only the token, on a loopback host.
      const list = `${endpoint.url}/api/admin/api-keys?tenant=acme&app=sandbox`;
      expect((await fetch(list)).status).toBe(401);
      expect((await fetch(list, { headers: { [ADMIN_TOKEN_HEADER]: 'not-the-token' } })).status).toBe(401);
      expect((await fetch(list, { headers: { [ADMIN_TOKEN_HEADER]: endpoint.token } })).status).toBe(200);
      const viaProxy = await keysRoute.GET(new Request('http://billing.example.com/api/admin/api-keys?tenant=acme&app=sandbox', { headers: { host: 'billing.example.com', [ADMIN_TOKEN_HEADER]: endpoint.token } }));
      expect(viaProxy.status).toBe(403);
      const bad = await fetch(`${endpoint.url}/api/admin/api-keys`, { method: 'POST', headers: { [ADMIN_TOKEN_HEADER]: endpoint.token }, body: '{"tenant":"Acme!","app":"x"}' });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ code: 'invalid', issues: [{ path: 'tenant' }] });
    } finally {
      await new Promise((r) => server.close(r));
      await rt.close();
    }
  });
});
