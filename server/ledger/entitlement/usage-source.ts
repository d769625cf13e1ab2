import type { EngineContext } from '../context';
import type { BillingPeriod } from '../subscription/period';
import type { CustomerId, Scope } from '../types';
import type { MeteredFeature, UsageRead } from './entry';
import { counterKey } from './counter-format';
import type { RedisEntitlements } from './redis';
import type { MeterTap } from './types';

/**
 * Where an entry's committed usage comes from: the store (every process's committed
 * events, aggregated in SQL over rollups), or with Redis a shared counter per customer,
 * feature and period, computed from the store once and then kept up to date by every
 * instance's writes.
 */
export interface CommittedUsage {
  /** The committed usage of each feature over the period, in the order given. */
  read(scope: Scope, customerId: CustomerId, features: readonly MeteredFeature[], period: BillingPeriod): Promise<string[]>;
}

/** From the store: every feature in one query (one round trip on PostgreSQL). */
export function storeUsage(ctx: EngineContext): CommittedUsage {
  return {
    read: (scope, customerId, features, period) =>
      ctx.store.usage.aggregateMany(
        scope,
        features.map((f) => ({ customerId, featureKey: f.key, aggregation: f.aggregation, from: period.start, to: period.end })),
      ),
  };
}

/** Shared counters; the ones without a value are computed from the store and set. */
export function redisUsage(redis: RedisEntitlements, store: CommittedUsage): CommittedUsage {
  return {
    async read(scope, customerId, features, period) {
      const keys = features.map((f) => counterKey(scope, customerId, f, period.start.getTime()));
      const counters = await Promise.all(keys.map((k) => redis.readCounter(k)));
      const values = counters.map((c) => c?.value ?? null);
      const missing = features.flatMap((f, i) => (values[i] === null ? [i] : []));
      if (missing.length === 0) return values as string[];
      const computed = await store.read(scope, customerId, missing.map((i) => features[i]!), period);
      await Promise.all(
        missing.map(async (i, j) => {
          values[i] = computed[j]!;
          const counter = counters[i];
          if (counter) await redis.initCounter(keys[i]!, counter, computed[j]!);
        }),
      );
      return values as string[];
    },
  };
}

/**
 * Reads the usage of `features` for an entry, in two steps. `readUsage` reads the
 * committed bases (awaited); `bufferedUsage`, called synchronously just before the
 * entry is cached, adds the events this process holds but has not committed, as they
 * are at that moment. The read is *clean* when no write of this customer's usage was in
 * progress at either step and none committed in between (the caller's watch): a batch
 * in flight may commit at any moment, and then nobody can tell whether the base
 * includes it. An unclean read leaves the in-flight events out (an undercount, never a
 * double count) and is retried or refreshed soon by the caller.
 */
export async function readUsage(
  meter: MeterTap,
  source: CommittedUsage,
  scope: Scope,
  customerId: CustomerId,
  features: readonly MeteredFeature[],
  period: BillingPeriod,
): Promise<{ bases: string[]; writingAtStart: boolean }> {
  const writingAtStart = features.some((f) => meter.uncommitted(scope, customerId, f.key).writing);
  const bases = features.length > 0 ? await source.read(scope, customerId, features, period) : [];
  return { bases, writingAtStart };
}

/** The bases with the buffered events as they are now, and whether a write is in progress. */
export function bufferedUsage(
  meter: MeterTap,
  scope: Scope,
  customerId: CustomerId,
  features: readonly MeteredFeature[],
  bases: readonly string[],
): { usage: Map<string, UsageRead>; writing: boolean } {
  let writing = false;
  const usage = new Map<string, UsageRead>();
  features.forEach((f, i) => {
    const u = meter.uncommitted(scope, customerId, f.key);
    if (u.writing) writing = true;
    usage.set(f.key, { base: bases[i]!, events: u.buffered });
  });
  return { usage, writing };
}
