import type { EngineContext } from '../context';
import type { CreditCover, CreditsAnswer } from '../entitlement/consume';
import type { InvoiceService } from '../invoice/service';
import type { Invoice, InvoiceBasis, InvoiceLine } from '../invoice/types';
import type { BillingPeriod } from '../subscription/period';
import type { Subscription } from '../subscription/types';
import type { Scope } from '../types';
import { allocate, isLive, lineCharge } from './allocate';
import type { WalletGrant } from './types';

/** The billing reason of a top-up (service.ts has it too; a top-up is never paid with credits). */
const TOP_UP = 'wallet_top_up';

/** Something the credits will be asked to pay, at `payAt`. */
interface Claim {
  lines: readonly InvoiceLine[];
  inclusive: boolean;
  amount: number;
  payAt: Date;
}

/**
 * Whether a customer's wallet covers what it will be asked to pay: the check
 * `entitlements.consume` makes for a feature limited by credits (`limitByCredits`), as
 * Lago's "ongoing balance", but counting everything the credits will pay before the
 * usage being decided:
 *
 * 1. the customer's drafts (a period's invoice waits `finalizeGraceMs` for late usage
 *    before it is finalized and takes credits), their amount due, soonest first;
 * 2. the usage not invoiced yet (from the subscription's `unbilledFrom`), the consumption
 *    being decided included, priced as its invoice will price it: the same usage lines,
 *    tiers and rounding, with tax, before any coupon (a coupon can only leave more). When
 *    the period has ended and the billing cycle has not renewed the subscription yet, the
 *    ended stretch and the new one are priced as the two invoices they will be (a trial's
 *    usage free, the new one's not; the new one at a change due at renewal).
 *
 * Each is paid on paper from the wallet's grants by the rule that pays invoices
 * (allocate.ts), with only the grants still live when it will be paid (a grant expiring
 * before the period's invoice is finalized pays nothing of it). What the grants cannot pay
 * is the shortfall; a consumption is allowed only without one.
 *
 * Read in this order: the subscription (by the caller), the drafts, then the grants.
 * An invoice finalized in between is then counted twice (as a draft, and by the grants it
 * emptied), never missed: the error only ever refuses.
 */
export class UsageCover implements CreditCover {
  constructor(
    private readonly ctx: EngineContext,
    private readonly invoices: Pick<InvoiceService, 'usageCharges' | 'config'>,
  ) {}

  async check(scope: Scope, sub: Subscription, at: Date, period: BillingPeriod, add: { featureKey: string; quantity: string }): Promise<CreditsAnswer> {
    const { store } = this.ctx;
    const grace = this.invoices.config.finalizeGraceMs;
    const claims: Claim[] = [];
    // One after the other: they run on the consumption's transaction (one connection).
    const drafts = await store.invoices.listDraftsByCustomer(scope, sub.customerId);
    for (const d of drafts) {
      if (d.currency !== sub.currency || d.billingReason === TOP_UP || d.amountDue <= 0) continue;
      claims.push({ lines: d.lines, inclusive: d.taxInclusive, amount: d.amountDue, payAt: later(d.finalizeAt, at) });
    }
    for (const part of this.#unbilled(sub, at, period)) {
      const { lines, inclusive } = await this.invoices.usageCharges(scope, sub.customerId, sub.currency, part.usage, part.issueAt, part.last ? add : undefined);
      const amount = lines.reduce((sum, l) => sum + lineCharge(l, inclusive), 0);
      claims.push({ lines, inclusive, amount, payAt: new Date(later(part.issueAt, at).getTime() + grace) });
    }
    const wallet = await store.wallets.getByCustomer(scope, sub.customerId, sub.currency);
    const grants: WalletGrant[] = wallet ? (await store.wallets.liveGrants(scope, wallet.id)).map((g) => ({ ...g })) : [];
    const balance = grants.filter((g) => isLive(g, at)).reduce((sum, g) => sum + g.remaining, 0);

    let charged = 0;
    let covered = 0;
    for (const claim of claims) {
      charged += claim.amount;
      for (const use of allocate(grants, claim.payAt, claim.lines, claim.inclusive, claim.amount)) {
        use.grant.remaining -= use.amount; // the copies: the next claim pays from what is left
        covered += use.amount;
      }
    }
    return { currency: sub.currency, balance, charged, shortfall: charged - covered };
  }

  /** The usage not invoiced yet, as the invoices that will bill it; the last one gets the consumption. */
  #unbilled(sub: Subscription, at: Date, period: BillingPeriod): { usage: NonNullable<InvoiceBasis['usage']>; issueAt: Date; last: boolean }[] {
    const base = { overrides: sub.priceOverrides, timeZone: sub.timeZone };
    const current = {
      ...base,
      planId: sub.planId,
      quantity: sub.quantity,
      start: sub.unbilledFrom,
      end: sub.currentPeriodEnd,
      trial: sub.status === 'trialing',
    };
    if (at < sub.currentPeriodEnd) return [{ usage: current, issueAt: sub.currentPeriodEnd, last: true }];
    // The period ended; the billing cycle will bill it, then go on at the change due at
    // renewal (none at a trial's end: BillingCycle.nextInvoice).
    const change = sub.status !== 'trialing' ? sub.pendingChange : null;
    const end = later(period.end, new Date(at.getTime() + 1));
    return [
      { usage: current, issueAt: sub.currentPeriodEnd, last: false },
      {
        usage: { ...base, planId: change?.planId ?? sub.planId, quantity: change?.quantity ?? sub.quantity, start: sub.currentPeriodEnd, end, trial: false },
        issueAt: end,
        last: true,
      },
    ];
  }
}

const later = (a: Date, b: Date) => (a > b ? a : b);
