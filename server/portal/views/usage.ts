import type { Feature, Invoice, InvoiceLine, Plan, Price, PriceOverrides, SeriesGranularity, Subscription, UsageSeries } from '../../ledger';
import { NEAR_LIMIT_RATIO } from './overview';

/**
 * The /portal/usage page as pure functions of what the engine answered: the periods a
 * customer can look at (the current one and every billed one), and for one period each
 * metered feature's usage against its included units and limit, its daily series and
 * its cost so far, the seats in use, and the plan's on/off features.
 */

const count = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 4 });

// --- the periods ----------------------------------------------------------------------

/** A period the customer can choose: the live subscription's current one, or one an invoice closed. */
export interface UsagePeriodChoice {
  /** What `?period=` names: the period's start as ISO 8601. */
  key: string;
  start: Date;
  end: Date;
  current: boolean;
  /** A trial's usage is free. */
  trial: boolean;
  subscriptionId: string;
  /** The plan version (and the subscriber's own prices) the period's usage is priced at. */
  planId: string;
  overrides: PriceOverrides;
  /** The invoice that billed an ended period's usage; null for the current period. */
  invoice: { id: string; number: string | null; status: Invoice['status'] } | null;
}

/** Periods: newest first, shown in the chooser. */
export interface PeriodListInput {
  /** The live subscription (not canceled), if any: its current period comes first. */
  live: Subscription | null;
  /** The customer's invoices, any order: each that closed a usage period names one. */
  invoices: readonly Invoice[];
}

/**
 * The current period of the live subscription, then each usage period an invoice closed
 * (newest first). An invoice that closes no usage (the first invoice, fees in advance
 * only) names none; of a voided invoice and its replacement for one period, the
 * replacement is kept; the current period wins over an invoice of a mid-period change
 * that starts with it (that invoice's usage is counted into the current period's cost).
 */
export function usagePeriods({ live, invoices }: PeriodListInput): UsagePeriodChoice[] {
  const byStart = new Map<number, UsagePeriodChoice>();
  if (live) {
    const start = live.currentPeriodStart;
    byStart.set(start.getTime(), {
      key: start.toISOString(),
      start,
      end: live.currentPeriodEnd,
      current: true,
      trial: live.status === 'trialing',
      subscriptionId: live.id,
      planId: live.planId,
      overrides: live.priceOverrides,
      invoice: null,
    });
  }
  for (const inv of invoices) {
    const usage = inv.basis.usage;
    if (!usage || !(inv.periodStart < inv.periodEnd)) continue;
    const at = inv.periodStart.getTime();
    const had = byStart.get(at);
    if (had && (had.current || (had.invoice && had.invoice.status !== 'void') || inv.status === 'void')) continue;
    byStart.set(at, {
      key: inv.periodStart.toISOString(),
      start: inv.periodStart,
      end: inv.periodEnd,
      current: false,
      trial: usage.trial,
      subscriptionId: inv.subscriptionId,
      planId: usage.planId,
      overrides: usage.overrides,
      invoice: { id: inv.id, number: inv.number, status: inv.status },
    });
  }
  return [...byStart.values()].sort((a, b) => b.start.getTime() - a.start.getTime());
}

/** The choice `?period=` names (its start, ISO 8601), or the newest when none is named; null when unknown. */
export function choosePeriod(choices: readonly UsagePeriodChoice[], start: string | undefined): UsagePeriodChoice | null {
  if (start === undefined) return choices[0] ?? null;
  const t = Date.parse(start);
  if (Number.isNaN(t)) return null;
  return choices.find((c) => c.start.getTime() === t) ?? null;
}

// --- one period -----------------------------------------------------------------------

export type UsageTone = 'ok' | 'over_included' | 'near_limit' | 'limit_reached';

export interface SeriesPoint {
  /** The bucket's UTC calendar start and end (a day, a week or a month)… */
  start: Date;
  end: Date;
  /** …and the part of the period it covers. */
  from: Date;
  to: Date;
  /** Null: not reached yet (the rest of the current period). */
  value: number | null;
  /** Exact, for the table of figures. */
  exact: string | null;
}

export interface CostView {
  /** Minor units; null when the feature's usage is not priced (included, or a flat fee). */
  amount: number | null;
  currency: string;
  /**
   * estimate: the current period's usage so far at the subscription's prices;
   * invoiced: the line of the invoice that billed the period; trial: free during a trial;
   * included: no usage price; flat: a fixed fee billed in advance; voided: the invoice was voided.
   */
  basis: 'estimate' | 'invoiced' | 'trial' | 'included' | 'flat' | 'voided';
  /** How the price reads: "$0.002 per call above 1,000 included". */
  priceText: string | null;
}

