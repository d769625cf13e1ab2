import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isAlive } from '../db/client';

/**
 * The admin channel: how `npm run apikey` manages keys while the app runs on the embedded
 * database. PGlite allows one process per data directory and the running app holds it,
 * so the CLI cannot open it; instead it asks the app.
 *
 * At start the app writes `<data dir>.admin.json` beside the database (mode 0600, so only
 * the user running the app can read it): its pid, its local URL and a random token. The
 * admin routes (`/api/admin/…`) answer only a request that carries that token and was
 * addressed to a loopback host; the file is removed when the app exits. With no app
 * running, the CLI opens the database itself. On PostgreSQL (`DATABASE_URL`) any number
 * of processes share the database and the CLI simply connects: no channel is opened.
 *
 * Why not serve PGlite over the wire protocol (pglite-socket) instead: it would expose the
 * whole database, unauthenticated, to every local process, and its clients would share
 * the app's single PGlite session (their transactions interleaving with the app's). A
 * channel that can do exactly three things (create, list, revoke keys) is smaller.
 */
export interface AdminEndpoint {
  pid: number;
  /** The app's own address, on the loopback interface. */
  url: string;
  token: string;
}

export const ADMIN_TOKEN_HEADER = 'x-ledger-admin-token';

/** The channel's file for a PGlite data directory; null for a memory database. */
export function adminFileFor(dataDir: string): string | null {
  if (dataDir.startsWith('memory://')) return null;
  return `${path.resolve(dataDir)}.admin.json`;
}

const KEY = Symbol.for('ledger.admin-token');
type Holder = { [KEY]?: string };

/**
 * Opens the channel in the app's process: a new token, kept in memory for the routes
 * (on globalThis: Next.js bundles instrumentation and route handlers separately) and
 * written for the CLI. Returns the file written, or null when there is none (memory).
 */
export function openAdminChannel(dataDir: string, port: number): string | null {
  const file = adminFileFor(dataDir);
  if (!file) return null;
  const token = randomBytes(32).toString('base64url');
  const endpoint: AdminEndpoint = { pid: process.pid, url: `http://127.0.0.1:${port}`, token };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writePrivateFile(file, JSON.stringify(endpoint) + '\n');
  (globalThis as Holder)[KEY] = token;
  process.once('exit', () => {
    try {
      const current = JSON.parse(fs.readFileSync(file, 'utf8')) as AdminEndpoint;
      if (current.pid === process.pid) fs.unlinkSync(file);
    } catch {
      /* already gone */
    }
  });
  return file;
}

/**
 * Writes a file only its owner can read (0600), atomically: a new file renamed over the
 * old one, so a reader never sees half of it and an older file's wider mode never
 * carries over.
 */
export function writePrivateFile(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600); // in case the file existed (a crash between write and rename)
  fs.renameSync(tmp, file);
}

/**
 * Whether a request may use the admin routes: null when it may, else why not.
 * 404 when this process has no channel (PostgreSQL, a memory database): the routes do not
 * exist then. 403 for a request addressed to a host other than a loopback one (the CLI
 * always calls 127.0.0.1; a public hostname means the request came through a proxy or
 * from outside). 401 without the right token.
 */
export function refuseAdminRequest(req: Request): { status: 401 | 403 | 404; code: string; message: string } | null {
  const token = (globalThis as Holder)[KEY];
  if (!token) return { status: 404, code: 'not_found', message: `no API route at ${new URL(req.url).pathname}` };
  const host = (req.headers.get('host') ?? '').replace(/:\d+$/, '').toLowerCase();
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) {
    return { status: 403, code: 'forbidden', message: 'the admin routes answer only on a loopback address' };
  }
  const given = Buffer.from(req.headers.get(ADMIN_TOKEN_HEADER) ?? '');
  const want = Buffer.from(token);
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    return { status: 401, code: 'unauthorized', message: `the admin routes need the token of ${ADMIN_TOKEN_HEADER}, which only npm run apikey reads` };
  }
  return null;
}

/**
 * For the CLI: the running app's endpoint for this data directory, or null when no app
 * runs on it (no file, or the process that wrote it is gone).
 */
export function readAdminEndpoint(dataDir: string): AdminEndpoint | null {
  const file = adminFileFor(dataDir);
  if (!file) return null;
  let endpoint: AdminEndpoint;
  try {
    endpoint = JSON.parse(fs.readFileSync(file, 'utf8')) as AdminEndpoint;
  } catch {
    return null;
  }
  return isAlive(endpoint.pid) ? endpoint : null;
}
