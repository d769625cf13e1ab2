import type { Feature, Invoice, InvoiceLine, Plan, Subscription } from '../../ledger';
import { subscriptionStatus, type StatusView } from './status';

/**
 * The /portal/plans page as pure functions of what the engine answered: each plan as a
 * pricing card (its features in words), the customer's subscription on it, and a change's
 * preview (what is charged now, what the next invoice will be).
 */

const count = (n: number) => n.toLocaleString('en-US');

export interface FeatureView {
  key: string;
  name: string;
  kind: Feature['kind'];
  /** "100,000 calls included, then billed", "Up to 10,000 calls", "3 seats included", "Included" / "Not included". */
  text: string;
  /** Boolean features: on or off; the others are always "on". */
  included: boolean;
}

function unitsOf(n: number, unit: string | undefined, fallback: string): string {
  const u = unit || fallback;
  return `${count(n)} ${n === 1 ? u : `${u}s`}`;
}

/** A major-unit decimal price ("8") in its currency: "$8.00". */
const priceText = (unitPrice: string, currency: string) => new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(Number(unitPrice));

export function featureView(f: Feature, currency = 'USD'): FeatureView {
  if (f.kind === 'boolean') return { key: f.key, name: f.name, kind: f.kind, text: f.enabled ? 'Included' : 'Not included', included: f.enabled };
  if (f.kind === 'licensed') {
    const parts: string[] = [];
    if (f.includedUnits > 0) parts.push(`${unitsOf(f.includedUnits, 'seat', 'seat')} included`);
    if (f.price) parts.push(f.price.model === 'per_unit' ? `${priceText(f.price.unitPrice, currency)} a seat${f.includedUnits > 0 ? ' above that' : ''}` : 'priced per seat');
    if (f.limit !== null) parts.push(`at most ${unitsOf(f.limit, 'seat', 'seat')}`);
    return { key: f.key, name: f.name, kind: f.kind, text: parts.join(', ') || 'Per seat', included: true };
  }
  const parts: string[] = [];
  if (f.limit !== null) parts.push(`Up to ${unitsOf(f.limit, f.unitName, 'unit')} a period`);
  if (f.includedUnits > 0) parts.push(`${unitsOf(f.includedUnits, f.unitName, 'unit')} included`);
  if (f.price) parts.push(f.includedUnits > 0 || f.limit !== null ? 'then billed by use' : 'billed by use');
  if (parts.length === 0) parts.push('Unlimited');
  return { key: f.key, name: f.name, kind: f.kind, text: parts.join(', '), included: true };
}

/** The plan's licensed (per-seat) feature, if any: seats can be changed only with one. */
export function seatFeature(plan: Plan) {
  const f = plan.features.find((x) => x.kind === 'licensed');
  return f && f.kind === 'licensed' ? f : null;
}

export interface PlanCard {
  id: string;
  key: string;
  name: string;
  description: string;
  basePrice: number;
  currency: string;
  interval: Plan['interval'];
  trialDays: number;
  features: FeatureView[];
  /** Per-seat pricing: the seat feature's name and its cap. */
  seats: { name: string; included: number; limit: number | null } | null;
  current: boolean;
  /** A downgrade to it is scheduled for the period end. */
  scheduled: boolean;
}

export function planCard(plan: Plan, sub: Subscription | null, current: Plan | null): PlanCard {
  const seat = seatFeature(plan);
  return {
    id: plan.id,
    key: plan.key,
    name: plan.name,
    description: plan.description,
    basePrice: plan.basePrice,
    currency: plan.currency,
    interval: plan.interval,
    trialDays: plan.trialDays,
    features: plan.features.map((f) => featureView(f, plan.currency)),
    seats: seat ? { name: seat.name, included: seat.includedUnits, limit: seat.limit } : null,
    // Subscribed to an older version of the line counts as the line.
    current: current !== null && current.key === plan.key,
    scheduled: sub?.pendingChange !== null && sub?.pendingChange !== undefined && current !== null && current.key !== plan.key && sub.pendingChange.planId === plan.id,
  };
}

export interface SubscriptionCard {
  id: string;
  planKey: string;
  planName: string;
  status: StatusView;
  quantity: number;
  currentPeriod: { start: Date; end: Date };
  trialEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  coupon: string | null;
  /** A downgrade scheduled for the period end. */
  pendingChange: { planKey: string; planName: string; quantity: number; at: Date } | null;
}

export function subscriptionCard(sub: Subscription, plan: Plan, pending: Plan | null): SubscriptionCard {
  return {
    id: sub.id,
    planKey: plan.key,
    planName: plan.name,
    status: subscriptionStatus(sub),
    quantity: sub.quantity,
    currentPeriod: { start: sub.currentPeriodStart, end: sub.currentPeriodEnd },
    trialEnd: sub.status === 'trialing' ? sub.trialEnd : null,
    cancelAtPeriodEnd: sub.cancelAtPeriodEnd,
    coupon: sub.discount?.code ?? null,
    pendingChange: sub.pendingChange && pending ? { planKey: pending.key, planName: pending.name, quantity: sub.pendingChange.quantity, at: sub.currentPeriodEnd } : null,
  };
}

export interface LineView {
  description: string;
  amount: number;
}

/** An invoice as the confirmation dialog shows it: its lines (credits negative) and totals. */
export interface InvoicePreview {
  lines: LineView[];
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
  currency: string;
}

export function invoicePreview(inv: Pick<Invoice, 'lines' | 'subtotal' | 'discount' | 'tax' | 'total' | 'currency'>): InvoicePreview {
  return {
    lines: inv.lines.map((l: InvoiceLine) => ({ description: l.description, amount: l.amount })),
    subtotal: inv.subtotal,
    discount: inv.discount,
    tax: inv.tax,
    total: inv.total,
    currency: inv.currency,
  };
}

/** Why a customer leaves: the cancel dialog's choices (among Stripe's cancellation feedback), kept on the subscription as `cancellation_feedback`. */
export const CANCEL_REASONS = ['too_expensive', 'missing_features', 'switched_service', 'unused', 'other'] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];
export const CANCEL_REASON_LABELS: Record<CancelReason, string> = {
  too_expensive: 'Too expensive',
  missing_features: 'Missing features I need',
  switched_service: 'Switched to another service',
  unused: "I'm not using it enough",
  other: 'Other',
};

/** What ending the plan takes away: its features, in words ("API calls: 100,000 calls included"). */
export function losses(plan: Plan): string[] {
  return plan.features.filter((f) => f.kind !== 'boolean' || f.enabled).map((f) => `${f.name}: ${featureView(f, plan.currency).text}`);
}
