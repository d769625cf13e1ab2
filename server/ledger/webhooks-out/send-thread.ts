import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { RESPONSE_BODY_LIMIT, type SendResult } from './sender';

/**
 * Sending off the main thread. A delivery's CPU on the main thread was mostly the signing
 * (standardwebhooks' HMAC is pure JavaScript) and the HTTP client; the main thread keeps
 * the database work, the SSRF guard and the bookkeeping, and a worker thread signs, POSTs
 * and reads the first KB of the answer.
 *
 * The thread's code is a string of plain JavaScript run with `eval: true`: no file path, so
 * it runs the same under vitest, tsx and inside the Next.js server bundle. It loads
 * `standardwebhooks` from node_modules itself (resolving it on the main thread does not
 * survive the bundler: Turbopack turns `require.resolve` into a module number). A thread
 * that cannot start (the package not found) sends nothing: its jobs come back unsent and
 * the pool answers every later job unsent too, so the caller sends them itself. Jobs and
 * results cross the boundary in batches (one message per turn of each thread's event loop).
 */

/** One POST for the thread: the target already resolved and checked by the guard on the main thread. */
export interface SendJob {
  url: string;
  /** The checked address the connection goes to (never looked up again). */
  address: string;
  family: 4 | 6;
  /** Signed there: `webhook-id`, the `webhook-timestamp` (ms), and every secret signing now. */
  messageId: string;
  signedAtMs: number;
  secrets: readonly string[];
  body: string;
  timeoutMs: number;
}

/** What the thread answers for a job (latency counted there, from the job's start). */
type ThreadResult = [responseCode: number | null, responseBody: string, latencyMs: number, error: string | null];

/**
 * A pool of sender threads (jobs go round-robin). The threads start on the first job and
 * are let go by `close` (the worker's stop); an idle pool does not keep the process
 * alive, a busy one does (as sockets in flight would). A thread that dies fails its jobs
 * in flight (the attempts are recorded as failed and retried on the schedule) and the
 * pool starts a new one for later jobs.
 */
export class SenderThreads {
  readonly #size: number;
  #threads: SenderThread[] = [];
  #next = 0;
  /** Why a thread could not start: then no job is sent here. */
  startFailure: string | null = null;

  constructor(size: number) {
    this.#size = Math.max(1, size);
  }

  /** The job's result, or null when it was not sent (no thread could start): the caller sends it. */
  send(job: SendJob): Promise<SendResult | null> {
    if (this.startFailure) return Promise.resolve(null);
    if (this.#threads.length < this.#size) {
      const started: SenderThread = new SenderThread(
        () => this.#dropped(started),
        (why) => (this.startFailure ??= why),
      );
      this.#threads.push(started);
    }
    return this.#threads[this.#next++ % this.#threads.length]!.send(job);
  }

  #dropped(thread: SenderThread): void {
    this.#threads = this.#threads.filter((t) => t !== thread);
  }

  /** Terminates the threads (jobs still in flight are answered as failed). */
  async close(): Promise<void> {
    const threads = this.#threads;
    this.#threads = [];
    await Promise.all(threads.map((t) => t.close()));
  }
}

class SenderThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, (r: SendResult | null) => void>();
  /** The thread loaded its code: from then on a failure may come after a job was sent. */
  #ready = false;
  #seq = 0;
  #outbox: unknown[] = [];
  #flushing = false;
  #ended = false;

  constructor(onExit: () => void, onStartFailed: (why: string) => void) {
    this.#worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { resolveFrom: resolveFrom(), bodyLimit: RESPONSE_BODY_LIMIT } });
    this.#worker.unref();
    this.#worker.on('message', (results: [number, ...ThreadResult][] | 'ready') => {
      if (results === 'ready') {
        this.#ready = true;
        return;
      }
      for (const [seq, responseCode, responseBody, latencyMs, error] of results) {
        const resolve = this.#pending.get(seq);
        if (!resolve) continue;
        this.#pending.delete(seq);
        resolve({ responseCode, responseBody, latencyMs, error });
      }
      if (this.#pending.size === 0 && !this.#ended) this.#worker.unref();
    });
    const fail = (why: string) => {
      if (this.#ended) return;
      this.#ended = true;
      // Before it was ready, no job reached the network: they are answered unsent.
      if (!this.#ready) onStartFailed(why);
      onExit();
      for (const resolve of this.#pending.values()) resolve(this.#ready ? { responseCode: null, responseBody: '', latencyMs: 0, error: why } : null);
      this.#pending.clear();
    };
    this.#worker.on('error', (e) => fail(`sender thread failed: ${e.message}`));
    this.#worker.on('exit', () => fail('sender thread stopped'));
  }

  send(job: SendJob): Promise<SendResult | null> {
    if (this.#ended) return Promise.resolve(this.#ready ? { responseCode: null, responseBody: '', latencyMs: 0, error: 'sender thread stopped' } : null);
    const seq = ++this.#seq;
    if (this.#pending.size === 0) this.#worker.ref();
    this.#outbox.push([seq, job.url, job.address, job.family, job.messageId, job.signedAtMs, job.secrets, job.body, job.timeoutMs]);
    if (!this.#flushing) {
      this.#flushing = true;
      setImmediate(() => {
        this.#flushing = false;
        const batch = this.#outbox;
        this.#outbox = [];
        if (!this.#ended) this.#worker.postMessage(batch);
      });
    }
    return new Promise((resolve) => this.#pending.set(seq, resolve));
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}

/**
 * Where the thread resolves `standardwebhooks` from: this file when it is on disk as a
 * module (tsx, vitest), then the working directory (a bundle's chunks may live elsewhere).
 */
function resolveFrom(): string[] {
  const from = [path.join(process.cwd(), 'package.json')];
  const here = typeof import.meta.url === 'string' && import.meta.url.startsWith('file:') ? import.meta.url : null;
  return here ? [here, ...from] : from;
}

/**
 * The thread: signs (standardwebhooks), POSTs to the checked address (pinned lookup, the
 * certificate checked against the name), reads at most 64 KB and keeps the first KB, gives
 * up after the timeout, never follows a redirect, and sends again once at once when a
 * kept-alive connection is found closed on reuse — as sender.ts does on the main thread.
 */
const THREAD_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const https = require('node:https');
const { performance } = require('node:perf_hooks');
const { createRequire } = require('node:module');
function load(name) {
  let first;
  for (const from of workerData.resolveFrom) {
    try {
      return createRequire(from)(name);
    } catch (e) {
      first ??= e;
    }
  }
  throw first;
}
const { Webhook } = load('standardwebhooks');
const BODY_LIMIT = workerData.bodyLimit;
const READ_LIMIT = 64 * 1024;
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxFreeSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxFreeSockets: 64 }),
};
const signers = new Map();
function signer(secret) {
  let w = signers.get(secret);
  if (!w) {
    if (signers.size > 1000) signers.clear();
    signers.set(secret, (w = new Webhook(secret)));
  }
  return w;
}
const routes = new Map();
function routeOf(rawUrl, address, family) {
  const key = rawUrl + ' ' + address;
  let route = routes.get(key);
  if (route) return route;
  const url = new URL(rawUrl);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const pinned = (_h, opts, cb) => (opts && opts.all ? cb(null, [{ address, family }]) : cb(null, address, family));
  route = {
    transport: url.protocol === 'https:' ? https : http,
    request: {
      protocol: url.protocol,
      hostname: host,
      port: url.port || (url.protocol === 'https:' ? 443 : 80),
      path: url.pathname + url.search,
      method: 'POST',
      agent: agents[url.protocol],
      lookup: pinned,
      ...(url.protocol === 'https:' ? { servername: host } : {}),
    },
  };
  if (routes.size >= 1000) routes.clear();
  routes.set(key, route);
  return route;
}
let results = [];
let flushing = false;
function answer(r) {
  results.push(r);
  if (flushing) return;
  flushing = true;
  setImmediate(() => {
    flushing = false;
    const batch = results;
    results = [];
    parentPort.postMessage(batch);
  });
}
function post(route, headers, body, timeoutMs, done) {
  let settled = false;
  const finish = (code, text, error, stale) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    done(code, text, error, stale);
  };
  const req = route.transport.request({ ...route.request, headers }, (res) => {
    const chunks = [];
    let read = 0;
    const end = () => finish(res.statusCode ?? null, Buffer.concat(chunks).subarray(0, BODY_LIMIT).toString('utf8'), null, false);
    res.on('data', (c) => {
      if (read < BODY_LIMIT) chunks.push(c);
      read += c.length;
      if (read > READ_LIMIT) {
        res.destroy();
        end();
      }
    });
    res.on('end', end);
    res.on('error', end);
    res.on('close', end);
  });
  const timer = setTimeout(() => {
    req.destroy(new Error('timeout'));
    finish(null, '', 'timeout after ' + timeoutMs + ' ms', false);
  }, timeoutMs);
  req.on('error', (e) => finish(null, '', e.code ?? e.message, req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')));
  req.end(body);
}
parentPort.postMessage('ready');
parentPort.on('message', (jobs) => {
  for (const [seq, url, address, family, messageId, signedAtMs, secrets, body, timeoutMs] of jobs) {
    const started = performance.now();
    try {
      const at = new Date(signedAtMs);
      const headers = {
        'webhook-id': messageId,
        'webhook-timestamp': String(Math.floor(signedAtMs / 1000)),
        'webhook-signature': secrets.map((s) => signer(s).sign(messageId, at, body)).join(' '),
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'Ledger-Webhooks/1',
      };
      const route = routeOf(url, address, family);
      const reply = (code, text, error) => answer([seq, code, text, Math.round(performance.now() - started), error]);
      post(route, headers, body, timeoutMs, (code, text, error, stale) => {
        if (stale) post(route, headers, body, timeoutMs, reply);
        else reply(code, text, error);
      });
    } catch (e) {
      answer([seq, null, '', Math.round(performance.now() - started), String((e && e.message) || e)]);
    }
  }
});
`;
