import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { expect, test } from '@playwright/test';
import { parseExportLine, readmeExamples, SHOWN_TAG, shownValue, withShownOutputs, type Example } from './readme-examples';
import { freePort } from '../support/net';

/**
 * Every example in the README runs as written against a fresh `npm start` (see
 * readme-examples.ts for what is run and how outputs shown in a block are checked).
 *
 * The app is started here, not by playwright.config's web server, because that is what a
 * newcomer does: `npm start` (scripts/start.ts) on a new embedded database, with the demo,
 * no preset key; the examples then get exactly the variables the start output tells the
 * reader to export (its `export LEDGER_URL=… LEDGER_API_KEY=… LEDGER_CUSTOMER_ID=…` line).
 * Only the port and the data directory differ from the defaults, so that this app does
 * not meet a developer's own; the blocks run with the same PORT and PGLITE_DATA_DIR (the
 * app's configuration, which `npm run apikey` reads to find the app).
 *
 * README_PATH points the test at another file (to try a change to the README first).
 */
const root = path.resolve(import.meta.dirname, '..', '..');
const readmePath = path.resolve(root, process.env.README_PATH ?? 'README.md');

// Not a timing assertion: a bound on a hang (a start and a dozen child processes on a busy 2-core machine).
test.describe.configure({ mode: 'serial', timeout: 1_200_000 });


/** The environment without any LEDGER_* or database setting of the developer's own. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('LEDGER_') || k === 'DATABASE_URL' || k === 'PGLITE_DATA_DIR' || k === 'PORT') delete env[k];
  return env;
}

interface App {
  proc: ChildProcess;
  output: string[];
  exported: Record<string, string>;
  appEnv: Record<string, string>;
}

async function startApp(): Promise<App> {
  const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-readme-')), 'pglite');
  const appEnv = { PORT: String(await freePort()), PGLITE_DATA_DIR: dataDir };
  const proc = spawn('npm', ['start'], { cwd: root, env: { ...cleanEnv(), ...appEnv }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const output: string[] = [];
  readline.createInterface({ input: proc.stderr! }).on('line', (l) => output.push(l));
  const exported = await new Promise<Record<string, string>>((resolve, reject) => {
    readline.createInterface({ input: proc.stdout! }).on('line', (l) => {
      output.push(l);
      if (/^\s*export LEDGER_/.test(l)) resolve(parseExportLine(l));
    });
    proc.on('exit', (code) => reject(new Error(`npm start exited (${code}) before printing the export line:\n${output.join('\n')}`)));
  });
  return { proc, output, exported, appEnv };
}

async function stopApp(app: App): Promise<void> {
  if (app.proc.exitCode !== null) return;
  const gone = new Promise((r) => app.proc.on('exit', r));
  process.kill(-app.proc.pid!, 'SIGTERM');
  const timer = setTimeout(() => process.kill(-app.proc.pid!, 'SIGKILL'), 20_000);
  await gone;
  clearTimeout(timer);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a block; one that has not finished after 5 minutes (a hang, whatever the machine) is killed. */
function run(cmd: string, args: string[], input: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    const hang = setTimeout(() => {
      stderr += '\n[killed: still running after 5 minutes]';
      process.kill(-p.pid!, 'SIGKILL');
    }, 300_000);
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(hang);
      resolve({ code, stdout, stderr });
    });
    p.stdin.end(input);
  });
}

function runExample(ex: Example, env: NodeJS.ProcessEnv): Promise<Run> {
  // ts: run from the root as an ES module, as `npx tsx try.ts` runs a file saved there.
  return ex.language === 'ts'
    ? run('npx', ['tsx', '--input-type=module', '-e', withShownOutputs(ex)], '', env)
    : run('bash', ['-eo', 'pipefail'], ex.code, env);
}

const readme = fs.readFileSync(readmePath, 'utf8');
const { examples, skipped } = readmeExamples(readme);

test('the README has examples to run, and says why it skips the others', () => {
  expect(examples.length).toBeGreaterThan(0);
  for (const s of skipped) expect(s.reason.length).toBeGreaterThan(0);
});

test('every README example runs as written against a fresh npm start, showing what it says it shows', async () => {
  const app = await startApp();
  try {
    // What `npm start` tells the reader to export: where the app is, its demo key and customer.
    expect(Object.keys(app.exported).sort()).toEqual(['LEDGER_API_KEY', 'LEDGER_CUSTOMER_ID', 'LEDGER_URL']);
    expect(app.exported.LEDGER_API_KEY).toMatch(/^ldg_test_/);
    expect(app.exported.LEDGER_CUSTOMER_ID).toMatch(/^cst_/);
    const readyAt = app.output.findIndex((l) => /^✓ Ready in /.test(l));
    expect(readyAt, app.output.join('\n')).toBeGreaterThan(-1);
    // Ours is the only Ready line, and nothing of the app's start follows it.
    expect(app.output.filter((l) => /Ready/.test(l))).toHaveLength(1);
    expect(app.output.slice(readyAt + 1).filter((l) => l.startsWith('[ledger]'))).toEqual([]);

    const env = { ...cleanEnv(), ...app.appEnv, ...app.exported };
    for (const ex of examples) {
      const where = `README.md:${ex.line} (${ex.heading}, ${ex.language})`;
      await test.step(where, async () => {
        const r = await runExample(ex, env);
        const report = `${where} failed (exit ${r.code}):\n${ex.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
        expect(r.code, report).toBe(0);
        const printed = r.stdout.split('\n');
        ex.shown.forEach((s, i) => {
          let actual: unknown;
          if (ex.language === 'ts') {
            const line = printed.find((l) => l.startsWith(SHOWN_TAG) && (JSON.parse(l.slice(SHOWN_TAG.length)) as { i: number }).i === i);
            expect(line, `${where}: the program did not print ${s.name}\n${report}`).toBeDefined();
            actual = (JSON.parse(line!.slice(SHOWN_TAG.length)) as { value: unknown }).value;
          } else {
            const json = printed.filter((l) => /^\s*[[{]/.test(l)).at(-1);
            expect(json, `${where}: the block printed no JSON\n${report}`).toBeDefined();
            actual = JSON.parse(json!);
          }
          const want = shownValue(s);
          if (want !== null && typeof want === 'object') expect(actual, `README.md:${s.line} shows ${s.literal}`).toMatchObject(want as Record<string, unknown>);
          else expect(actual, `README.md:${s.line} shows ${s.literal}`).toEqual(want);
        });
      });
    }
  } finally {
    await stopApp(app);
    fs.rmSync(path.dirname(app.appEnv.PGLITE_DATA_DIR!), { recursive: true, force: true });
  }
});
