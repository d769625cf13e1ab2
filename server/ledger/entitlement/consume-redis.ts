import type { EngineContext } from '../context';
import type { UsageEvent } from '../meter/types';
import { errorSummary, LedgerError, scope as scopeOf, type CustomerId, type EventId, type Scope } from '../types';
import { allowedAnswer, checkSamePayload, consumedEvent, deniedAnswer, limitOf, type ConsumeResult, type Consuming } from './consume';
import { CONSUME_SCRIPTS } from './consume-scripts';
import type { StoredConsumption } from './consume-store';
import { counterKey, joinDecimal, splitDecimal } from './counter-format';
import type { RedisEntitlements } from './redis';

/**
 * `entitlements.consume` with Redis: one script per consumption (consume-scripts.ts)
 * checks the limit against the shared usage counter, the one every instance's `entitled`
 * reads, adds the quantity to it and appends the event to the scope's pending stream.
 * The drainer below writes pending events to the usage store (with their consumption
 * answers, in one transaction) and then clears their in-flight marks.
 *
 * What is guaranteed, and on what:
 * - No overshoot: the check and the increment are one script, and Redis runs one script
 *   at a time. The counter is the store's usage (computed once per period, when it has no
 *   value, from the store: `warm-up`) plus every increment since.
 * - Nothing allowed is lost, as far as Redis keeps what it acknowledged: an allowed
 *   event is in the stream before the answer leaves Redis, and stays there until it is in
 *   the store. Run Redis with `appendonly yes` (and `appendfsync always` to lose nothing
 *   even when Redis itself crashes; `everysec` may lose the last second).
 * - Once: the stream may be drained twice (two instances, a drainer that died after its
 *   commit); the usage store keeps the first event of a key, and an event it finds
 *   already stored under its own id is not counted again.
 * - Replays: the answer of a key is kept in Redis for `replayTtlMs` (default 24 hours,
 *   as Stripe keeps idempotency keys) and in the store for good; a replay that finds
 *   neither in Redis is answered from the store when the counter is warmed up.
 * - Agreement with the store: a counter never expires while one of its events waits in
 *   the stream (each consumption pushes its expiry out), nobody recomputes it from the
 *   store while one does (its mark), and a mark that vanished makes the drainer clear the
 *   value, so the next reader recomputes it from the store. Period rollover needs
 *   nothing: the counter's key names the period.
 * - Redis flushed or restarted empty: counters are warmed up again from the store; the
 *   events that were only in the stream are lost with it (hence `appendonly`).
 */
export interface ConsumeRedisOptions {
  /** How long a key's answer stays in Redis for replays, in ms (default 24 hours). */
  replayTtlMs?: number;
  /** How often every pending stream is drained (leftovers of other instances), in ms (default 1,000). */
  drainIntervalMs?: number;
  /**
   * How long after a consumption this instance drains its stream, in ms (default 10):
   * the consumptions of that while go to the store in one transaction (group commit).
   */
  drainDelayMs?: number;
}

export const CONSUME_DEFAULTS = { replayTtlMs: 86_400_000, drainIntervalMs: 1_000, drainDelayMs: 10 } as const;

const STREAMS = 'ledger:consume:streams';
const streamOf = (s: Scope) => `ledger:consume:pending:${s.tenantId}:${s.appId}`;
const answerKey = (s: Scope, key: string) => `ledger:consume:answer:${s.tenantId}:${s.appId}:${key}`;
/** The writer's token of a consumption's in-flight mark on its counter. */
const tokenOf = (key: string) => `c:${key}`;

/** What the stream and the answer keep of a consumption (short names: one per event). */
interface Pending {
  t: string;
  a: string;
  /** idempotency key, customer, feature, quantity, event id, timestamp (ms). */
  k: string;
  c: string;
  f: string;
  q: string;
  id: string;
  ts: number;
  /** The delta added to the counter, the limit (null: none), the counter's key, the period's start (ms). */
  d: string;
  l: string | null;
  ck: string;
  ps: number;
}

