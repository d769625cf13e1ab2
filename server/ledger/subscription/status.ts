import type { EngineContext } from '../context';
import type { Scope, SubscriptionId } from '../types';
import type { Subscription, SubscriptionStatus } from './types';
import { updateSubscription } from './write';

/** How often a status move re-reads a subscription another writer changed meanwhile. */
const TRIES = 5;

/**
 * Moves a subscription's status (dunning: past_due, unpaid, canceled, active again) if it
 * is in one of `from`, with the fields `change` gives at the customer's time; a
 * conditional write on its version, re-read when another writer (the billing cycle, a
 * plan change) moved it first. Caches hear of it (ctx.changes), so entitlements follow at
 * once. Null when it is in none of `from` (or vanished).
 */
export async function moveSubscriptionStatus(
  ctx: EngineContext,
  scope: Scope,
  id: SubscriptionId,
  from: readonly SubscriptionStatus[],
  change: (sub: Subscription, now: Date) => Partial<Subscription> & { status: SubscriptionStatus },
): Promise<Subscription | null> {
  for (let i = 0; i < TRIES; i++) {
    const sub = await ctx.store.subscriptions.get(scope, id);
    if (!sub || !from.includes(sub.status)) return null;
    const now = await ctx.customerNow(scope, sub.customerId);
    const next: Subscription = { ...sub, ...change(sub, now), version: sub.version + 1, updatedAt: now };
    if (await updateSubscription(ctx, scope, sub, next)) return next;
  }
  ctx.logger.warn('a subscription kept changing while its status was being moved; left as it is', { subscriptionId: id });
  return null;
}
