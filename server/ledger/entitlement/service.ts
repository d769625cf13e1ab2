import { LRUCache } from 'lru-cache';
import type { EngineContext } from '../context';
import type { UsageEvent } from '../meter/types';
import type { Plan } from '../plan/types';
import type { BillingPeriod } from '../subscription/period';
import type { Subscription } from '../subscription/types';
import { errorSummary, notFound, parseId, type CustomerId, type Scope } from '../types';
import { beginCounterWrites, type SubscriptionContext } from './counters';
import {
  buildEntry,
  emptyEntry,
  inPeriod,
  meteredFeatures,
  meteredUsage,
  type Entry,
  type FeatureSlot,
  type UsageRead,
} from './entry';
import { grantsAccessAt, NO_SUBSCRIPTION, NOT_IN_PLAN } from './evaluate';
import { usagePeriodAt } from './period';
import { checkPayload, ThresholdAlerts } from './alerts';
import { RedisEntitlements, type InvalidationMessage, type RedisEntitlementOptions } from './redis';
import { Consumption, type ConsumeResult, type CreditCover } from './consume';
import { ConsumeDrain, RedisConsumption, type ConsumeRedisOptions } from './consume-redis';
import {
  DEFAULT_CACHE,
  DEFAULT_SOFT_LIMIT_RATIO,
  type EntitlementCacheOptions,
  type EntitlementResult,
  type MeterTap,
  type UsageSummary,
} from './types';
import { bufferedUsage, readUsage, redisUsage, storeUsage, type CommittedUsage } from './usage-source';

/** A usage read in progress (see #readUsage). */
interface UsageReading {
  finish(): { usage: Map<string, UsageRead>; clean: boolean };
  release(): void;
}

export interface EntitlementOptions {
  cache?: EntitlementCacheOptions;
  /** Shared usage counters and cross-instance invalidation (see redis.ts). */
  redis?: RedisEntitlementOptions;
  /** Share of a metered limit at which onSoftLimitReached fires (default 0.8). */
  softLimitRatio?: number;
  /** `consume` with Redis: how long answers are kept for replays, how often pending streams are drained. */
  consume?: ConsumeRedisOptions;
}

/** Attempts at a clean usage read on a miss before the entry is cached with a short refresh. */
const FILL_ATTEMPTS = 3;
/** How soon an entry filled by an unclean read is read again, without Redis (ms). */
const UNCLEAN_REFRESH_MS = 1_000;


const samePeriod = (a: BillingPeriod, b: BillingPeriod) =>
  a.start.getTime() === b.start.getTime() && a.end.getTime() === b.end.getTime();

const keyOf = (scope: Scope, customerId: string) => `${scope.tenantId}\u0000${scope.appId}\u0000${customerId}`;

/**
 * Entitlement checks: `check(scope, customer, feature)` answers from an in-process LRU
 * (lru-cache, TTL) of per-customer entries, keyed by tenant, app and customer. A hit is
 * a map lookup; a miss reads the live subscription, its plan version and the usage of
 * the current period from the store (or the shared Redis counters) and fills the entry.
 *
 * Freshness:
 * - usage metered in this process counts at once: buffered events update the entry;
 * - a subscription write in this process drops the customer's entry at once, and with
 *   Redis is published to every instance, which drops it too;
 * - usage committed by other instances: with Redis, re-read from the shared counters
 *   every `refreshMs` (1 s) in the background; without Redis, seen when the entry
 *   expires (`ttlMs`, 60 s). One instance without Redis is always exact.
 * - when Redis is down, entries older than `refreshMs` are refilled from the store, and
 *   the whole cache is dropped when the invalidation channel is back.
 */
export class EntitlementService {
  readonly #cache: LRUCache<string, Entry>;
  /** Subscriptions and plans by customer, for writers of shared counters. */
  readonly #contexts: LRUCache<string, { context: SubscriptionContext }>;
  readonly #fills = new Map<string, { promise: Promise<Entry>; stale: boolean }>();
  /** Customers whose usage is being read: commits meanwhile bump the version. */
  readonly #watch = new Map<string, { version: number; readers: number }>();
  /**
   * Plan versions by id. A version's features, prices and interval never change (a
   * change makes a new version); name, description and status may, and this process's
   * plan hooks evict them.
   */
  readonly #plans = new LRUCache<string, Plan>({ max: 1_000 });
  /** The last subscription and plan filled per customer: hints, kept across invalidations. */
  readonly #hints: LRUCache<string, { sub: Subscription; plan: Plan }>;
  readonly #redis: RedisEntitlements | null;
  readonly #source: CommittedUsage;
  readonly #softRatio: number;
  readonly #alerts: ThresholdAlerts;
  readonly #consumption: Consumption;
  /** With Redis: writes consumptions accepted by Redis to the store. */
  readonly #drain: ConsumeDrain | null;