/** Attempts at setting a counter from the store (~5 s of waiting) before the caller is told to retry. */
const WARM_ATTEMPTS = 120;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** splitDecimal, remembered: limits and quantities repeat (1, 1,000), and decimal.js is not free on the hot path. */
const splits = new Map<string, [string, string]>();
function split(value: string): [string, string] {
  let s = splits.get(value);
  if (s === undefined) {
    if (splits.size >= 1_000) splits.clear();
    splits.set(value, (s = splitDecimal(value)));
  }
  return s;
}

export class RedisConsumption {
  readonly replayTtlMs: number;

  constructor(
    private readonly ctx: EngineContext,
    private readonly redis: RedisEntitlements,
    options: ConsumeRedisOptions = {},
  ) {
    this.replayTtlMs = options.replayTtlMs ?? CONSUME_DEFAULTS.replayTtlMs;
  }

  /**
   * The answer, or undefined when Redis is unavailable (the caller uses the store).
   * `accepted` is told of an allowed event before the answer returns.
   */
  async consume(c: Consuming, accepted: (event: UsageEvent) => void): Promise<ConsumeResult | undefined> {
    const key = counterKey(c.scope, c.customerId, c.feature, c.period.start.getTime());
    const limit = limitOf(c.feature);
    const event = consumedEvent(c);
    const pending: Pending = {
      t: c.scope.tenantId,
      a: c.scope.appId,
      k: c.idempotencyKey,
      c: c.customerId,
      f: c.feature.key,
      q: c.quantity,
      id: event.id,
      ts: c.at.getTime(),
      d: c.delta,
      l: limit,
      ck: key,
      ps: c.period.start.getTime(),
    };
    const [qi, qf] = split(c.delta);
    const [li, lf] = limit === null ? ['', ''] : split(limit);
    const keys = [key, answerKey(c.scope, c.idempotencyKey), streamOf(c.scope), STREAMS];
    const args = [qi, qf, li, lf, JSON.stringify(pending), tokenOf(c.idempotencyKey), String(this.redis.counterTtlMs), String(this.replayTtlMs)];
    for (let attempt = 1; ; attempt++) {
      const r = (await this.redis.runScript(CONSUME_SCRIPTS.consume, keys, args)) as string[] | undefined;
      if (r === undefined) return undefined;
      switch (r[0]) {
        case 'allowed':
          accepted(event);
          return allowedAnswer(joinDecimal(r[1]!, r[2]!), limit, false);
        case 'denied':
          return deniedAnswer(joinDecimal(r[1]!, r[2]!), limit!);
        case 'replay': {
          // "i f payload": the usage after the first consumption, and what it was.
          const [i, f] = r[1]!.split(' ', 2) as [string, string];
          const prior = JSON.parse(r[1]!.slice(i.length + f.length + 2)) as Pending;
          checkSamePayload({ ...c, featureKey: c.feature.key }, { customerId: prior.c, featureKey: prior.f, quantity: prior.q });
          return allowedAnswer(joinDecimal(i, f), prior.l, true);
        }
        case 'cold': {
          const replay = await this.#warmUp(c, key);
          if (replay) return replay;
          // Not set: writes of this counter are in flight (their events not in the store
          // yet). They settle within a drain; wait a little and try again. Never fall back
          // to the store's lock while Redis is up: other instances consume through Redis,
          // and the two would not see each other.
          if (attempt >= WARM_ATTEMPTS) {
            throw new LedgerError('limit_exceeded', `the usage counter of "${c.feature.key}" is being rebuilt while writes of it are still pending; retry shortly`);
          }
          if (attempt > 1) await sleep(Math.min(50, attempt * 5));
          break;
        }
        default:
          throw new Error(`unexpected answer of the consume script: ${String(r[0])}`);
      }
    }
  }

