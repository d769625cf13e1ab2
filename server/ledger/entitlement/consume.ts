import { z } from 'zod';
import type { EngineContext } from '../context';
import { MeterCatalog } from '../meter/catalog';
import type { WriteOutcomeListener } from '../meter/observer';
import type { UsageEvent } from '../meter/types';
import type { Subscription } from '../subscription/types';
import type { BillingPeriod } from '../subscription/period';
import { conflict, Dec, idSchema, illegalState, invalid, newId, notFound, parseInput, requiredText, type Currency, type CustomerId, type Scope, type SubscriptionId } from '../types';
import type { StoredConsumption } from './consume-store';
import type { ConsumeDrain, RedisConsumption } from './consume-redis';
import type { Entry, MeteredFeature } from './entry';
import { evaluateFeature, NO_SUBSCRIPTION, NOT_IN_PLAN } from './evaluate';
import type { EntitlementResult } from './types';

/**
 * `entitlements.consume`: check a metered feature's limit and record the usage in one
 * atomic step, so parallel consumers (in one process or many) never take more than the
 * limit, and each idempotency key is recorded once.
 *
 * - Allowed when the period's usage plus the quantity stays within the limit (always,
 *   with no limit): the usage is recorded as an ordinary usage event (its dedup key is
 *   the idempotency key), so invoices, charts and `entitled` count it.
 * - Denied (`limit_reached`) when it would go past the limit: nothing is recorded, and
 *   the answer says what is used and what remains (a request for 5 with 3 remaining is
 *   denied whole, never cut to 3).
 * - A repeat of a key that was allowed answers the first answer (`replayed: true`) and
 *   records nothing. A denied key records nothing and keeps nothing: its repeat is
 *   evaluated again. A denial is "not now", and the usual reasons to retry (the period
 *   rolled over, the plan was upgraded, the limit raised) should be able to succeed
 *   under the same key; keeping denials would also cost a write for every refusal, at
 *   the very moment a customer hammers a limit.
 * - Only `sum` and `count` features can be consumed (a consumption adds its quantity,
 *   or 1 for count); `max`, `latest` and `unique_count` do not add up.
 * - Boolean and licensed features, a customer without a subscription, a feature the
 *   plan lacks, an unpaid subscription: the answer `entitled` gives, nothing recorded.
 *   A feature no plan of the scope meters, a malformed or non-positive quantity, a
 *   missing key: `invalid`, nothing recorded. An unknown customer: `not_found`.
 *
 * A feature limited by credits (`limitByCredits`) is also refused (`insufficient_credits`)
 * when the customer's wallet cannot cover the period's usage charges with it (a
 * CreditCover decides: wallet/usage-cover.ts). Those consumptions take a lock of the
 * customer, not of the feature, in the store, with Redis or without: every feature's
 * consumption spends the same credits, so they must go one at a time.
 *
 * Two ways to be atomic:
 * - the store (PostgreSQL, PGlite, memory): a transaction holding a lock of the customer's
 *   feature reads the period's usage, and writes the event and the answer (ConsumptionStore);
 * - Redis, when configured and up: one Lua script checks and adds to the shared usage
 *   counter and appends the event to a stream that a drainer writes to the store
 *   (consume-redis.ts). One round trip per consumption.
 */
const quantity = z
  .union([z.number(), z.string()])
  .transform((v) => (typeof v === 'number' ? String(v) : v.trim()))
  .pipe(z.string().regex(/^\d{1,15}(\.\d{1,12})?$/, 'must be a positive decimal number such as 1 or "0.5" (at most 12 decimals)'))
  // Runs even when the pattern failed (zod checks on): only a decimal is compared.
  .refine((v) => !/^\d+(\.\d+)?$/.test(v) || new Dec(v).gt(0), 'must be greater than 0')
  .transform((v) => new Dec(v).toFixed());

export const consumeSchema = z.object({
  customerId: idSchema('customer'),
  featureKey: requiredText(63),
  quantity,
  /** Records the usage once: the same key again answers the first answer. */
  idempotencyKey: requiredText(200),
});
export type ConsumeInput = z.input<typeof consumeSchema>;

