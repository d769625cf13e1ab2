/**
 * `npm start`: checks the environment, builds the app when the build is missing or older
 * than the sources, then runs `next start` on $PORT (default 3000). On the embedded
 * default this starts with demo data and prints a line `Demo API key: …`.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { EnvError, parseEnv } from '../server/env';

const root = path.resolve(import.meta.dirname, '..');
process.env.NEXT_TELEMETRY_DISABLED ??= '1'; // no phoning home (and no network here)
const nextBin = path.join(root, 'node_modules', 'next', 'dist', 'bin', 'next');

let env;
try {
  env = parseEnv();
} catch (e) {
  console.error(e instanceof EnvError ? e.message : e);
  process.exit(1);
}

function newestMtime(p: string): number {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...fs.readdirSync(p).map((n) => newestMtime(path.join(p, n))));
}

const buildId = path.join(root, '.next', 'BUILD_ID');
const built = fs.statSync(buildId, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const sources = Math.max(
  ...['app', 'server', 'db', 'instrumentation.ts', 'next.config.mjs', 'package.json'].map((p) => newestMtime(path.join(root, p))),
);
if (built < sources) {
  console.log(built ? 'Sources changed since the last build: rebuilding…' : 'Building the app (first start)…');
  const r = spawnSync(process.execPath, [nextBin, 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

fs.mkdirSync(path.join(root, '.data'), { recursive: true });
const child = spawn(process.execPath, [nextBin, 'start', '-p', String(env.PORT)], { cwd: root, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
