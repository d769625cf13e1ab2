import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Env } from '../env';

/**
 * The rate limit per API key: `points` requests (a tRPC batch counts one per call) per
 * window of `windowS` seconds, fixed windows (rate-limiter-flexible). With `redisUrl` the
 * count is shared by every instance; when Redis does not answer, each instance counts in
 * memory on its own (the insurance limiter) instead of failing requests, and goes back to
 * Redis by itself once it answers.
 */
export interface RateLimitOptions {
  points: number;
  windowS: number;
  redisUrl?: string;
  /** How long a Redis command may take before the in-memory limiter counts instead (250 ms). */
  redisCommandTimeoutMs?: number;
}

/** A request over the limit: answered 429 with `retry-after`. */
const RATE_LIMITED = Symbol.for('ledger.rate-limited');
export class RateLimitedError extends Error {
  readonly [RATE_LIMITED] = true;
  override name = 'RateLimitedError';
  constructor(readonly retryAfterS: number) {
    super(`rate limit exceeded for this API key; retry in ${retryAfterS} s`);
  }
}
export const isRateLimited = (e: unknown): e is RateLimitedError =>
  typeof e === 'object' && e !== null && (e as { [RATE_LIMITED]?: boolean })[RATE_LIMITED] === true;

export interface ApiRateLimiter {
  readonly backend: 'memory' | 'redis';
  /** The Redis connection's state (ioredis: `ready` when counting there), if there is one. */
  redisStatus?(): string;
  /** Counts `points` for the key; throws RateLimitedError when over the limit. */
  consume(keyId: string, points?: number): Promise<void>;
  close(): Promise<void>;
}

export function createApiRateLimiter(opts: RateLimitOptions): ApiRateLimiter {
  const limits = { points: opts.points, duration: opts.windowS, keyPrefix: 'ledger:ratelimit:key' };
  const memory = new RateLimiterMemory(limits);
  let redis: Redis | null = null;
  let limiter: RateLimiterAbstract = memory;
  if (opts.redisUrl) {
    // No offline queue and a short command timeout: a request never waits for Redis.
    redis = new Redis(opts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: opts.redisCommandTimeoutMs ?? 250, connectTimeout: 1_000 });
    let warned = false;
    redis.on('error', (e: Error) => {
      if (!warned) console.warn(`[rate-limit] Redis unavailable, counting in memory per instance: ${e.message}`);
      warned = true;
    });
    redis.on('ready', () => {
      if (warned) console.info('[rate-limit] Redis is back: counting in Redis');
      warned = false;
    });
    limiter = new RateLimiterRedis({ ...limits, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory });
  }
  return {
    backend: redis ? 'redis' : 'memory',
    redisStatus: redis ? () => redis.status : undefined,
    async consume(keyId, points = 1) {
      try {
        await limiter.consume(keyId, Math.max(1, Math.ceil(points)));
      } catch (e) {
        if (e instanceof RateLimiterRes) throw new RateLimitedError(Math.max(1, Math.ceil(e.msBeforeNext / 1000)));
        // Neither Redis nor the insurance limiter could count: let the request through.
        console.warn('[rate-limit] could not count a request', e);
      }
    },
    async close() {
      redis?.disconnect();
    },
  };
}

/** No limit (LEDGER_RATE_LIMIT_PER_KEY=0). */
const unlimited: ApiRateLimiter = { backend: 'memory', consume: async () => {}, close: async () => {} };

// One limiter per environment (one per runtime), kept across Next.js bundles on globalThis.
const KEY = Symbol.for('ledger.rate-limiters');
const g = globalThis as { [KEY]?: WeakMap<Env, ApiRateLimiter> };

export function rateLimiterFor(env: Env): ApiRateLimiter {
  const all = (g[KEY] ??= new WeakMap());
  let l = all.get(env);
  if (!l) {
    l =
      env.LEDGER_RATE_LIMIT_PER_KEY === 0
        ? unlimited
        : createApiRateLimiter({ points: env.LEDGER_RATE_LIMIT_PER_KEY, windowS: env.LEDGER_RATE_LIMIT_WINDOW_S, redisUrl: env.REDIS_URL });
    all.set(env, l);
  }
  return l;
}

/** Closes the limiter of an environment (its Redis connection); for tests and shutdown. */
export async function closeRateLimiter(env: Env): Promise<void> {
  const l = g[KEY]?.get(env);
  g[KEY]?.delete(env);
  await l?.close();
}
