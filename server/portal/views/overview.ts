import { oldestInvoiceFirst, type Customer, type Invoice, type PaymentMethod, type Plan, type Subscription, type UsageSummary } from '../../ledger';
import { isPayable } from './invoices';
import { subscriptionStatus, type StatusView } from './status';

/**
 * The portal's first page, as a pure function of what the engine answered: the plan and
 * its status, the next invoice, the default card, and what needs attention.
 */
const DAY_MS = 86_400_000;

/** Share of a metered limit at which the portal warns (the engine's soft-limit ratio). */
export const NEAR_LIMIT_RATIO = 0.8;

/**
 * Whole days left of a trial, counted up: 13 days and 1 hour left is "14 days" (as
 * Stripe counts), 0 once it has ended.
 */
export function trialDaysLeft(trialEnd: Date, now: Date): number {
  return Math.max(0, Math.ceil((trialEnd.getTime() - now.getTime()) / DAY_MS));
}

export type AlertKind = 'limit_reached' | 'near_limit' | 'past_due' | 'unpaid' | 'trial_ending';

export interface Alert {
  kind: AlertKind;
  tone: 'warning' | 'danger' | 'info';
  title: string;
  detail: string;
  /** The feature it is about, for usage alerts. */
  featureKey?: string;
  /** Usage alerts: used / limit, in whole percent (rounded down: 79.9 % is not 80 %). */
  percent?: number;
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * A metered feature with a limit at 100 % or more: "limit reached" (the engine refuses
 * more: used ≥ limit); at 80 % or more: "near its limit". Unlimited, boolean and seat
 * features never alert.
 */
export function usageAlerts(usage: UsageSummary): Alert[] {
  const alerts: Alert[] = [];
  for (const f of usage.features) {
    if (f.kind !== 'metered' || f.limit === null || f.used === null || f.limit <= 0) continue;
    const ratio = f.used / f.limit;
    const unit = f.unitName ? `${f.unitName}s` : 'units';
    const percent = Math.floor(ratio * 100);
    if (f.used >= f.limit) {
      alerts.push({ kind: 'limit_reached', tone: 'danger', featureKey: f.featureKey, percent, title: `${f.name}: limit reached`, detail: `${count(f.used)} of ${count(f.limit)} ${unit} used this period. More is refused until the period ends or the plan changes.` });
    } else if (ratio >= NEAR_LIMIT_RATIO) {
      alerts.push({ kind: 'near_limit', tone: 'warning', featureKey: f.featureKey, percent, title: `${f.name}: ${percent} % used`, detail: `${count(f.used)} of ${count(f.limit)} ${unit} used this period.` });
    }
  }
  return alerts;
}

export interface UpcomingInvoice {
  issueAt: Date;
  total: number;
  currency: string;
}

export interface OverviewInput {
  now: Date;
  customer: Pick<Customer, 'name' | 'email'>;
  subscription: Subscription | null;
  plan: Plan | null;
  upcoming: UpcomingInvoice | null;
  usage: UsageSummary;
  /** The customer's invoices asking for money (`ledger.invoices.listPayable`); any order, and others are left out here. */
  invoices: readonly Invoice[];
  methods: readonly PaymentMethod[];
}

export interface OverviewView {
  customer: { name: string; email: string };
  subscription: {
    id: string;
    planName: string;
    planKey: string;
    status: StatusView;
    quantity: number;
    basePrice: number;
    currency: string;
    interval: Plan['interval'];
    currentPeriod: { start: Date; end: Date };
    /** While trialing. */
    trial: { endsAt: Date; daysLeft: number } | null;
    /** A cancellation scheduled at the period end: the day access ends. */
    cancelsAt: Date | null;
    endedAt: Date | null;
  } | null;
  /** The next invoice, from its preview; null when none is coming (no subscription, or it ends). */
  nextInvoice: UpcomingInvoice | null;
  /** The oldest invoice still asking for money, to pay first. */
  toPay: { id: string; number: string | null; amountDue: number; currency: string; pastDue: boolean; dueAt: Date | null } | null;
  /** All that is owed, per currency. */
  owed: { currency: string; amount: number; invoices: number }[];
  paymentMethod: { brand: string; last4: string; expMonth: number; expYear: number; expired: boolean } | null;
  alerts: Alert[];
}

export function overviewView(input: OverviewInput): OverviewView {
  const { now, subscription: sub, plan } = input;
  const payable = input.invoices.filter(isPayable).sort(oldestInvoiceFirst);
  const owed = new Map<string, { amount: number; invoices: number }>();
  for (const inv of payable) {
    const o = owed.get(inv.currency) ?? { amount: 0, invoices: 0 };
    owed.set(inv.currency, { amount: o.amount + inv.amountDue, invoices: o.invoices + 1 });
  }
  const first = payable.find((i) => i.pastDueAt) ?? payable[0] ?? null;
  const method = input.methods.find((m) => m.isDefault && !m.detachedAt) ?? null;
  // A card is good through the last day of its expiry month.
  const expired = method ? new Date(Date.UTC(method.expYear, method.expMonth, 1)).getTime() <= now.getTime() : false;

  const live = sub && sub.status !== 'canceled' ? sub : null;
  const trial = live?.status === 'trialing' && live.trialEnd ? { endsAt: live.trialEnd, daysLeft: trialDaysLeft(live.trialEnd, now) } : null;

  const alerts: Alert[] = [];
  if (live?.status === 'unpaid') {
    alerts.push({ kind: 'unpaid', tone: 'danger', title: 'Your subscription is unpaid', detail: 'Every payment retry failed, so access to your plan is paused. Pay the open invoice to restore it.' });
  } else if (live?.status === 'past_due' || (first?.pastDueAt ?? null)) {
    alerts.push({ kind: 'past_due', tone: 'danger', title: 'A payment is past due', detail: 'We could not collect an invoice. Pay it now, or update your card, to keep your plan.' });
  }
  alerts.push(...usageAlerts(input.usage));
  if (trial && trial.daysLeft <= 3 && !method && !live?.cancelAtPeriodEnd) {
    alerts.push({ kind: 'trial_ending', tone: 'warning', title: `Your trial ends in ${trial.daysLeft} ${trial.daysLeft === 1 ? 'day' : 'days'}`, detail: 'Add a payment method to keep your plan after the trial.' });
  }

  return {
    customer: { name: input.customer.name, email: input.customer.email },
    subscription:
      sub && plan
        ? {
            id: sub.id,
            planName: plan.name,
            planKey: plan.key,
            status: subscriptionStatus(sub),
            quantity: sub.quantity,
            basePrice: sub.priceOverrides.basePrice ?? plan.basePrice,
            currency: plan.currency,
            interval: plan.interval,
            currentPeriod: { start: sub.currentPeriodStart, end: sub.currentPeriodEnd },
            trial,
            cancelsAt: live?.cancelAtPeriodEnd ? live.currentPeriodEnd : null,
            endedAt: sub.endedAt,
          }
        : null,
    nextInvoice: live ? input.upcoming : null,
    toPay: first ? { id: first.id, number: first.number, amountDue: first.amountDue, currency: first.currency, pastDue: first.pastDueAt !== null, dueAt: first.dueAt } : null,
    owed: [...owed].map(([currency, o]) => ({ currency, ...o })),
    paymentMethod: method ? { brand: method.brand, last4: method.last4, expMonth: method.expMonth, expYear: method.expYear, expired } : null,
    alerts,
  };
}