  constructor(
    private readonly ctx: EngineContext,
    private readonly meter: MeterTap,
    options: EntitlementOptions = {},
  ) {
    const max = options.cache?.max ?? DEFAULT_CACHE.max;
    const ttl = options.cache?.ttlMs ?? DEFAULT_CACHE.ttlMs;
    this.#cache = new LRUCache({ max, ttl, updateAgeOnGet: false });
    this.#contexts = new LRUCache({ max, ttl });
    this.#hints = new LRUCache({ max });
    this.#softRatio = options.softLimitRatio ?? DEFAULT_SOFT_LIMIT_RATIO;
    this.#redis = options.redis
      ? new RedisEntitlements(options.redis, ctx.logger, {
          onInvalidate: (m: InvalidationMessage) => this.#drop(keyOf(m, m.customerId)),
          onResync: () => this.#dropAll(),
        })
      : null;
    const store = storeUsage(ctx);
    this.#source = this.#redis ? redisUsage(this.#redis, store) : store;
    this.#alerts = new ThresholdAlerts(ctx, this.#redis, this.#softRatio);
    this.#drain = this.#redis ? new ConsumeDrain(ctx, this.#redis, options.consume) : null;
    this.#consumption = new Consumption(
      ctx,
      {
        entry: (scope, customerId) => this.#entry(scope, customerId),
        recorded: (scope, e) => {
          this.#touch(scope, [e]);
          this.#onBuffered(scope, e);
        },
        beforeWrite: this.#redis ? (scope, events) => beginCounterWrites(this.#redis!, scope, events, (s, id) => this.#contextOf(s, id)) : undefined,
      },
      this.#redis ? new RedisConsumption(ctx, this.#redis, options.consume) : null,
      this.#drain,
    );

    const redis = this.#redis;
    meter.observe({
      onBuffered: (scope, e) => this.#onBuffered(scope, e),
      onCommitted: (scope, events) => {
        this.#touch(scope, events);
        this.#forgetEstimates(scope, events);
      },
      onDropped: (scope, events) => {
        // Counted when buffered, never stored: the entry must forget them.
        this.#touch(scope, events);
        for (const id of new Set(events.map((e) => e.customerId))) this.#drop(keyOf(scope, id));
      },
      beforeWrite: redis
        ? (scope, events) => beginCounterWrites(redis, scope, events, (s, id) => this.#contextOf(s, id))
        : undefined,
    });
    ctx.changes.onSubscriptionWritten((scope, sub) => void this.invalidate(scope, sub.customerId));
    const evict = (scope: Scope, plan: Plan) => void this.#plans.delete(keyOf(scope, plan.id));
    ctx.plugins.registerFirst({
      name: 'ledger:entitlements',
      // A new plan may meter a new feature key: consume's catalog of them reads again.
      onPlanCreated: (scope) => this.#consumption.forgetFeatures(scope),
      onPlanUpdated: (scope, old) => evict(scope, old),
      onPlanArchived: evict,
    });
  }

  /** Customers whose usage is being read (diagnostics: zero when no fill or refresh runs). */
  get readsInFlight(): number {
    return this.#watch.size;
  }

  /** Whether Redis is in use and healthy; null without Redis. */
  get redisHealthy(): boolean | null {
    return this.#redis ? this.#redis.healthy : null;
  }

  /** Resolves once subscribed to cross-instance invalidations (at once without Redis). */
  whenReady(timeoutMs?: number): Promise<boolean> {
    return this.#redis ? this.#redis.whenReady(timeoutMs) : Promise.resolve(true);
  }