  /**
   * A counter without a value: computes it from the store and sets it (only if no write is
   * in flight and it did not change meanwhile, as every reader of counters does). A key
   * the store already has (its answer gone from Redis) is answered from there.
   */
  async #warmUp(c: Consuming, key: string): Promise<ConsumeResult | null> {
    const read = await this.redis.readCounter(key);
    if (read === undefined || read.value !== null) return null;
    const [prior, used] = await Promise.all([
      this.ctx.store.consumptions.get(c.scope, c.idempotencyKey),
      this.ctx.store.usage.aggregate(c.scope, {
        customerId: c.customerId,
        featureKey: c.feature.key,
        aggregation: c.feature.aggregation,
        from: c.period.start,
        to: c.period.end,
      }),
    ]);
    if (prior) {
      checkSamePayload({ ...c, featureKey: c.feature.key }, prior);
      return allowedAnswer(prior.used, prior.limit, true);
    }
    await this.redis.initCounter(key, read, used);
    return null;
  }

  /** Consumed in the store while Redis was down: the counter is cleared once it is back. */
  unsynced(c: Consuming): void {
    this.redis.unsynced(counterKey(c.scope, c.customerId, c.feature, c.period.start.getTime()));
  }
}

/**
 * Moves pending consumptions from Redis to the usage store. A drain of a stream runs
 * under a lock (SET NX with an expiry) so instances do not do the same work twice; each
 * batch is written in one transaction (events and answers), then its marks are cleared
 * and its entries deleted from the stream. A batch whose write fails stays in the stream
 * and is tried again on the next round: the counters keep counting it meanwhile.
 */
export class ConsumeDrain {
  readonly #intervalMs: number;
  readonly #delayMs: number;
  /** Streams to drain on the next round. */
  readonly #scheduled = new Set<string>();
  #running: Promise<void> | null = null;
  #again = false;
  #timer: ReturnType<typeof setInterval> | null = null;
  /** A drain asked for, waiting out `drainDelayMs`. */
  #delay: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  readonly #holder = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;

  constructor(
    private readonly ctx: EngineContext,
    private readonly redis: RedisEntitlements,
    options: ConsumeRedisOptions = {},
  ) {
    this.#intervalMs = options.drainIntervalMs ?? CONSUME_DEFAULTS.drainIntervalMs;
    this.#delayMs = options.drainDelayMs ?? CONSUME_DEFAULTS.drainDelayMs;
    this.#timer = setInterval(() => void this.#sweep(), this.#intervalMs);
    this.#timer.unref?.();
  }

