import type { EngineContext } from '../context';
import { illegalState, type Currency, type Scope } from '../types';
import type { Customer } from './types';

/**
 * Multi-currency: a customer's currency picks the prices of its subscriptions, and a
 * subscription keeps the currency it was made in. So the currency may change (or be
 * cleared) only while the customer has no live subscription in another currency; its
 * next subscription is then priced in the new one. Credit balances stay per currency.
 */
export async function checkCurrencyChange(ctx: EngineContext, scope: Scope, customer: Customer, next: Currency | null | undefined): Promise<void> {
  if (next === undefined || next === customer.currency) return;
  const live = await ctx.store.subscriptions.getLive(scope, customer.id);
  if (live && live.currency !== next) {
    throw illegalState(
      `customer ${customer.id} has a live subscription in ${live.currency} (${live.id}): its currency cannot change to ${next ?? 'none'} until that subscription ends`,
    );
  }
}

/**
 * A customer with no currency takes the currency of its first subscription, for good (as
 * Stripe fixes it at the first subscription or invoice): its later subscriptions are
 * priced in it too, so its credit balance and invoices stay in one currency. Re-read
 * first, so a concurrent update of other fields is not overwritten.
 */
export async function adoptCurrency(ctx: EngineContext, scope: Scope, customer: Customer, currency: Currency): Promise<void> {
  if (customer.currency !== null) return;
  await ctx.events.atomic(scope, async (record) => {
    const fresh = await ctx.store.customers.get(scope, customer.id);
    if (!fresh || fresh.currency !== null) return;
    const updated: Customer = { ...fresh, currency };
    if (await ctx.store.customers.update(scope, updated)) record({ type: 'customer.updated', object: updated, before: fresh });
  });
}
