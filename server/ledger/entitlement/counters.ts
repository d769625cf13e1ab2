import type { WriteOutcomeListener } from '../meter/observer';
import type { UsageEvent } from '../meter/types';
import type { Plan } from '../plan/types';
import type { Subscription } from '../subscription/types';
import { Dec, type CustomerId, type Scope } from '../types';
import type { MeteredFeature } from './entry';
import { usagePeriodAt } from './period';
import { counterKey } from './counter-format';
import type { CounterOp, RedisEntitlements } from './redis';

/**
 * The write side of the shared usage counters: before a batch is written, find the
 * counter of each event (its customer's subscription period that contains the event's
 * timestamp) and mark the write in flight on them; once committed, apply the batch's
 * usage to each and clear the marks; if every attempt failed, clear the marks and the
 * values (an attempt may have committed after all; readers recompute from the store).
 */
export type SubscriptionContext = { sub: Subscription; plan: Plan } | null;

export async function beginCounterWrites(
  redis: RedisEntitlements,
  scope: Scope,
  events: readonly UsageEvent[],
  contextOf: (scope: Scope, customerId: CustomerId) => Promise<SubscriptionContext>,
): Promise<WriteOutcomeListener> {
  const contexts = new Map<CustomerId, SubscriptionContext>();
  for (const id of new Set(events.map((e) => e.customerId))) contexts.set(id, await contextOf(scope, id));

  const keyOf = new Map<UsageEvent, { key: string; feature: MeteredFeature }>();
  for (const e of events) {
    const c = contexts.get(e.customerId);
    const feature = c?.plan.features.find((f): f is MeteredFeature => f.kind === 'metered' && f.key === e.featureKey);
    if (!c || !feature) continue;
    const period = usagePeriodAt(c.sub, c.plan.interval, e.timestamp);
    if (period) keyOf.set(e, { key: counterKey(scope, e.customerId, feature, period.start.getTime()), feature });
  }
  const keys = [...new Set([...keyOf.values()].map((k) => k.key))];
  const token = await redis.beginWrites(keys);

  return {
    async committed(committed, uncertain) {
      const ops = new Map<string, CounterOp>();
      for (const e of committed) {
        const k = keyOf.get(e);
        if (k) ops.set(k.key, uncertain ? { op: 'reset' } : combine(ops.get(k.key), k.feature, e));
      }
      await Promise.all([
        ...[...ops].map(([key, op]) => redis.applyToCounter(key, op, token)),
        token ? redis.abortWrites(keys.filter((k) => !ops.has(k)), token) : Promise.resolve(),
      ]);
    },
    async failed() {
      // A failed attempt may have committed before its answer was lost: the counters
      // are recomputed from the store rather than left as they were.
      await Promise.all(keys.map((key) => redis.applyToCounter(key, { op: 'reset' }, token)));
    },
  };
}

/** Folds one committed event into a counter's change. */
function combine(op: CounterOp | undefined, feature: MeteredFeature, e: UsageEvent): CounterOp {
  switch (feature.aggregation) {
    case 'sum':
      return { op: 'add', value: new Dec(op?.op === 'add' ? op.value : 0).plus(e.quantity).toFixed() };
    case 'count':
      return { op: 'add', value: new Dec(op?.op === 'add' ? op.value : 0).plus(1).toFixed() };
    case 'max':
      return { op: 'max', value: op?.op === 'max' && new Dec(op.value).gte(e.quantity) ? op.value : new Dec(e.quantity).toFixed() };
    case 'latest':
    case 'unique_count':
      // Not combinable from increments: the next reader recomputes from the store.
      return { op: 'reset' };
  }
}
