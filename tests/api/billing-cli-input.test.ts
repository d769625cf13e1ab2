import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** `npm run billing -- run … --at`: the CLI reads its date with the shared `instant` schema. */
const root = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');

function billing(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      tsx,
      ['scripts/billing.ts', ...args],
      // A throw-away embedded database: the CLI never touches .data/ here.
      { cwd: root, env: { ...process.env, DATABASE_URL: '', PGLITE_DATA_DIR: 'memory://', LEDGER_DEMO: '0' } },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run billing -- run --at', () => {
  it.each([
    ['February 30', '2026-02-30T00:00:00Z', '--at: expected an RFC 3339 date-time such as 2026-11-25T14:00:00Z, got "2026-02-30T00:00:00Z"'],
    ['year 10000', '+010000-01-01T00:00:00Z', '--at: expected an RFC 3339 date-time such as 2026-11-25T14:00:00Z, got "+010000-01-01T00:00:00Z"'],
    ['epoch milliseconds', '1764079200000', '--at: expected an RFC 3339 date-time such as 2026-11-25T14:00:00Z, got "1764079200000"'],
    ['year 1969', '1969-12-31T23:59:59Z', '--at: must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z'],
  ])('refuses %s with the shared message and exit code 1', async (_name, at, message) => {
    const r = await billing('run', '--tenant', 'acme', '--app', 'billing', '--at', at);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(message);
  }, 120_000);

  it('runs one scope as of a valid earlier instant', async () => {
    const r = await billing('run', '--tenant', 'acme', '--app', 'billing', '--at', '2026-01-01T00:00:00Z');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('acme/billing: 0 period(s) billed, 0 invoice(s) created, 0 finalized');
    expect(r.code).toBe(0);
  }, 120_000);
});
