import type { EngineContext } from '../context';
import type { CreditCover, CreditsAnswer } from '../entitlement/consume';
import type { InvoiceService } from '../invoice/service';
import type { Subscription } from '../subscription/types';
import type { Scope } from '../types';
import { allocate, isLive, lineCharge } from './allocate';

/**
 * Whether a customer's wallet covers its usage: the check `entitlements.consume` makes
 * for a feature limited by credits (`limitByCredits`), as Lago's "ongoing balance".
 *
 * The period's usage so far (everything not yet invoiced, from the subscription's
 * `unbilledFrom`), the consumption being decided included, is priced as its invoice
 * would price it: the same usage lines, tiers and rounding, with their tax, but before any
 * coupon (a coupon can only leave more credits when the invoice comes). Those lines are
 * then paid from the wallet's live grants by the rule that pays invoices (allocate.ts):
 * use order, and grants limited to features pay only those features' lines. Whatever
 * the grants cannot pay is the shortfall; a consumption is allowed only without one.
 *
 * All usage counts, not only the features limited by credits: the wallet pays the whole
 * invoice, so credits another feature's usage will take are not there for this one. The
 * plan's fees are not counted (they are billed in advance, when their period starts);
 * credits kept for usage are a grant limited to its features.
 */
export class UsageCover implements CreditCover {
  constructor(
    private readonly ctx: EngineContext,
    private readonly invoices: Pick<InvoiceService, 'usageCharges'>,
  ) {}

  async check(scope: Scope, sub: Subscription, at: Date, add: { featureKey: string; quantity: string }): Promise<CreditsAnswer> {
    const { store } = this.ctx;
    // Everything not invoiced yet: up to the period's end (events may be stamped a little
    // ahead), or past it when the billing cycle has not renewed the subscription yet.
    const end = at < sub.currentPeriodEnd ? sub.currentPeriodEnd : new Date(at.getTime() + 1);
    const usage = {
      planId: sub.planId,
      overrides: sub.priceOverrides,
      start: sub.unbilledFrom,
      end,
      trial: sub.status === 'trialing',
      quantity: sub.quantity,
      timeZone: sub.timeZone,
    };
    // One after the other: they run on the consumption's transaction (one connection).
    const { lines, inclusive } = await this.invoices.usageCharges(scope, sub.customerId, sub.currency, usage, sub.currentPeriodEnd, add);
    const wallet = await store.wallets.getByCustomer(scope, sub.customerId, sub.currency);
    const grants = wallet ? (await store.wallets.liveGrants(scope, wallet.id)).filter((g) => isLive(g, at)) : [];
    const charged = lines.reduce((sum, l) => sum + lineCharge(l, inclusive), 0);
    const covered = allocate(grants, at, lines, inclusive, charged).reduce((sum, u) => sum + u.amount, 0);
    return {
      currency: sub.currency,
      balance: grants.reduce((sum, g) => sum + g.remaining, 0),
      charged,
      shortfall: charged - covered,
    };
  }
}