  /**
   * May the customer use the feature now? `{ allowed, limit, used, remaining, reason }`.
   * Throws `not_found` for a customer the scope does not have, `invalid` for a malformed id.
   */
  check(scope: Scope, customerId: string, featureKey: string): Promise<EntitlementResult> {
    const entry = this.#cache.get(keyOf(scope, customerId));
    if (entry !== undefined) {
      const now = this.ctx.nowMs(scope, customerId);
      if (now >= entry.startMs && now < entry.endMs) {
        if (entry.refreshAt !== Infinity && Date.now() >= entry.refreshAt) this.#refresh(entry);
        return Promise.resolve(this.#answer(entry, featureKey, -1));
      }
    }
    const started = performance.now();
    return this.#entry(scope, customerId).then((e) => this.#answer(e, featureKey, performance.now() - started));
  }

  /**
   * Checks a metered feature's limit and records the usage in one atomic step (see
   * consume.ts): `{ allowed, limit, used, remaining, reason, recorded, replayed }`, `used`
   * and `remaining` after this consumption when it is allowed. The same idempotency key
   * again answers the first answer and records nothing.
   */
  consume(scope: Scope, input: unknown): Promise<ConsumeResult> {
    return this.#consumption.consume(scope, input);
  }

  /** The wallets' check of features limited by credits (the ledger's, once wallets exist). */
  useCredits(cover: CreditCover): void {
    this.#consumption.useCredits(cover);
  }

  /** With Redis: resolves once the consumptions accepted so far by this process are in the store. */
  async consumptionsWritten(): Promise<void> {
    await this.#drain?.settled();
  }

  /** Every feature of the customer's plan with its usage, limit and answer. */
  async summary(scope: Scope, customerId: string): Promise<UsageSummary> {
    const entry = await this.#entry(scope, customerId);
    const { sub, plan, period } = entry;
    if (!sub || !plan || !period) {
      return { customerId: entry.customerId, subscriptionId: null, status: null, planId: null, planKey: null, planName: null, features: [] };
    }
    return {
      customerId: entry.customerId,
      subscriptionId: sub.id,
      status: sub.status,
      planId: plan.id,
      planKey: plan.key,
      planName: plan.name,
      features: [...entry.slots.values()].map(({ feature, result }) => ({
        featureKey: feature.key,
        name: feature.name,
        kind: feature.kind,
        ...(feature.kind === 'metered' ? { aggregation: feature.aggregation, ...(feature.unitName ? { unitName: feature.unitName } : {}) } : {}),
        used: result.used,
        limit: result.limit,
        remaining: result.remaining,
        allowed: result.allowed,
        reason: result.reason,
        period: { start: period.start, end: period.end },
      })),
    };
  }

  /** Drops the customer's entry here and, with Redis, in every instance. */
  async invalidate(scope: Scope, customerId: string): Promise<void> {
    this.#drop(keyOf(scope, customerId));
    await this.#redis?.publishInvalidation(scope, customerId);
  }

  async close(): Promise<void> {
    await this.#drain?.close();
    await this.#redis?.close();
  }

  // --- the hot path -------------------------------------------------------------------

  /** `missMs`: how long a miss took to answer; -1 for a hit. */
  #answer(entry: Entry, featureKey: string, missMs: number): EntitlementResult {
    const slot = entry.slots.get(featureKey);
    const result = slot !== undefined ? slot.result : entry.sub ? NOT_IN_PLAN : NO_SUBSCRIPTION;
    if (slot !== undefined && slot.alert) this.#alerts.check(entry, slot);
    if (this.ctx.plugins.implements('onEntitlementChecked')) {
      const check = missMs < 0 ? checkPayload(entry, featureKey, result, 'hit') : checkPayload(entry, featureKey, result, 'miss', missMs);
      this.ctx.plugins.fire('onEntitlementChecked', entry.scope, check);
    }
    return result;
  }

  #onBuffered(scope: Scope, e: UsageEvent): void {
    if (this.#cache.size === 0) return;
    const entry = this.#cache.peek(keyOf(scope, e.customerId));
    if (!entry?.sub || !entry.period) return;
    const slot = entry.slots.get(e.featureKey);
    if (!slot?.metered || !inPeriod(entry.period, e)) return;
    if (slot.metered.tally.add(e)) this.#settle(entry, slot);
  }