  /** Drains the scope's stream soon (after `drainDelayMs`: consumptions of that while share a write). */
  schedule(scope: Scope): void {
    this.#scheduled.add(streamOf(scope));
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#delay ??= setTimeout(() => {
      this.#delay = null;
      this.#start();
    }, this.#delayMs);
  }

  /** Resolves when everything scheduled so far is drained, at once (tests, shutdown). */
  async settled(): Promise<void> {
    if (this.#delay) {
      clearTimeout(this.#delay);
      this.#delay = null;
      this.#start();
    }
    while (this.#running) await this.#running;
  }

  #start(): void {
    this.#running ??= this.#loop();
  }

  async #loop(): Promise<void> {
    try {
      do {
        this.#again = false;
        const streams = [...this.#scheduled];
        this.#scheduled.clear();
        for (const s of streams) await this.#drain(s);
      } while (this.#again || this.#scheduled.size > 0);
    } catch (err) {
      // Whatever it was, the entries are still in their stream: the next sweep tries again.
      this.ctx.logger.error('draining pending consumptions failed', errorSummary(err));
    } finally {
      this.#running = null;
    }
  }

  /** Every pending stream, whoever appended to it (an instance may have died with some). */
  async #sweep(): Promise<void> {
    if (this.#closed || this.#running || !this.redis.healthy) return;
    const streams = await this.redis.command((c) => c.smembers(STREAMS));
    if (!streams || streams.length === 0) return;
    for (const s of streams) this.#scheduled.add(s);
    this.#start();
  }

  async #drain(stream: string): Promise<void> {
    const lock = `${stream}:lock`;
    // Held: another instance drains it, until it is empty (what it misses, the sweep finds).
    const got = await this.redis.command((c) => c.set(lock, this.#holder, 'PX', 30_000, 'NX'));
    if (got !== 'OK') return;
    try {
      for (;;) {
        const entries = await this.redis.command((c) => c.xrange(stream, '-', '+', 'COUNT', 500));
        if (!entries) return;
        if (entries.length === 0) {
          await this.redis.runScript(CONSUME_SCRIPTS.forgetEmpty, [stream, STREAMS], []);
          return;
        }
        const pending = entries.map(([id, fields]) => {
          const f = new Map<string, string>();
          for (let n = 0; n + 1 < fields.length; n += 2) f.set(fields[n]!, fields[n + 1]!);
          return { id, p: { ...(JSON.parse(f.get('e')!) as Pending), used: joinDecimal(f.get('i') ?? '0', f.get('f') ?? '0') } };
        });
        if (!(await this.#write(pending.map((e) => e.p)))) return; // kept for the next round
        await this.redis.command((c) => c.xdel(stream, ...pending.map((e) => e.id)));
      }
    } finally {
      await this.redis.runScript(CONSUME_SCRIPTS.unlock, [lock], [this.#holder]);
    }
  }

  /** Writes a batch (all of one stream: one scope); clears its marks. False when the write failed. */
  async #write(batch: readonly (Pending & { used: string })[]): Promise<boolean> {
    if (batch.length === 0) return true;
    const scope = scopeOf(batch[0]!.t, batch[0]!.a);
    const events = batch.map(
      (p): UsageEvent => ({
        id: p.id as EventId,
        idempotencyKey: p.k,
        customerId: p.c as CustomerId,
        featureKey: p.f,
        quantity: p.q,
        timestamp: new Date(p.ts),
        properties: {},
        distinctValue: null,
      }),
    );
    let stored: Set<string>;
    try {
      stored = await this.ctx.store.atomic(async () => {
        const r = await this.ctx.store.usage.insertEvents(scope, events);
        // Ours: stored now, or by an earlier drain of the same entry (the same event id).
        const ours = new Set(batch.filter((p) => r.inserted.has(p.k) || r.existing.get(p.k)?.id === p.id).map((p) => p.k));
        const rows: StoredConsumption[] = batch
          .filter((p) => ours.has(p.k))
          .map((p) => ({
            idempotencyKey: p.k,
            customerId: p.c as CustomerId,
            featureKey: p.f,
            quantity: p.q,
            eventId: p.id,
            used: p.used,
            limit: p.l,
            periodStart: new Date(p.ps),
            createdAt: new Date(p.ts),
          }));
        await this.ctx.store.consumptions.insert(scope, rows);
        return ours;
      });
    } catch (err) {
      this.ctx.logger.warn('pending consumptions could not be written; kept in Redis for the next round', { ...errorSummary(err), events: batch.length });
      return false;
    }
    for (const p of batch) {
      if (!stored.has(p.k)) this.ctx.logger.warn('a consumption\'s idempotency key belonged to another usage event: not recorded', { idempotencyKey: p.k });
    }
    // One script for the batch: its marks cleared in one round trip. If Redis cannot be
    // told, its counters are cleared once it is back (marks left would block their rebuild).
    const settled = await this.redis.runScript(
      CONSUME_SCRIPTS.settle,
      batch.map((p) => p.ck),
      batch.flatMap((p) => [tokenOf(p.k), stored.has(p.k) ? '0' : '1', ...split(p.d)]),
    );
    if (settled === undefined) for (const p of batch) this.redis.unsynced(p.ck);
    const committed = events.filter((e) => stored.has(e.idempotencyKey));
    if (committed.length > 0) void this.ctx.plugins.emit('onUsageIngested', scope, committed);
    return true;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.settled();
  }
}