export interface MeteredView {
  key: string;
  name: string;
  unit: string;
  /** The exact aggregate over the period (so far), and as a number for the bar. */
  used: number;
  usedText: string;
  included: number;
  limit: number | null;
  /** used / limit in whole percent, rounded down (79.9 % is 79); null with no limit. */
  percent: number | null;
  /** The bar: the fill and the included marker as shares (0–100) of the bar's scale; null: no bar (unlimited, nothing included). */
  bar: { fill: number; includedAt: number | null; scale: number } | null;
  tone: UsageTone;
  /** One sentence under the bar: "1,200 of 1,000 included calls; 200 billed by use". */
  summary: string;
  /** Summed per day for sum and count; a day's peak, last value or distinct count otherwise. */
  aggregation: string;
  series: { granularity: SeriesGranularity; points: SeriesPoint[]; max: number; total: string };
  cost: CostView;
}

export interface SeatsView {
  key: string;
  name: string;
  seats: number;
  included: number;
  limit: number | null;
  /** seats / limit in whole percent; null with no limit. */
  percent: number | null;
  priceText: string | null;
}

export interface UsagePeriodView {
  period: {
    key: string;
    start: Date;
    end: Date;
    current: boolean;
    trial: boolean;
    /** Usage is counted up to here: now for the current period, its end for an ended one. */
    asOf: Date;
    invoice: UsagePeriodChoice['invoice'];
  };
  planName: string;
  currency: string;
  metered: MeteredView[];
  seats: SeatsView[];
  /** On/off features of the plan, listed plainly. */
  switches: { key: string; name: string; enabled: boolean }[];
  /** Σ metered costs that have an amount (minor units). */
  totalCost: number;
}

export interface UsagePeriodInput {
  choice: UsagePeriodChoice;
  plan: Plan;
  /** Usage counted up to here. */
  asOf: Date;
  /** The subscription's seats for the period. */
  quantity: number;
  /** Per metered feature key: the exact aggregate over [start, asOf). */
  used: ReadonlyMap<string, string>;
  series: ReadonlyMap<string, UsageSeries>;
  /**
   * The usage lines that price the period: the upcoming invoice's (so far) for the
   * current period with the lines of invoices already made in it, the invoice's for an
   * ended one. Summed per feature.
   */
  usageLines: readonly InvoiceLine[];
}

/** "1 call", "2 calls"; a unit in capitals (GB, MB) stays as it is. */
export const plural = (n: number, unit: string) => (n === 1 || !/^[a-z]/.test(unit) ? unit : `${unit}s`);

/** A major-unit decimal price ("0.0004") in its currency, exactly: "$0.0004"; "8" → "$8.00". */
export function unitPriceText(unitPrice: string, currency: string): string {
  const decimals = unitPrice.includes('.') ? unitPrice.split('.')[1]!.replace(/0+$/, '').length : 0;
  const base = new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return new Intl.NumberFormat('en-US', { style: 'currency', currency, minimumFractionDigits: base, maximumFractionDigits: Math.max(base, Math.min(decimals, 12)) }).format(
    unitPrice as Intl.StringNumericLiteral,
  );
}

/** Minor units as "$12.50", exactly (the digits are placed, never divided as a float). */
function moneyText(minor: number, currency: string): string {
  const e = new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  const digits = String(minor).padStart(e + 1, '0');
  return unitPriceText(e === 0 ? digits : `${digits.slice(0, -e)}.${digits.slice(-e)}`, currency);
}

/** "$0.002 per call above 1,000 included", "$5.00 per 1,000 calls", "Tiered: from $0.01 per call". */
export function priceWords(price: Price | undefined, included: number, unit: string, currency: string): string | null {
  if (!price) return null;
  const above = included > 0 ? ` above ${count(included)} included` : '';
  switch (price.model) {
    case 'flat':
      return `${moneyText(price.amount, currency)} a period, whatever the use`;
    case 'per_unit':
      return `${unitPriceText(price.unitPrice, currency)} per ${unit}${above}`;
    case 'package':
      return `${unitPriceText(price.packagePrice, currency)} per ${count(price.size)} ${plural(price.size, unit)}${above}`;
    case 'graduated':
    case 'volume': {
      const first = price.tiers[0]!;
      return `Tiered, from ${unitPriceText(first.unitPrice, currency)} per ${unit}${above}`;
    }
    case 'custom':
      // A pricing strategy of the merchant's own (an extension point): named, not described.
      return `Priced by ${price.strategy}${above}`;
    case 'percentage':
      return `${price.rate}% of each transaction${price.fixedFee ? ` + ${moneyText(price.fixedFee, currency)}` : ''}`;
    case 'graduated_percentage':
      return `Graduated percentage, from ${price.tiers[0]!.rate}% of the amount${above}`;
  }
}

const AGGREGATION_WORDS: Record<string, string> = {
  sum: 'Total per day',
  count: 'Events per day',
  max: 'Peak per day',
  latest: 'Last reading per day',
  unique_count: 'Distinct per day',
};

