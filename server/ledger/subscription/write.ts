import type { EngineContext } from '../context';
import { changedFields, toJson } from '../events/diff';
import type { EventInput, EventType } from '../events/types';
import type { Scope } from '../types';
import type { Subscription } from './types';

/**
 * Every subscription write goes through here: the row and its event in one transaction
 * (the event log), then the caches are told (ctx.changes), before the caller answers.
 */

/** What an event shows of a subscription: all but the outbox (the engine's own bookkeeping of invoices owed). */
export function subscriptionEventObject(sub: Subscription): Omit<Subscription, 'outbox'> {
  const { outbox: _outbox, ...shown } = sub;
  return shown;
}

/**
 * The event a write is: canceled (it ended), trial ended, renewed (a new period),
 * else updated; none when only the outbox moved (its invoices were made).
 */
export function subscriptionEvent(before: Subscription, after: Subscription): EventInput | null {
  const was = subscriptionEventObject(before);
  const now = subscriptionEventObject(after);
  if (!changedFields(toJson(was), toJson(now))) return null;
  let type: EventType = 'subscription.updated';
  if (after.status === 'canceled' && before.status !== 'canceled') type = 'subscription.canceled';
  else if (before.status === 'trialing' && after.status !== 'trialing') type = 'subscription.trial_ended';
  else if (after.currentPeriodStart.getTime() !== before.currentPeriodStart.getTime()) type = 'subscription.renewed';
  return { type, object: now, before: was };
}

/** Inserts a new subscription with its `subscription.created` event. */
export async function insertSubscription(ctx: EngineContext, scope: Scope, sub: Subscription): Promise<void> {
  await ctx.events.atomic(scope, async (record) => {
    await ctx.store.subscriptions.insert(scope, sub);
    record({ type: 'subscription.created', object: subscriptionEventObject(sub) });
  });
  ctx.changes.subscriptionWritten(scope, sub);
}

/**
 * Writes `next` if the stored row is still at `before.version` (a conditional update),
 * with its event; false when another writer moved it first (nothing written).
 */
export async function updateSubscription(ctx: EngineContext, scope: Scope, before: Subscription, next: Subscription): Promise<boolean> {
  const written = await ctx.events.atomic(scope, async (record) => {
    if (!(await ctx.store.subscriptions.update(scope, next, before.version))) return false;
    const event = subscriptionEvent(before, next);
    if (event) record(event);
    return true;
  });
  if (written) ctx.changes.subscriptionWritten(scope, next);
  return written;
}
