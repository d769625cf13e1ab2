import type { InvoiceStatus, SubscriptionStatus } from '../../ledger';

/**
 * The one status a page shows for an invoice or a subscription, and its tone. An open
 * invoice found past due (dunning's first failure, or a sent invoice's due date passed)
 * shows "Past due", as Stripe's portal does; an unpaid subscription is the one whose
 * features are refused.
 */
export type Tone = 'neutral' | 'info' | 'success' | 'warning' | 'danger';
export type DisplayStatus =
  | 'draft'
  | 'due'
  | 'past_due'
  | 'paid'
  | 'void'
  | 'uncollectible'
  | 'trialing'
  | 'active'
  | 'canceling'
  | 'unpaid'
  | 'canceled';

export interface StatusView {
  status: DisplayStatus;
  label: string;
  tone: Tone;
}

const VIEWS: Record<DisplayStatus, Omit<StatusView, 'status'>> = {
  draft: { label: 'Draft', tone: 'neutral' },
  due: { label: 'Due', tone: 'info' },
  past_due: { label: 'Past due', tone: 'danger' },
  paid: { label: 'Paid', tone: 'success' },
  void: { label: 'Void', tone: 'neutral' },
  uncollectible: { label: 'Uncollectible', tone: 'danger' },
  trialing: { label: 'Trial', tone: 'info' },
  active: { label: 'Active', tone: 'success' },
  canceling: { label: 'Cancels at period end', tone: 'warning' },
  unpaid: { label: 'Unpaid', tone: 'danger' },
  canceled: { label: 'Canceled', tone: 'neutral' },
};

export const statusView = (status: DisplayStatus): StatusView => ({ status, ...VIEWS[status] });

export function invoiceStatus(inv: { status: InvoiceStatus; pastDueAt: Date | null }): StatusView {
  if (inv.status === 'open') return statusView(inv.pastDueAt ? 'past_due' : 'due');
  return statusView(inv.status);
}

export function subscriptionStatus(sub: { status: SubscriptionStatus; cancelAtPeriodEnd: boolean }): StatusView {
  if (sub.status === 'past_due') return statusView('past_due');
  if ((sub.status === 'active' || sub.status === 'trialing') && sub.cancelAtPeriodEnd) return statusView('canceling');
  return statusView(sub.status);
}
