import { Redis } from 'ioredis';
import type { CustomerId, Logger, Scope } from '../types';
import { joinDecimal, splitDecimal } from './counter-format';
import { SCRIPTS } from './counter-scripts';

/**
 * Redis for entitlements across instances (optional): shared usage counters and
 * invalidation by pub/sub.
 *
 * Usage counters. A counter holds the committed usage of one customer, feature and
 * period, key `ledger:usage:{tenant}:{app}:{customer}:{feature}:{aggregation}:{periodStartMs}`, a hash:
 * - `i`, `f`: the value as an integer part and a fraction in units of 10⁻¹² (quantities
 *   have at most 12 decimals), so it is added exactly with HINCRBY, never as a float
 *   (INCRBYFLOAT would round);
 * - `g`: a version, bumped by every change;
 * - `n`: writes in flight: batches that will change this counter once committed;
 * - `w:<token>`: one per write in flight, naming whose mark it is.
 * A writer marks its counters before the database write (`beginWrites`: its token's
 * field and n + 1), and after the commit applies its usage and clears its own mark in one
 * script (`applyToCounter`), or only clears it when the write failed (`abortWrites`).
 * Marks are per writer so that one whose mark vanished (the key expired mid-write) can
 * tell, and never clears another writer's mark in its place. A reader that finds no value
 * computes it from the store and sets it (`initCounter`) only if no write was in flight
 * and the version did not move meanwhile. Without the mark, a reader could read the
 * store after a commit but set the counter before the writer's increment, and count
 * that batch twice. Counters expire (default 1 h, not extended by increments), so any
 * drift (a writer that died between commit and apply) heals.
 * A committer changes only a counter that has a value (so it is always base +
 * increments): sum and count add, max keeps the greater; latest and unique_count cannot
 * be combined from increments, so a commit clears the value and the next reader
 * recomputes it from the store.
 *
 * Invalidation. `publishInvalidation` sends `{tenantId, appId, customerId, origin}` on
 * `ledger:invalidate`; every instance subscribes on a second connection and drops its
 * entry (messages of its own origin are skipped).
 *
 * Outages. Commands are never queued while disconnected: a call made while Redis is not
 * ready answers `undefined` at once and the caller uses the store. The first failure of
 * an outage logs one warning; when the connection is ready again, an info line, the
 * counters this instance could not update are cleared (so nobody reads a stale base),
 * and `onResync` lets the owner drop entries that may have missed invalidations.
 */
export interface RedisEntitlementOptions {
  /** A client to use (not closed by `close()`); give it `enableOfflineQueue: false`. */
  client?: Redis;
  /** Or a URL: a client is made with the settings below and closed by `close()`. */
  url?: string;
  /** How often a cached usage figure is re-read from its counter, in ms (default 1,000). */
  refreshMs?: number;
  /** Expiry of a counter from its creation, in ms (default 1 hour). */
  counterTtlMs?: number;
  /** The invalidation channel (default `ledger:invalidate`). */
  channel?: string;
  /** Connect timeout of clients made from a URL, in ms (default 1,000). */
  connectTimeoutMs?: number;
  /** Longest wait for one command before treating Redis as unavailable, in ms (default 500). */
  commandTimeoutMs?: number;
  /** Told of every failed command (`unavailable`: Redis down or too slow; `command`: a reply error), for metrics. Must not throw. */
  onError?: (kind: 'unavailable' | 'command') => void;
}

export const REDIS_DEFAULTS = {
  refreshMs: 1_000,
  counterTtlMs: 3_600_000,
  channel: 'ledger:invalidate',
  connectTimeoutMs: 1_000,
  commandTimeoutMs: 500,
} as const;

export type CounterOp =
  /** Adds a decimal (sum, count). */
  | { op: 'add'; value: string }
  /** Keeps the greater decimal (max). */
  | { op: 'max'; value: string }
  /** Clears the value: the next reader recomputes it from the store (latest, unique_count). */
  | { op: 'reset' };

export interface CounterRead {
  /** The committed usage, or null when the counter has no value. */
  value: string | null;
  /** The version read with it, for `initCounter`. */
  version: string;
}

export interface InvalidationMessage {
  tenantId: string;
  appId: string;
  customerId: string;
  origin?: string;
}

/** How often a Redis marked down is probed when its connection stays open, in ms. */
const PROBE_MS = 1_000;

/** Most counters remembered as not updated during an outage (cleared on recovery). */
const MAX_UNSYNCED = 10_000;

type Health = 'starting' | 'up' | 'down';

export interface RedisHandlers {
  /** Another instance invalidated a customer. */
  onInvalidate(message: InvalidationMessage): void;
  /** The subscription (re)started: entries may have missed invalidations meanwhile. */
  onResync(): void;
}

