import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './net';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own, in a temporary directory on a free port, that
 * the test may stop (`pg_ctl stop -m immediate`: a crash, as far as clients can tell) and
 * start again (crash recovery first). Never the shared server. PostgreSQL refuses to run
 * as root: as root the binaries run as the `postgres` user (runuser), in a directory it
 * owns. Null, with the reason, when the binaries or that user are missing.
 */
export interface PgCluster {
  url: string;
  start(): Promise<void>;
  /** Immediate shutdown: connections are cut, nothing is flushed. */
  crash(): Promise<void>;
  destroy(): Promise<void>;
}

function findBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return null;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')) && fs.existsSync(path.join(root, v, 'bin', 'pg_ctl')))
    .sort((x, y) => Number(y) - Number(x));
  return versions[0] ? path.join(root, versions[0], 'bin') : null;
}

export async function throwawayCluster(): Promise<{ cluster: PgCluster } | { skip: string }> {
  const bin = findBin();
  if (!bin) return { skip: 'no PostgreSQL binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin' };
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    try {
      await run('id', ['postgres']);
    } catch {
      return { skip: 'running as root and there is no postgres user to run PostgreSQL as' };
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-pg-'));
  const data = path.join(dir, 'data');
  if (asRoot) await run('chown', ['-R', 'postgres:', dir]);
  const pg = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]) : run(path.join(bin, tool), args);

  await pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  let running = false;
  const cluster: PgCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      await pg('pg_ctl', ['-D', data, '-o', opts, '-l', path.join(dir, 'log'), '-w', '-t', '120', 'start']);
      running = true;
    },
    async crash() {
      await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      running = false;
    },
    async destroy() {
      if (running) await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      running = false;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return { cluster };
}
