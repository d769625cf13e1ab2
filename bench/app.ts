import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The production build (`next start`) for the HTTP benchmarks, on PostgreSQL at `url`,
 * built first when there is no build. `env` adds to the app's environment (a provider's
 * keys). Stop it with `stop()`.
 */
const root = path.resolve(import.meta.dirname, '..');
const nextBin = path.join(root, 'node_modules', 'next', 'dist', 'bin', 'next');

export interface BenchApp {
  base: string;
  stop(): Promise<void>;
}

export async function startApp(url: string, port: number, env: Record<string, string> = {}): Promise<BenchApp> {
  if (!fs.existsSync(path.join(root, '.next', 'BUILD_ID'))) {
    const r = spawnSync(process.execPath, [nextBin, 'build'], { cwd: root, stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
    if (r.status !== 0) throw new Error('next build failed');
  }
  const server = spawn(process.execPath, [nextBin, 'start', '-p', String(port)], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url, LEDGER_DEMO: '0', NEXT_TELEMETRY_DISABLED: '1', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (server.exitCode !== null) return;
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  };
  try {
    await waitFor(`${base}/api/health`, server);
  } catch (e) {
    await stop();
    throw e;
  }
  return { base, stop };
}

async function waitFor(url: string, server: ChildProcess): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < 60_000) {
    if (server.exitCode !== null) throw new Error(`the app exited with ${server.exitCode}`);
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within 60 s`);
}