export class RedisEntitlements {
  readonly refreshMs: number;
  readonly counterTtlMs: number;
  readonly channel: string;
  /** Tells this instance's own invalidation messages from others'. */
  readonly origin = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  readonly #client: Redis;
  readonly #subscriber: Redis;
  readonly #ownsClient: boolean;
  readonly #commandTimeoutMs: number;
  readonly #onError: RedisEntitlementOptions['onError'];
  readonly #logger: Logger;
  readonly #handlers: RedisHandlers;
  #health: Health = 'starting';
  #subscribed = false;
  #subscribedWaiters: (() => void)[] = [];
  readonly #unsynced = new Set<string>();
  #closed = false;
  /** Numbers this instance's writers: with `origin`, their marks' tokens. */
  #writes = 0;
  #probe: ReturnType<typeof setInterval> | null = null;

  constructor(options: RedisEntitlementOptions, logger: Logger, handlers: RedisHandlers) {
    if (!options.client && !options.url) throw new Error('Redis entitlements need a client or a url');
    this.refreshMs = options.refreshMs ?? REDIS_DEFAULTS.refreshMs;
    this.counterTtlMs = options.counterTtlMs ?? REDIS_DEFAULTS.counterTtlMs;
    this.channel = options.channel ?? REDIS_DEFAULTS.channel;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? REDIS_DEFAULTS.commandTimeoutMs;
    this.#onError = options.onError;
    this.#logger = logger;
    this.#handlers = handlers;
    this.#ownsClient = !options.client;
    this.#client =
      options.client ??
      new Redis(options.url!, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: options.connectTimeoutMs ?? REDIS_DEFAULTS.connectTimeoutMs,
        commandTimeout: this.#commandTimeoutMs,
      });
    // Subscribing happens on every `ready` (autoResubscribe off: one place does it).
    this.#subscriber = this.#client.duplicate({ enableOfflineQueue: false, autoResubscribe: false, maxRetriesPerRequest: 1 });