export interface ConsumeResult extends EntitlementResult {
  /** This key's usage is recorded (by this call, or by the first one when replayed). */
  readonly recorded: boolean;
  /** The key was consumed before: the first call's answer; nothing was recorded again. */
  readonly replayed: boolean;
  /** A feature limited by credits, answered now (not a replay): the wallet against the usage. */
  readonly credits?: CreditsAnswer;
}

/** The customer's credits against the usage not yet invoiced, in minor units of `currency`. */
export interface CreditsAnswer {
  currency: Currency;
  /** Credits usable now (live grants, any feature's). */
  balance: number;
  /** What the usage not yet invoiced comes to, this consumption included (tax in, before coupons). */
  charged: number;
  /** The part of `charged` the credits cannot pay: 0 when allowed. */
  shortfall: number;
}

/** Prices the usage with a consumption added and pays it from the wallet, on paper. */
export interface CreditCover {
  /** `period`: the usage period `at` falls in (the clock's, which may be past the subscription's, not yet renewed). */
  check(scope: Scope, sub: Subscription, at: Date, period: BillingPeriod, add: { featureKey: string; quantity: string }): Promise<CreditsAnswer>;
}

/** The lock key of a customer's consumptions limited by credits (no feature key has a '*'). */
const CREDITS_LOCK = '*credits';

/** What the consumption of one metered feature is checked against. */
export interface Consuming {
  scope: Scope;
  customerId: CustomerId;
  feature: MeteredFeature;
  period: BillingPeriod;
  /** The customer's time of the consumption: the event's timestamp. */
  at: Date;
  quantity: string;
  /** What the consumption adds to the usage: the quantity, or 1 for a count feature. */
  delta: string;
  idempotencyKey: string;
}

/** What the entitlement service lends: its cached entries, and word of recorded usage. */
export interface ConsumeHost {
  entry(scope: Scope, customerId: string): Promise<Entry>;
  /** Usage this process just recorded (committed, or accepted by Redis): caches count it. */
  recorded(scope: Scope, event: UsageEvent): void;
  /**
   * With Redis: marks the shared counters before usage is written to the store outside
   * the meter (a consumption limited by credits), as the meter's writes do.
   */
  beforeWrite?(scope: Scope, events: readonly UsageEvent[]): Promise<WriteOutcomeListener | void>;
}

const toNumber = (d: string) => Number(d);

/** limit − used, never below 0, exact (plain arithmetic when both are safe integers). */
function remainingOf(limit: string, used: string): string {
  const l = Number(limit);
  const u = Number(used);
  if (Number.isSafeInteger(l) && Number.isSafeInteger(u)) return String(Math.max(0, l - u));
  return Dec.max(0, new Dec(limit).minus(used)).toFixed();
}

/** The answer of a consumption that went through, or of its replay. */
export function allowedAnswer(used: string, limit: string | null, replayed: boolean): ConsumeResult {
  if (limit === null) {
    return Object.freeze({ allowed: true, limit: null, used: toNumber(used), remaining: null, reason: 'unlimited', recorded: true, replayed });
  }
  const remaining = remainingOf(limit, used);
  return Object.freeze({
    allowed: true,
    limit: toNumber(limit),
    used: toNumber(used),
    remaining: toNumber(remaining),
    reason: 'within_limit',
    recorded: true,
    replayed,
  });
}

export function deniedAnswer(used: string, limit: string): ConsumeResult {
  const remaining = remainingOf(limit, used);
  return Object.freeze({
    allowed: false,
    limit: toNumber(limit),
    used: toNumber(used),
    remaining: toNumber(remaining),
    reason: 'limit_reached',
    recorded: false,
    replayed: false,
  });
}

const notRecorded = (r: EntitlementResult): ConsumeResult => Object.freeze({ ...r, recorded: false, replayed: false });

/** Within the limit, but the credits cannot pay for it: nothing recorded. */
function noCredits(used: string, limit: string | null, credits: CreditsAnswer): ConsumeResult {
  return Object.freeze({
    allowed: false,
    limit: limit === null ? null : toNumber(limit),
    used: toNumber(used),
    remaining: limit === null ? null : toNumber(remainingOf(limit, used)),
    reason: 'insufficient_credits',
    recorded: false,
    replayed: false,
    credits,
  });
}

