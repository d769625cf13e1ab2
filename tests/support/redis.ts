import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './net';

/**
 * Redis for tests: the server at TEST_REDIS_URL (CI sets it; then it must answer), else
 * the local default 127.0.0.1:6379 when it answers. Suites that need Redis skip when
 * neither is there, and say so.
 */
export async function testRedisUrl(): Promise<string | null> {
  const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const ok = await ping(url);
  if (!ok && process.env.TEST_REDIS_URL) throw new Error(`TEST_REDIS_URL=${url} does not answer`);
  if (!ok) console.warn(`[tests] no Redis at ${url}: the Redis suites are skipped (set TEST_REDIS_URL)`);
  return ok ? url : null;
}

async function ping(url: string): Promise<boolean> {
  const c = new Redis(url, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => {});
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}


/** A redis-server of the test's own, on a free port, that the test can stop and start: outages. */
export async function ownRedisServer(): Promise<{ url: string; start(): Promise<void>; stop(): Promise<void> }> {
  const port = await freePort();
  let proc: ChildProcess | null = null;
  const url = `redis://127.0.0.1:${port}`;
  const server = {
    url,
    async start() {
      proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      for (let i = 0; i < 100 && !(await ping(url)); i++) await new Promise((r) => setTimeout(r, 50));
      if (!(await ping(url))) throw new Error('redis-server did not start');
    },
    async stop() {
      if (!proc) return;
      const p = proc;
      proc = null;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await exited;
    },
  };
  await server.start();
  return server;
}

/**
 * Polls `fn` until `done(value)`, every 20 ms, for at most `ms`; returns the last value.
 * The limit is generous (a busy 2-core machine is slow): it costs nothing when the value
 * comes, and the caller asserts the value, never the time it took.
 */
export async function eventually<T>(fn: () => Promise<T>, done: (v: T) => boolean, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (done(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}