function priceOf(feature: Feature, overrides: PriceOverrides): Price | undefined {
  return feature.kind === 'boolean' ? undefined : (overrides.features?.[feature.key] ?? feature.price);
}

function meteredView(input: UsagePeriodInput, f: Extract<Feature, { kind: 'metered' }>): MeteredView {
  const { choice, plan } = input;
  const unit = f.unitName || 'unit';
  const usedText = input.used.get(f.key) ?? '0';
  const used = Number(usedText);
  const included = f.includedUnits;
  const limit = f.limit;
  const percent = limit !== null && limit > 0 ? Math.floor((used / limit) * 100) : limit === 0 ? 100 : null;

  let bar: MeteredView['bar'] = null;
  if (limit !== null || included > 0) {
    const scale = Math.max(limit ?? included, used, 1e-9);
    const at = included > 0 && included < scale ? (included / scale) * 100 : null;
    bar = { fill: Math.min(100, (used / scale) * 100), includedAt: at, scale };
  }
  const tone: UsageTone =
    limit !== null && used >= limit ? 'limit_reached' : limit !== null && limit > 0 && used / limit >= NEAR_LIMIT_RATIO ? 'near_limit' : included > 0 && used > included ? 'over_included' : 'ok';

  const u = (n: number) => `${count(n)} ${plural(n, unit)}`;
  const parts: string[] = [];
  if (limit !== null) parts.push(`${count(used)} of ${u(limit)} used`);
  else if (included > 0) parts.push(`${count(used)} of ${u(included)} included used`);
  else parts.push(`${u(used)} used, no limit`);
  if (included > 0 && used > included) parts.push(`${count(used - included)} above the included ${count(included)}`);
  else if (limit !== null && included > 0) parts.push(`${count(included)} included`);
  if (tone === 'limit_reached') parts.push('more is refused until the period ends or the plan changes');

  const points: SeriesPoint[] = (input.series.get(f.key)?.buckets ?? []).map((b) => ({
    start: b.start,
    end: b.end,
    from: b.from,
    to: b.to,
    value: b.value === null ? null : Number(b.value),
    exact: b.value,
  }));
  const price = priceOf(f, choice.overrides);
  // A feature's cost includes its minimum's true-up (a `minimum` line naming the feature).
  const lines = input.usageLines.filter((l) => (l.kind === 'usage' || l.kind === 'minimum') && l.featureKey === f.key);
  const priceText = priceWords(price, included, unit, plan.currency);
  let cost: CostView;
  if (!price) cost = { amount: null, currency: plan.currency, basis: 'included', priceText };
  else if (price.model === 'flat') cost = { amount: null, currency: plan.currency, basis: 'flat', priceText };
  else if (choice.trial) cost = { amount: 0, currency: plan.currency, basis: 'trial', priceText };
  else if (choice.invoice?.status === 'void') cost = { amount: null, currency: plan.currency, basis: 'voided', priceText };
  else cost = { amount: lines.reduce((s, l) => s + l.amount, 0), currency: plan.currency, basis: choice.current ? 'estimate' : 'invoiced', priceText };

  return {
    key: f.key,
    name: f.name,
    unit,
    used,
    usedText,
    included,
    limit,
    percent,
    bar,
    tone,
    summary: `${parts.join('; ')}.`,
    aggregation: AGGREGATION_WORDS[f.aggregation] ?? 'Per day',
    series: { granularity: input.series.get(f.key)?.granularity ?? 'day', points, max: Math.max(0, ...points.map((p) => p.value ?? 0)), total: usedText },
    cost,
  };
}

export function usagePeriodView(input: UsagePeriodInput): UsagePeriodView {
  const { choice, plan } = input;
  const metered: MeteredView[] = [];
  const seats: SeatsView[] = [];
  const switches: UsagePeriodView['switches'] = [];
  for (const f of plan.features) {
    if (f.kind === 'metered') metered.push(meteredView(input, f));
    else if (f.kind === 'licensed') {
      const price = priceOf(f, choice.overrides);
      seats.push({
        key: f.key,
        name: f.name,
        seats: input.quantity,
        included: f.includedUnits,
        limit: f.limit,
        percent: f.limit ? Math.floor((input.quantity / f.limit) * 100) : null,
        priceText: priceWords(price, f.includedUnits, 'seat', plan.currency),
      });
    } else switches.push({ key: f.key, name: f.name, enabled: f.enabled });
  }
  return {
    period: { key: choice.key, start: choice.start, end: choice.end, current: choice.current, trial: choice.trial, asOf: input.asOf, invoice: choice.invoice },
    planName: plan.name,
    currency: plan.currency,
    metered,
    seats,
    switches,
    totalCost: metered.reduce((s, m) => s + (m.cost.amount ?? 0), 0),
  };
}
