import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SendResult } from './sender';

/**
 * Sending off the main thread. A delivery's CPU on the main thread was mostly the signing
 * (standardwebhooks' HMAC is pure JavaScript) and the HTTP client; the main thread keeps
 * the database work, the SSRF guard and the bookkeeping, and a worker thread signs, POSTs
 * and reads the first KB of the answer.
 *
 * The thread's code is a short string of plain JavaScript run with `eval: true`: no file
 * path of its own, so it runs the same under vitest, tsx and inside the Next.js server
 * bundle. It loads http-post.cjs (signing and the POST, the same code the main thread
 * runs when there is no thread) by its path on disk, and that file loads
 * `standardwebhooks` from node_modules (resolving on the main thread does not survive
 * the bundler: Turbopack turns `require.resolve` into a module number). A thread
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
    this.#worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { modules: modulePaths() } });
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
 * Where the thread finds http-post.cjs: beside this file when it is on disk as a module
 * (tsx, vitest), else under the working directory (the app runs from the repository; a
 * bundle's chunks live elsewhere, and Turbopack rewrites require.resolve).
 */
function modulePaths(): [from: string, request: string][] {
  const fromRoot: [string, string] = [path.join(process.cwd(), 'package.json'), './server/ledger/webhooks-out/http-post.cjs'];
  const here = typeof import.meta.url === 'string' && import.meta.url.startsWith('file:') ? import.meta.url : null;
  return here ? [[here, './http-post.cjs'], fromRoot] : [fromRoot];
}

/**
 * The thread: loads http-post.cjs (the one implementation of signing and POSTing, the
 * main thread's too) by its path, then signs and POSTs each job and answers in batches.
 */
const THREAD_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const { createRequire } = require('node:module');
function load() {
  let first;
  for (const [from, request] of workerData.modules) {
    try {
      return createRequire(from)(request);
    } catch (e) {
      first ??= e;
    }
  }
  throw first;
}
const { signedHeaders, postTo } = load();
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
parentPort.postMessage('ready');
parentPort.on('message', (jobs) => {
  for (const [seq, url, address, family, messageId, signedAtMs, secrets, body, timeoutMs] of jobs) {
    const started = performance.now();
    try {
      const headers = signedHeaders(messageId, new Date(signedAtMs), body, secrets);
      postTo(url, address, family, headers, body, timeoutMs, started, (code, text, latencyMs, error) => answer([seq, code, text, latencyMs, error]));
    } catch (e) {
      answer([seq, null, '', Math.round(performance.now() - started), String((e && e.message) || e)]);
    }
  }
});
`;