/** A limit as an exact decimal string (limits are numbers: 1000, 0.5). */
export const limitOf = (f: MeteredFeature): string | null => (f.limit === null ? null : new Dec(f.limit).toFixed());

/** The usage event a consumption records. */
export function consumedEvent(c: Consuming, id = newId('event')): UsageEvent {
  return {
    id,
    idempotencyKey: c.idempotencyKey,
    customerId: c.customerId,
    featureKey: c.feature.key,
    quantity: c.quantity,
    timestamp: c.at,
    properties: {},
    distinctValue: null,
  };
}

/** The same key with another customer, feature or quantity is a conflict, as with usage events. */
export function checkSamePayload(c: Pick<Consuming, 'idempotencyKey' | 'customerId' | 'quantity'> & { featureKey: string }, prior: { customerId: string; featureKey: string; quantity: string }): void {
  if (prior.customerId !== c.customerId || prior.featureKey !== c.featureKey || !new Dec(prior.quantity).eq(c.quantity)) {
    throw conflict(
      `idempotency key "${c.idempotencyKey}" was already used to consume ${prior.quantity} of "${prior.featureKey}" for ${prior.customerId}`,
    );
  }
}

export class Consumption {
  /** Which feature keys the scope meters at all: tells an unknown feature from one the plan lacks. */
  readonly #catalog: MeterCatalog;
  /** Set by the ledger once invoices and wallets exist (they are built after entitlements). */
  #credits: CreditCover | null = null;

  constructor(
    private readonly ctx: EngineContext,
    private readonly host: ConsumeHost,
    private readonly redis: RedisConsumption | null,
    private readonly drain: ConsumeDrain | null,
  ) {
    this.#catalog = new MeterCatalog(ctx);
  }

  async consume(scope: Scope, raw: unknown): Promise<ConsumeResult> {
    const input = parseInput(consumeSchema, raw, 'consumption');
    let entry = await this.host.entry(scope, input.customerId);
    let at = this.ctx.nowMs(scope, entry.customerId);
    if (at < entry.startMs || at >= entry.endMs) {
      entry = await this.host.entry(scope, input.customerId); // the period ended meanwhile: refilled
      at = this.ctx.nowMs(scope, entry.customerId);
    }
    const slot = entry.slots.get(input.featureKey);
    if (!entry.sub || !entry.period) return notRecorded(NO_SUBSCRIPTION);
    if (!slot) {
      const metered = await this.#catalog.meteredFeatures(scope);
      if (!metered.has(input.featureKey)) {
        throw invalid(`featureKey: no plan has a metered feature "${input.featureKey}"`, [
          { path: 'featureKey', message: `no plan has a metered feature "${input.featureKey}"` },
        ]);
      }
      return notRecorded(NOT_IN_PLAN);
    }
    const feature = slot.feature;
    // Boolean and licensed: nothing to record; the answer `entitled` gives.
    if (feature.kind !== 'metered') return notRecorded(slot.result);
    if (entry.sub.status === 'unpaid') return notRecorded(evaluateFeature(feature, entry.sub, slot.result.used ?? 0));
    if (feature.aggregation !== 'sum' && feature.aggregation !== 'count') {
      throw invalid(`featureKey: "${feature.key}" aggregates by ${feature.aggregation}; only sum and count features can be consumed (their usage adds up)`, [
        { path: 'featureKey', message: `aggregates by ${feature.aggregation}, not sum or count` },
      ]);
    }
    if (feature.aggregation === 'count' && input.quantity !== '1') {
      throw invalid(`quantity: "${feature.key}" counts events: each consumption counts 1, so quantity must be 1`, [
        { path: 'quantity', message: 'must be 1 for a count feature' },
      ]);
    }
    const c: Consuming = {
      scope,
      customerId: entry.customerId,
      feature,
      period: entry.period,
      at: new Date(at),
      quantity: input.quantity,
      delta: feature.aggregation === 'count' ? '1' : input.quantity,
      idempotencyKey: input.idempotencyKey,
    };
    if (feature.limitByCredits) {
      // Credits are spent by every feature: one lock of the customer, in the store. What
      // this process's other features consumed through Redis is written first, so the
      // usage priced under the lock has it (the stream drains within milliseconds).
      await this.drain?.settled();
      return this.#consumeInStore(c, entry.sub.id);
    }
    if (this.redis) {
      const answer = await this.redis.consume(c, (event) => {
        this.host.recorded(scope, event);
        this.drain?.schedule(scope);
      });
      if (answer) return answer;
      // Redis unavailable: the store's lock decides (and the counter is cleared once Redis is back).
      this.redis.unsynced(c);
    }
    return this.#consumeInStore(c);
  }

