/**
 * `npm start`: checks the environment, builds the app when the build is missing or older
 * than the sources, runs `next start` on $PORT (default 3000), and says Ready only once
 * the app answers /api/health and has finished starting (database migrated, demo data
 * seeded). On the embedded default it then prints what the README's examples need:
 *
 *   ✓ Ready in 45 s: http://localhost:3000 (pricing table: http://localhost:3000/plans)
 *   Demo API key: ldg_test_…
 *   Demo customer id: cst_…
 *   Demo portal sign-in (the demo customer's owner): http://localhost:3000/portal/sign-in/demo
 *   To run the README's examples from another shell:
 *     export LEDGER_URL=http://localhost:3000 LEDGER_API_KEY=ldg_test_… LEDGER_CUSTOMER_ID=cst_…
 *
 * Progress is shown all along: each phase as it starts, Next.js's own build steps, and a
 * line every 10 s while a step is silent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { EnvError, parseEnv, type Env } from '../server/env';

const root = path.resolve(import.meta.dirname, '..');
process.env.NEXT_TELEMETRY_DISABLED ??= '1'; // no phoning home (and no network here)
const nextBin = path.join(root, 'node_modules', 'next', 'dist', 'bin', 'next');
const started = Date.now();
const seconds = (from = started) => `${Math.round((Date.now() - from) / 1000)} s`;

function envOrExit(): Env {
  try {
    return parseEnv();
  } catch (e) {
    console.error(e instanceof EnvError ? e.message : e);
    process.exit(1);
  }
}
const env = envOrExit();

function newestMtime(p: string): number {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...fs.readdirSync(p).map((n) => newestMtime(path.join(p, n))));
}

let child: ChildProcess | null = null;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (child && child.exitCode === null) child.kill(sig);
    else process.exit(130);
  });
}

/**
 * Runs `next <args>` with its output passed through line by line (`keep` may drop or
 * watch a line), and a progress line whenever it has been silent for 10 s.
 */
function runNext(args: string[], what: string, keep: (line: string) => boolean = () => true): ChildProcess & { quiet(): void } {
  const proc = spawn(process.execPath, [nextBin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  let last = Date.now();
  const phase = Date.now();
  const pass = (out: NodeJS.WriteStream) => (line: string) => {
    last = Date.now();
    if (keep(line)) out.write(`${line}\n`);
  };
  readline.createInterface({ input: proc.stdout! }).on('line', pass(process.stdout));
  readline.createInterface({ input: proc.stderr! }).on('line', pass(process.stderr));
  const ticker = setInterval(() => {
    if (Date.now() - last >= 10_000) {
      console.log(`  … ${what} (${seconds(phase)})`);
      last = Date.now();
    }
  }, 1_000);
  proc.on('exit', () => clearInterval(ticker));
  return Object.assign(proc, { quiet: () => clearInterval(ticker) });
}

const exited = (proc: ChildProcess) =>
  new Promise<number>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));

async function build(): Promise<void> {
  const buildId = path.join(root, '.next', 'BUILD_ID');
  const built = fs.statSync(buildId, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sources = Math.max(
    ...['app', 'server', 'db', 'instrumentation.ts', 'next.config.mjs', 'package.json'].map((p) => newestMtime(path.join(root, p))),
  );
  if (built >= sources) return;
  console.log(built ? '[1/2] Sources changed since the last build: rebuilding the app…' : '[1/2] Building the app (first start: about a minute on 2 cores)…');
  const t = Date.now();
  const code = await exited(runNext(['build'], 'still building'));
  if (code !== 0) {
    console.error(`The build failed (exit code ${code}).`);
    process.exit(code);
  }
  console.log(`Built in ${seconds(t)}.`);
}

/** Resolves once /api/health answers 200 (the app has finished booting by then). */
async function healthy(proc: ChildProcess): Promise<void> {
  for (;;) {
    if (proc.exitCode !== null) return;
    try {
      const res = await fetch(`http://127.0.0.1:${env.PORT}/api/health`, { signal: AbortSignal.timeout(5_000) });
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function serve(): Promise<never> {
  console.log('[2/2] Starting the server: database, migrations, demo data…');
  fs.mkdirSync(path.join(root, '.data'), { recursive: true });
  let apiKey: string | null = null;
  let customerId: string | null = null;
  let booted!: () => void;
  const bootedP = new Promise<void>((r) => (booted = r));
  const proc = runNext(['start', '-p', String(env.PORT)], 'still starting', (line) => {
    const plain = line.replace(/\x1b\[[0-9;]*m/g, ''); // FORCE_COLOR may colour Next.js's lines
    // Next.js says "✓ Ready" as soon as it listens, before the app has booted: ours comes below.
    if (/^\s*✓ Ready in /.test(plain)) return false;
    // The demo lines are printed again with the Ready line, where the newcomer looks.
    const key = /^Demo API key: (\S+)/.exec(line)?.[1];
    const customer = /^Demo customer id: (.+)$/.exec(line)?.[1];
    if (key) apiKey = key;
    if (customer) customerId = customer.startsWith('cst_') ? customer : null;
    if (key || customer) return false;
    if (line === '[ledger] started') {
      booted();
      return false;
    }
    return true;
  });
  const exit = exited(proc);
  // The boot runs when the server prepares, which the first request triggers: ask for health at once.
  const up = Promise.all([bootedP, healthy(proc)]).then(() => 'up' as const);
  if ((await Promise.race([up, exit])) === 'up' && proc.exitCode === null) {
    proc.quiet(); // a server that waits for requests is silent, not stuck
    const url = `http://localhost:${env.PORT}`;
    console.log(`✓ Ready in ${seconds()}: ${url} (pricing table: ${url}/plans)`);
    if (apiKey) {
      console.log(`Demo API key: ${apiKey}`);
      console.log(`Demo customer id: ${customerId ?? '(none: the demo customer was deleted)'}`);
      // The portal's demo sign-in (embedded default only): the demo customer's owner.
      if (customerId && !env.DATABASE_URL) console.log(`Demo portal sign-in (the demo customer's owner): ${(env.LEDGER_PUBLIC_URL ?? url).replace(/\/$/, '')}/portal/sign-in/demo`);
      console.log("To run the README's examples from another shell:");
      console.log(`  export LEDGER_URL=${url} LEDGER_API_KEY=${apiKey}${customerId ? ` LEDGER_CUSTOMER_ID=${customerId}` : ''}`);
    }
  }
  process.exit(await exit);
}

await build();
await serve();
