import { LRUCache } from 'lru-cache';
import type { EngineContext } from '../context';
import { settle, type Entry, type FeatureSlot } from './entry';
import { softLimitKey } from './counter-format';
import type { RedisEntitlements } from './redis';
import type { EntitlementCheck, EntitlementResult } from './types';

/**
 * The threshold hooks of metered limits: `onSoftLimitReached` when a check sees usage at
 * the soft ratio of the limit (80 %), `onQuotaExceeded` on the first denied check; each
 * once per customer, feature and period (remembered here, and claimed in Redis so that
 * one instance of many fires it).
 */
const SOFT = 1;
const QUOTA = 2;

export class ThresholdAlerts {
  /** Hooks already fired (customer, feature, period, kind). */
  readonly #fired = new LRUCache<string, true>({ max: 100_000 });

  constructor(
    private readonly ctx: EngineContext,
    private readonly redis: RedisEntitlements | null,
    readonly softRatio: number,
  ) {}

  /** Recomputes a slot's answer; its alert stays up only while a hook may be due. */
  settle(entry: Entry, slot: FeatureSlot): void {
    settle(slot, entry.sub!, this.softRatio);
    if (slot.alert && slot.notified & SOFT && (slot.result.allowed || slot.notified & QUOTA)) slot.alert = false;
  }

  /** A check met a slot whose threshold is reached: fire what is due. */
  check(entry: Entry, slot: FeatureSlot): void {
    const feature = slot.feature;
    if (feature.kind !== 'metered' || feature.limit === null || slot.result.used === null) return;
    if (!(slot.notified & SOFT) && slot.result.used >= feature.limit * this.softRatio) {
      slot.notified |= SOFT;
      this.#fireOnce(entry, slot, 'soft');
    }
    if (!(slot.notified & QUOTA) && !slot.result.allowed) {
      slot.notified |= QUOTA;
      this.#fireOnce(entry, slot, 'quota');
    }
    this.settle(entry, slot);
  }

  #fireOnce(entry: Entry, slot: FeatureSlot, kind: 'soft' | 'quota'): void {
    const id = `${entry.key}\u0000${slot.feature.key}\u0000${entry.startMs}\u0000${kind}`;
    if (this.#fired.has(id)) return;
    this.#fired.set(id, true);
    const hook = kind === 'soft' ? 'onSoftLimitReached' : 'onQuotaExceeded';
    const payload = checkPayload(entry, slot.feature.key, slot.result);
    const emit = () => {
      // A reading, not a change: recorded on its own (best effort, never thrown), for
      // outbound webhooks and the log, beside the hook.
      void this.ctx.events.recordNow(entry.scope, [
        {
          type: kind === 'soft' ? 'usage.soft_limit_reached' : 'usage.quota_exceeded',
          object: { id: `${payload.customerId}:${payload.featureKey}`, ...payload },
          customerId: payload.customerId,
        },
      ]);
      return this.ctx.plugins.emit(hook, entry.scope, payload);
    };
    if (!this.redis) return void emit();
    const ttl = Math.max(1, entry.endMs - this.ctx.nowMs(entry.scope, entry.customerId));
    void this.redis
      .claimOnce(`${softLimitKey(entry.scope, entry.customerId, slot.feature.key, entry.startMs)}:${kind}`, ttl)
      .then((first) => (first ? emit() : undefined));
  }
}

/**
 * The payload of onEntitlementChecked (with `cache`, and `elapsedMs` for a miss) and of
 * the threshold hooks (without). Built in one literal: it is made on every hit.
 */
export function checkPayload(entry: Entry, featureKey: string, result: EntitlementResult, cache?: 'hit' | 'miss', elapsedMs?: number): EntitlementCheck {
  const check: EntitlementCheck = entry.period
    ? { customerId: entry.customerId, featureKey, result, period: { start: entry.period.start, end: entry.period.end } }
    : { customerId: entry.customerId, featureKey, result };
  if (cache !== undefined) check.cache = cache;
  if (elapsedMs !== undefined) check.elapsedMs = elapsedMs;
  return check;
}