  useCredits(cover: CreditCover): void {
    this.#credits = cover;
  }

  /**
   * One transaction, holding the lock of the customer's feature (of the customer, for a
   * consumption limited by the credits of subscription `paidBy`): read, check, write.
   */
  async #consumeInStore(c: Consuming, paidBy?: SubscriptionId): Promise<ConsumeResult> {
    const { store } = this.ctx;
    const limit = limitOf(c.feature);
    const cover = this.#credits;
    if (paidBy && !cover) throw illegalState(`"${c.feature.key}" is limited by credits, and this engine has no wallets to check them against`);
    const event = consumedEvent(c);
    // With Redis, the shared counters must not be seeded from the store while this
    // write is in flight (counters.ts): marked before it (once it is decided, so a queue
    // of consumers waiting for the lock does not hold the marks), applied after the commit.
    const marked: { outcome?: WriteOutcomeListener | void } = {};
    let recorded: UsageEvent | null = null;
    const decide = async (): Promise<ConsumeResult> => {
      const prior = await store.consumptions.get(c.scope, c.idempotencyKey);
      if (prior) {
        checkSamePayload({ ...c, featureKey: c.feature.key }, prior);
        return allowedAnswer(prior.used, prior.limit, true);
      }
      const used = await store.consumptions.usage(c.scope, {
        customerId: c.customerId,
        featureKey: c.feature.key,
        aggregation: c.feature.aggregation,
        from: c.period.start,
        to: c.period.end,
      });
      const after = new Dec(used).plus(c.delta);
      if (limit !== null && after.gt(limit)) return deniedAnswer(used, limit);
      let credits: CreditsAnswer | undefined;
      if (paidBy && cover) {
        const sub = await store.subscriptions.get(c.scope, paidBy);
        if (!sub) throw notFound('subscription', paidBy);
        credits = await cover.check(c.scope, sub, c.at, c.period, { featureKey: c.feature.key, quantity: c.delta });
        if (credits.shortfall > 0) return noCredits(used, limit, credits);
      }
      if (paidBy) marked.outcome = await this.host.beforeWrite?.(c.scope, [event]);
      const result = await store.usage.insertEvents(c.scope, [event]);
      if (!result.inserted.has(event.idempotencyKey)) {
        const stored = result.existing.get(event.idempotencyKey);
        throw conflict(`idempotency key "${c.idempotencyKey}" was already used for usage event ${stored?.id ?? '(unknown)'}`);
      }
      const row: StoredConsumption = {
        idempotencyKey: c.idempotencyKey,
        customerId: c.customerId,
        featureKey: c.feature.key,
        quantity: c.quantity,
        eventId: event.id,
        used: after.toFixed(),
        limit,
        periodStart: c.period.start,
        createdAt: new Date(),
      };
      await store.consumptions.insert(c.scope, [row]);
      recorded = event;
      const answer = allowedAnswer(row.used, limit, false);
      return credits ? Object.freeze({ ...answer, credits }) : answer;
    };
    let answer: ConsumeResult;
    try {
      answer = await store.consumptions.locked(c.scope, c.customerId, paidBy ? CREDITS_LOCK : c.feature.key, decide);
    } catch (e) {
      await marked.outcome?.failed().catch(() => undefined);
      throw e;
    }
    await marked.outcome?.committed(recorded ? [recorded] : [], false);
    // Committed: this process's caches count it, plugins hear of it as of metered usage.
    if (recorded) {
      this.host.recorded(c.scope, recorded);
      void this.ctx.plugins.emit('onUsageIngested', c.scope, [recorded]);
    }
    return answer;
  }

  forgetFeatures(scope: Scope): void {
    this.#catalog.forgetFeatures(scope);
  }
}
