import type { BillingCycle } from '../billing/cycle';
import type { Subscription } from '../subscription/types';
import { illegalState, type Scope } from '../types';
import type { InvoiceService } from './service';
import type { BillingReason } from './types';

/**
 * The upcoming invoice of a subscription (Stripe's "upcoming invoice"): what its current
 * period's end would bill, with the usage so far, up to the customer's time (its test
 * clock's, if it is on one). Nothing is stored. The API's `invoices.preview` and the
 * portal's next-invoice card both read it here, so they cannot disagree.
 *
 * The billing cycle decides what the period end bills (`nextInvoice`), the invoice
 * service prices it (`compute`); this joins the two without either depending on the other.
 */
export interface UpcomingSources {
  billing: Pick<BillingCycle, 'nextInvoice'>;
  invoices: Pick<InvoiceService, 'compute'>;
  /** The time of the customer's objects (Ledger.now). */
  now(scope: Scope, customerId: string): Date;
}

export type UpcomingInvoice = { issueAt: Date; billingReason: BillingReason } & Awaited<ReturnType<InvoiceService['compute']>>;

/**
 * The preview, and whether the period end bills nothing at all (the last period of a
 * trial cancelled at its end: no fee in advance, its usage free, no proration), which a
 * page shows as "no next invoice" rather than an invoice of 0.00. A subscription that has
 * ended has no upcoming invoice: `illegal_state`.
 */
export async function upcomingInvoice(
  engine: UpcomingSources,
  scope: Scope,
  sub: Subscription,
): Promise<{ invoice: UpcomingInvoice; billsNothing: boolean }> {
  if (sub.status === 'canceled') throw illegalState(`subscription ${sub.id} has ended: it has no upcoming invoice`);
  const now = engine.now(scope, sub.customerId);
  const usageTo = now < sub.currentPeriodEnd ? now : sub.currentPeriodEnd;
  const next = await engine.billing.nextInvoice(scope, sub, usageTo);
  const computed = await engine.invoices.compute(scope, sub.customerId, sub.currency ?? next.plan.currency, next.basis, sub.currentPeriodEnd);
  const billsNothing = !next.basis.advance && next.basis.usage.trial && next.basis.prorations.length === 0;
  return { invoice: { issueAt: sub.currentPeriodEnd, billingReason: next.reason, ...computed }, billsNothing };
}