  #settle(entry: Entry, slot: FeatureSlot): void {
    this.#alerts.settle(entry, slot);
  }

  // --- misses and refreshes ------------------------------------------------------------

  async #entry(scope: Scope, customerId: string): Promise<Entry> {
    const key = keyOf(scope, customerId);
    const hit = this.#cache.get(key);
    const now = this.ctx.nowMs(scope, customerId);
    if (hit && now >= hit.startMs && now < hit.endMs) return hit;
    const id = parseId('customer', customerId);
    const running = this.#fills.get(key);
    if (running) return running.promise;
    const fill = { promise: null as unknown as Promise<Entry>, stale: false };
    fill.promise = this.#load(scope, id, key, fill).finally(() => {
      if (this.#fills.get(key) === fill) this.#fills.delete(key);
    });
    this.#fills.set(key, fill);
    return fill.promise;
  }

  /**
   * Fills a customer's entry: the live subscription, its plan version (cached: versions
   * do not change), the period and its usage. When the customer was filled before, the
   * usage of the period the last fill's subscription gives is read *while* the
   * subscription is read (two queries at once instead of one after the other); it is
   * used only if the fresh subscription has the same plan and the same period.
   */
  async #load(scope: Scope, customerId: CustomerId, key: string, fill: { stale: boolean }): Promise<Entry> {
    for (let attempt = 1; ; attempt++) {
      // The customer's time, its clock read first if this instance has not seen it yet.
      const at = await this.ctx.customerNow(scope, customerId);
      const guess = this.#guessUsage(key, scope, customerId, at);
      try {
        const sub = await this.ctx.store.subscriptions.getLive(scope, customerId);
        if (!sub || !grantsAccessAt(sub, at)) {
          if (!sub && !(await this.ctx.store.customers.get(scope, customerId))) throw notFound('customer', customerId);
          return this.#keep(emptyEntry(key, scope, customerId), fill);
        }
        const plan = await this.#plan(scope, sub);
        const period = usagePeriodAt(sub, plan.interval, at);
        if (!period) return this.#keep(emptyEntry(key, scope, customerId, sub.billingAnchor.getTime()), fill);
        if (!fill.stale) this.#contexts.set(key, { context: { sub, plan } });
        this.#hints.set(key, { sub, plan });

        const guessed = await guess;
        let reading: UsageReading;
        if (guessed && guessed.planId === plan.id && samePeriod(guessed.period, period)) reading = guessed.reading;
        else {
          guessed?.reading.release();
          reading = await this.#readUsage(key, scope, customerId, meteredFeatures(plan), period);
        }
        // Synchronous from here to #keep: the buffered events are taken as they are now.
        const { usage, clean } = reading.finish();
        if (!clean && attempt < FILL_ATTEMPTS) continue;
        const refreshAt = this.#redis
          ? Date.now() + this.#redis.refreshMs
          : clean
            ? Infinity
            : Date.now() + UNCLEAN_REFRESH_MS;
        const entry = buildEntry({ key, scope, customerId, sub, plan, period, usage, softRatio: this.#softRatio, refreshAt });
        return this.#keep(entry, fill);
      } finally {
        // However the attempt ended (the guess unused, a read failed), the guessed reading
        // stops watching commits. Releasing a finished reading does nothing.
        void guess?.then((g) => g?.reading.release());
      }
    }
  }

  /** The usage read the last fill's subscription and plan suggest; null without one. */
  #guessUsage(key: string, scope: Scope, customerId: CustomerId, at: Date) {
    const hint = this.#hints.get(key);
    const period = hint && usagePeriodAt(hint.sub, hint.plan.interval, at);
    if (!hint || !period) return null;
    return this.#readUsage(key, scope, customerId, meteredFeatures(hint.plan), period).then(
      (reading) => ({ reading, period, planId: hint.plan.id }),
      () => null, // only a guess: the fill reads again
    );
  }

  /** Caches a filled entry, unless the customer was invalidated while it was read. */
  #keep(entry: Entry, fill: { stale: boolean }): Entry {
    if (!fill.stale) this.#cache.set(entry.key, entry);
    return entry;
  }

  /**
   * Reads the committed usage of a customer's features while watching for commits of
   * that customer's usage. `finish()` (synchronous) adds the buffered events as they
   * are then and tells whether the read was clean; `release()` ends an unused reading.
   */
  async #readUsage(key: string, scope: Scope, customerId: CustomerId, features: ReturnType<typeof meteredFeatures>, period: NonNullable<Entry['period']>): Promise<UsageReading> {
    let w = this.#watch.get(key);
    if (!w) this.#watch.set(key, (w = { version: 0, readers: 0 }));
    w.readers++;
    const seen = w.version;
    const watch = w;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (--watch.readers === 0) this.#watch.delete(key);
    };
    let read;
    try {
      read = await readUsage(this.meter, this.#source, scope, customerId, features, period);
    } catch (e) {
      release();
      throw e;
    }
    const { bases, writingAtStart } = read;
    return {
      finish: () => {
        const { usage, writing } = bufferedUsage(this.meter, scope, customerId, features, bases);
        const clean = !writingAtStart && !writing && watch.version === seen;
        release();
        return { usage, clean };
      },
      release,
    };
  }

  /** With Redis: re-reads an entry's usage from the shared counters, in the background. */
  #refresh(entry: Entry): void {
    if (entry.refreshing) return;
    if (!this.#redis?.healthy) {
      // Redis down: invalidations may be missed, so refill the whole entry from the store.
      entry.refreshAt = Infinity;
      this.#drop(entry.key);
      return;
    }
    entry.refreshing = true;
    const period = entry.period!;
    const slots = [...entry.slots.values()].filter((s) => s.metered);
    void this.#readUsage(entry.key, entry.scope, entry.customerId, slots.map((s) => s.metered!.feature), period)
      .then((reading) => {
        const { usage } = reading.finish();
        if (this.#cache.peek(entry.key) !== entry) return; // replaced or invalidated meanwhile
        for (const slot of slots) {
          slot.metered = meteredUsage(slot.metered!.feature, usage.get(slot.feature.key)!, period);
          this.#settle(entry, slot);
        }
      })
      .catch((err: unknown) => this.ctx.logger.warn('entitlement refresh failed', errorSummary(err)))
      .finally(() => {
        entry.refreshing = false;
        entry.refreshAt = Date.now() + this.#redis!.refreshMs;
      });
  }

  async #plan(scope: Scope, sub: Subscription): Promise<Plan> {
    const key = keyOf(scope, sub.planId);
    const hit = this.#plans.get(key);
    if (hit) return hit;
    const plan = await this.ctx.store.plans.get(scope, sub.planId);
    if (!plan) throw new Error(`plan ${sub.planId} of subscription ${sub.id} is missing from the store`);
    this.#plans.set(key, plan);
    return plan;
  }

  /** Subscription and plan of a customer, for counter writers (cache, else store). */
  async #contextOf(scope: Scope, customerId: CustomerId): Promise<SubscriptionContext> {
    const key = keyOf(scope, customerId);
    const entry = this.#cache.peek(key);
    if (entry?.sub && entry.plan) return { sub: entry.sub, plan: entry.plan };
    const known = this.#contexts.get(key);
    if (known) return known.context;
    const sub = await this.ctx.store.subscriptions.getLive(scope, customerId);
    const context = sub ? { sub, plan: await this.#plan(scope, sub) } : null;
    this.#contexts.set(key, { context });
    return context;
  }

  // --- invalidation ----------------------------------------------------------------------

  #drop(key: string): void {
    this.#cache.delete(key);
    this.#contexts.delete(key);
    const fill = this.#fills.get(key);
    if (fill) {
      fill.stale = true;
      this.#fills.delete(key);
    }
  }

  #dropAll(): void {
    this.#cache.clear();
    this.#contexts.clear();
    for (const fill of this.#fills.values()) fill.stale = true;
    this.#fills.clear();
  }

  /**
   * `latest` and `unique_count` usage counted from buffered events is an estimate (an
   * older reading may be buffered after a newer one was stored; a value may already be
   * among the stored ones): once such events are committed, the entry is read again.
   */
  #forgetEstimates(scope: Scope, events: readonly UsageEvent[]): void {
    if (this.#cache.size === 0) return;
    for (const e of events) {
      const key = keyOf(scope, e.customerId);
      if (this.#cache.peek(key)?.slots.get(e.featureKey)?.metered?.tally.estimated) this.#drop(key);
    }
  }

  /** Commits (or drops) of a customer's usage while it is being read make the read unclean. */
  #touch(scope: Scope, events: readonly UsageEvent[]): void {
    if (this.#watch.size === 0) return;
    for (const e of events) {
      const w = this.#watch.get(keyOf(scope, e.customerId));
      if (w) w.version++;
    }
  }
}