    this.#client.on('error', (err: Error) => this.#down(err));
    this.#client.on('ready', () => this.#up());
    if (this.#client.status === 'ready') this.#health = 'up';
    // The command connection tells outages; the subscriber's errors say the same thing twice.
    this.#subscriber.on('error', () => {});
    this.#subscriber.on('close', () => (this.#subscribed = false));
    this.#subscriber.on('ready', () => void this.#subscribe());
    this.#subscriber.on('message', (channel: string, raw: string) => {
      if (channel === this.channel) this.#onMessage(raw);
    });
  }

  /** Whether commands go to Redis right now. */
  get healthy(): boolean {
    return this.#health === 'up' && !this.#closed;
  }

  /** Resolves true once subscribed to invalidations, false after `timeoutMs`. */
  whenReady(timeoutMs = 5_000): Promise<boolean> {
    if (this.#subscribed && this.healthy) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#subscribedWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** The counter's value and version; undefined when Redis is unavailable. */
  async readCounter(key: string): Promise<CounterRead | undefined> {
    const r = await this.#call(() => this.#client.hmget(key, 'i', 'f', 'g'));
    if (!r) return undefined;
    const [i, f, g] = r;
    return { value: i === null || i === undefined ? null : joinDecimal(i, f ?? '0'), version: g ?? '0' };
  }

  /** Sets an absent counter computed from the store, unless it changed since `read`. */
  async initCounter(key: string, read: CounterRead, value: string): Promise<boolean> {
    const [i, f] = splitDecimal(value);
    const r = await this.#call(() => this.#script('init', key, read.version, i, f, String(this.counterTtlMs)));
    return r === 1;
  }

  /**
   * Marks a write in flight on each counter, before the database write. Returns the
   * writer's token, which names its marks for `applyToCounter` and `abortWrites`; null
   * when the marks were not set (Redis unavailable): the counters are then remembered as
   * unsynced and cleared once Redis is back.
   */
  async beginWrites(keys: readonly string[]): Promise<string | null> {
    const token = `${this.origin}:${++this.#writes}`;
    if (keys.length === 0) return token;
    const r = await this.#call(() => this.#scriptKeys('begin', keys, String(this.counterTtlMs), token));
    if (r === undefined) {
      for (const k of keys) this.#remember(k);
      return null;
    }
    return token;
  }

  /** Clears the in-flight marks of a write that failed. */
  async abortWrites(keys: readonly string[], token: string): Promise<void> {
    if (keys.length === 0) return;
    const r = await this.#call(() => this.#scriptKeys('abort', keys, token));
    if (r === undefined) for (const k of keys) this.#remember(k);
  }

  /**
   * Applies committed usage to a counter (only one that has a value; see above) and, given
   * the writer's token, clears the in-flight mark it set with `beginWrites`.
   */
  async applyToCounter(key: string, change: CounterOp, token: string | null = null): Promise<void> {
    const [i, f] = change.op === 'reset' ? ['0', '0'] : splitDecimal(change.value);
    if (!this.healthy) return this.#remember(key);
    const r = await this.#call(() =>
      this.#script('apply', key, change.op, i, f, String(this.counterTtlMs), token ?? ''),
    );
    if (r === undefined) this.#remember(key);
  }

  /**
   * True for the first instance to claim a soft-limit notification (SET NX), true as
   * well when Redis is unavailable (better twice than never).
   */
  async claimOnce(key: string, ttlMs: number): Promise<boolean> {
    const r = await this.#call(() => this.#client.set(key, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'));
    return r === undefined ? true : r === 'OK';
  }

  async publishInvalidation(scope: Scope, customerId: CustomerId | string): Promise<void> {
    const msg: InvalidationMessage = { tenantId: scope.tenantId, appId: scope.appId, customerId, origin: this.origin };
    await this.#call(() => this.#client.publish(this.channel, JSON.stringify(msg)));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#probe) clearInterval(this.#probe);
    const quit = (c: Redis) => (c.status === 'ready' ? c.quit().then(() => undefined, () => c.disconnect()) : c.disconnect());
    await quit(this.#subscriber);
    if (this.#ownsClient) await quit(this.#client);
  }

  /**
   * Runs a script of another part (entitlements.consume's, consume-scripts.ts) on the
   * command connection; undefined when Redis is unavailable (the outage is noted).
   */
  runScript(script: { lua: string; sha: string }, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.#call(() => this.#evalScript(script, keys, ...args));
  }

  /** Runs commands on the client if Redis is up; undefined when it is unavailable. */
  command<T>(fn: (client: Redis) => Promise<T>): Promise<T | undefined> {
    return this.#call(() => fn(this.#client));
  }

  /** A counter changed elsewhere while Redis could not be told: cleared once it is back. */
  unsynced(key: string): void {
    this.#remember(key);
  }

  #script(name: keyof typeof SCRIPTS, key: string, ...args: string[]): Promise<unknown> {
    return this.#scriptKeys(name, [key], ...args);
  }

  #scriptKeys(name: keyof typeof SCRIPTS, keys: readonly string[], ...args: string[]): Promise<unknown> {
    return this.#evalScript(SCRIPTS[name], keys, ...args);
  }

  async #evalScript(s: { lua: string; sha: string }, keys: readonly string[], ...args: string[]): Promise<unknown> {
    try {
      return await this.#client.evalsha(s.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.includes('NOSCRIPT')) throw err;
      return this.#client.eval(s.lua, keys.length, ...keys, ...args);
    }
  }

  /** Runs a command if Redis is up; undefined (and the outage noted) when it fails. */
  async #call<T>(fn: () => Promise<T>): Promise<T | undefined> {
    if (!this.healthy) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      // A given client may queue commands while disconnected: never wait longer than this.
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis command timed out after ${this.#commandTimeoutMs} ms`)), this.#commandTimeoutMs);
      });
      return await Promise.race([fn(), timeout]);
    } catch (err) {
      this.#onError?.(isReplyError(err) ? 'command' : 'unavailable');
      if (isReplyError(err)) {
        this.#logger.error('Redis command failed', { error: (err as Error).message });
        return undefined;
      }
      this.#down(err);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  #remember(key: string): void {
    if (this.#unsynced.size < MAX_UNSYNCED) this.#unsynced.add(key);
  }

  #down(err: unknown): void {
    if (this.#closed || this.#health === 'down') return;
    this.#health = 'down';
    this.#logger.warn('Redis is unavailable: entitlement checks answer from the store until it is back', {
      error: err instanceof Error ? err.message : String(err),
    });
    // A command can fail (time out) on a connection that stays open, and then no 'ready'
    // event will tell the recovery: probe it.
    this.#probe ??= setInterval(() => {
      if (this.#client.status !== 'ready') return;
      this.#client.ping().then(
        () => this.#up(),
        () => {},
      );
    }, PROBE_MS);
    this.#probe.unref?.();
  }

  #up(): void {
    if (this.#closed) return;
    if (this.#probe) clearInterval(this.#probe);
    this.#probe = null;
    const wasDown = this.#health === 'down';
    this.#health = 'up';
    if (wasDown) this.#logger.info('Redis is available again: entitlement counters and invalidations resume');
    // Counters this instance could not update (or whose in-flight marks it could not
    // clear) may be wrong: delete them; readers recompute them from the store.
    const keys = [...this.#unsynced];
    this.#unsynced.clear();
    if (keys.length > 0) void this.#call(() => this.#client.del(...keys));
  }

  async #subscribe(): Promise<void> {
    try {
      await this.#subscriber.subscribe(this.channel);
    } catch {
      return; // the connection dropped again; the next 'ready' subscribes
    }
    this.#subscribed = true;
    this.#handlers.onResync();
    const waiters = this.#subscribedWaiters;
    this.#subscribedWaiters = [];
    for (const w of waiters) w();
  }

  #onMessage(raw: string): void {
    let m: Partial<InvalidationMessage>;
    try {
      m = JSON.parse(raw) as Partial<InvalidationMessage>;
    } catch {
      return;
    }
    if (m.origin === this.origin) return;
    if (typeof m.tenantId !== 'string' || typeof m.appId !== 'string' || typeof m.customerId !== 'string') return;
    this.#handlers.onInvalidate(m as InvalidationMessage);
  }
}

/** A reply error (a script bug, a wrong type) is not an outage. */
function isReplyError(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError';
}
