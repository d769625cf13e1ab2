import type { PricingStrategies, TaxResult } from '../extensions/types';
import { AMOUNT_TERMS, COUNT_TERMS, minimumTrueUp, percentageTerms, pricePercentage, priceQuantity, type PricedCharge, type TransactionTerms, type TransactionTotals } from '../plan/pricing';
import { isPercentagePrice, type Feature, type Plan, type Price } from '../plan/types';
import { calendarPeriodFor, calendarShare } from '../subscription/calendar';
import { addInterval } from '../subscription/period';
import { prorate } from '../subscription/proration';
import type { PriceOverrides } from '../subscription/types';
import { taxForLine } from '../tax/calculate';
import { Dec, DEFAULT_ROUNDING, format, invalid, money, toMajorString, type Currency, type Money, type RoundingMode } from '../types';
import type { InvoiceBasis, InvoiceLine, InvoiceTaxRate } from './types';

/**
 * The billing rules that turn a subscription's period into invoice lines, as pure
 * functions (no storage, no clock): tested as a specification in tests/unit/invoice-build.test.ts.
 *
 * - Fees are billed in advance for the coming period: the plan's base price, each
 *   licensed feature (seats, priced by its model above its included units) and each
 *   metered feature priced `flat`.
 * - Metered usage is billed in arrears for the period that ended, priced by the
 *   feature's model above its included units; free during a trial.
 * - A subscription's price overrides replace the plan's base price or a feature's price.
 * - Each line's amount is rounded once (pricing.ts, proration.ts), in the scope's
 *   rounding mode. The coupon's discount is computed per line and never exceeds it; tax
 *   is computed per line on (amount − discount) and rounded per line, both in the same
 *   mode; the invoice's figures are the sums of its lines'.
 * - Minimums: a price's `minimum` lifts its feature's charge of a period to it with a
 *   true-up line (`minimum:<feature>`); the plan's `minimumCommitment` lifts the period's
 *   charges (before discounts and taxes) with "Minimum commitment true-up"
 *   (`minimum:plan`). Both are prorated when the usage period is part of a period.
 */
export interface Period {
  start: Date;
  end: Date;
}

const basePriceOf = (plan: Plan, overrides: PriceOverrides) => overrides.basePrice ?? plan.basePrice;
const priceOf = (feature: Feature, overrides: PriceOverrides): Price | undefined =>
  feature.kind === 'boolean' ? undefined : (overrides.features?.[feature.key] ?? feature.price);

function line(fields: Omit<InvoiceLine, 'discount' | 'tax'>): InvoiceLine {
  return { ...fields, discount: 0, tax: 0 };
}

/** The in-advance fees of a plan for a period: base fee, licensed seats, flat feature fees. */
export function advanceLines(plan: Plan, quantity: number, overrides: PriceOverrides, period: Period, rounding: RoundingMode = DEFAULT_ROUNDING): InvoiceLine[] {
  const lines: InvoiceLine[] = [];
  const base = basePriceOf(plan, overrides);
  if (base > 0) {
    lines.push(
      line({
        id: 'base_fee:plan',
        kind: 'base_fee',
        description: `${plan.name} plan`,
        featureKey: null,
        quantity: '1',
        unitPrice: toMajorString(money(base, plan.currency)),
        amount: base,
        periodStart: period.start,
        periodEnd: period.end,
      }),
    );
  }
  for (const feature of plan.features) {
    const price = priceOf(feature, overrides);
    if (!price) continue;
    if (feature.kind === 'licensed') {
      const priced = priceQuantity(price, String(quantity), feature.includedUnits, plan.currency, {}, rounding);
      const minimum = chargeMinimumLine(feature, price, priced.amount.amount, '1', period, plan.currency, rounding);
      if (priced.amount.amount === 0) {
        if (minimum) lines.push(minimum);
        continue; // seats within the included ones: nothing to bill
      }
      lines.push(
        line({
          id: `license:${feature.key}`,
          kind: 'license',
          description: `${feature.name} × ${quantity}`,
          featureKey: feature.key,
          quantity: String(quantity),
          unitPrice: price.model === 'per_unit' ? price.unitPrice : null,
          amount: priced.amount.amount,
          periodStart: period.start,
          periodEnd: period.end,
          ...(priced.tiers.length ? { tiers: priced.tiers } : {}),
        }),
      );
      if (minimum) lines.push(minimum);
    } else if (feature.kind === 'metered' && price.model === 'flat') {
      lines.push(
        line({
          id: `flat_fee:${feature.key}`,
          kind: 'flat_fee',
          description: feature.name,
          featureKey: feature.key,
          quantity: '1',
          unitPrice: toMajorString(money(price.amount, plan.currency)),
          amount: price.amount,
          periodStart: period.start,
          periodEnd: period.end,
        }),
      );
    }
  }
  return lines;
}

/** What usageLines needs besides the usage values. */
export interface UsageLineOptions {
  /** The scope's rounding mode (half away from zero by default). */
  rounding?: RoundingMode;
  /** Percentage-priced features' transactions in the period, by feature key (usageQueries). */
  transactions?: ReadonlyMap<string, TransactionTotals>;
  /** The part of a full period the usage period covers (periodFraction): prorates minimums. */
  fraction?: Dec | string;
}

/**
 * Metered usage in arrears: one line per priced metered feature (flat fees are in
 * advance), and after it its minimum's true-up when the charge falls short. A percentage
 * price is priced from its transactions (options.transactions), a graduated percentage
 * from the summed amount (the feature's value in `values`, see usageQueries).
 */
export function usageLines(
  plan: Plan,
  overrides: PriceOverrides,
  period: Period,
  values: ReadonlyMap<string, string>,
  strategies: PricingStrategies = {},
  options: UsageLineOptions = {},
): InvoiceLine[] {
  const rounding = options.rounding ?? DEFAULT_ROUNDING;
  const lines: InvoiceLine[] = [];
  for (const feature of plan.features) {
    if (feature.kind !== 'metered') continue;
    const price = priceOf(feature, overrides);
    if (!price || price.model === 'flat') continue;
    const used = values.get(feature.key) ?? '0';
    let priced: PricedCharge;
    let description: string;
    if (price.model === 'percentage') {
      const totals = options.transactions?.get(feature.key);
      if (!totals) throw invalid(`feature "${feature.key}" has a percentage price: its invoice line needs the period's transactions (usageQueries)`);
      priced = pricePercentage(price, totals, plan.currency, rounding);
      // "Card payments: 3 transactions, 511 USD at 2.9% + $0.30 each"
      const fee = price.fixedFee ? ` + ${format(money(price.fixedFee, plan.currency))} each` : '';
      description = `${feature.name}: ${totals.count} ${totals.count === '1' ? 'transaction' : 'transactions'}, ${priced.quantity} ${plan.currency} at ${price.rate}%${fee}`;
    } else {
      priced = priceQuantity(price, used, feature.includedUnits, plan.currency, strategies, rounding);
      const unit = price.model === 'graduated_percentage' ? plan.currency : (feature.unitName ?? 'units');
      description = `${feature.name}: ${used} ${unit}${feature.includedUnits ? ` (${feature.includedUnits} included)` : ''}`;
    }
    lines.push(
      line({
        id: `usage:${feature.key}`,
        kind: 'usage',
        description,
        featureKey: feature.key,
        quantity: priced.quantity,
        unitPrice: price.model === 'per_unit' ? price.unitPrice : null,
        amount: priced.amount.amount,
        periodStart: period.start,
        periodEnd: period.end,
        ...(priced.tiers.length ? { tiers: priced.tiers } : {}),
      }),
    );
    const minimum = chargeMinimumLine(feature, price, priced.amount.amount, options.fraction ?? '1', period, plan.currency, rounding);
    if (minimum) lines.push(minimum);
  }
  return lines;
}

// -- minimums, percentage charges ----------------------------------------------------

/** A price's minimum per period, when its charge falls short: the true-up line. */
function chargeMinimumLine(feature: Feature, price: Price, charged: number, fraction: Dec | string, period: Period, cur: Currency, rounding: RoundingMode): InvoiceLine | null {
  const minimum = 'minimum' in price ? price.minimum : undefined;
  if (minimum === undefined || minimum === 0) return null;
  const amount = minimumTrueUp(minimum, charged, fraction, rounding);
  if (amount === 0) return null;
  return line({
    id: `minimum:${feature.key}`,
    kind: 'minimum',
    description: `${feature.name}: minimum of ${format(money(minimum, cur))} per period, true-up`,
    featureKey: feature.key,
    quantity: '1',
    unitPrice: null,
    amount,
    periodStart: period.start,
    periodEnd: period.end,
  });
}

/**
 * The part of a full billing period that a usage period covers, for prorating minimums.
 * - A period that ends on a calendar boundary of the customer's zone (calendar billing's
 *   first, short period; UTC without a zone) counts local days, the start day included,
 *   as its fees were prorated (calendarShare, Lago's rule): from August 10 it is 22/31.
 * - Any other short period counts seconds against one interval from its start: a
 *   cancellation 5 days into a 31-day month is 5/31.
 * A whole period gives 1; never more.
 */
export function periodFraction(plan: Pick<Plan, 'interval'>, period: Period, timeZone: string | null = null): Dec {
  const span = period.end.getTime() - period.start.getTime();
  if (span <= 0) return new Dec(0);
  const calendar = calendarPeriodFor(new Date(period.end.getTime() - 1), plan.interval, timeZone);
  if (calendar.end.getTime() === period.end.getTime() && calendar.start.getTime() <= period.start.getTime()) {
    const { part, whole } = calendarShare(period.start, calendar, timeZone);
    return part >= whole ? new Dec(1) : new Dec(part).div(whole);
  }
  const full = addInterval(period.start, plan.interval, 1).getTime() - period.start.getTime();
  return span >= full ? new Dec(1) : new Dec(span).div(full);
}

/**
 * The plan's minimum commitment for the usage period, when its charges fall short: the
 * "Minimum commitment true-up" line. What counts, before discounts and taxes (as Lago):
 * the period's usage lines (their own minimums included) and the fees in advance that
 * paid for the period (base fee, seats, flat feature fees, as `fees` gives them, for a
 * whole period), prorated like the commitment. max(0, C × f − usage − fees × f), rounded
 * once. A subscription's override replaces the plan's commitment (null removes it).
 */
export function commitmentLine(
  plan: Plan,
  overrides: PriceOverrides,
  period: Period,
  usage: readonly InvoiceLine[],
  fees: readonly InvoiceLine[],
  rounding: RoundingMode = DEFAULT_ROUNDING,
  fraction: Dec = periodFraction(plan, period),
): InvoiceLine | null {
  const commitment = overrides.minimumCommitment !== undefined ? overrides.minimumCommitment : (plan.minimumCommitment ?? null);
  if (commitment === null || commitment === 0) return null;
  const feesTotal = fees.reduce((a, l) => a + l.amount, 0);
  const charged = fraction.times(feesTotal).plus(usage.reduce((a, l) => a + l.amount, 0));
  const amount = minimumTrueUp(commitment, charged, fraction, rounding);
  if (amount === 0) return null;
  return line({
    id: 'minimum:plan',
    kind: 'minimum',
    description: 'Minimum commitment true-up',
    featureKey: null,
    quantity: '1',
    unitPrice: null,
    amount,
    periodStart: period.start,
    periodEnd: period.end,
  });
}

/**
 * Multi-currency: a plan's minimum commitment is an amount in its main currency. Priced
 * in another currency (pricesIn) it applies only as that currency's set states it
 * (`minimumCommitment` in the set, minor units of that currency); a set that states
 * none has no commitment, never the main currency's number read as another currency's.
 */
export function commitmentIn(priced: Plan, main: Plan): Plan {
  if (priced.currency === main.currency) return priced;
  const set = (main.currencyPrices ?? []).find((c) => c.currency === priced.currency) as { minimumCommitment?: number | null } | undefined;
  return { ...priced, minimumCommitment: set?.minimumCommitment ?? null };
}

/** One read of the usage store that usageLines needs for a feature. */
export interface ChargeQuery {
  featureKey: string;
  /** `value`: the feature's usage value; the rest fill its transaction totals. */
  reads: 'value' | keyof TransactionTotals;
  transactions: TransactionTerms;
}

/**
 * The transaction sums a plan's percentage-priced features need (the usage store answers
 * them per event, in SQL): for a percentage price its count, summed amount and charge;
 * for a graduated percentage the summed amount, which is its usage value.
 */
export function chargeQueries(plan: Plan, overrides: PriceOverrides): ChargeQuery[] {
  const out: ChargeQuery[] = [];
  for (const feature of plan.features) {
    if (feature.kind !== 'metered' || feature.aggregator !== undefined) continue;
    const price = priceOf(feature, overrides);
    if (!isPercentagePrice(price)) continue;
    const property = feature.amountProperty;
    if (!property) throw invalid(`feature "${feature.key}" has a ${price.model} price but no amountProperty to read transaction amounts from`);
    if (price.model === 'graduated_percentage') {
      out.push({ featureKey: feature.key, reads: 'value', transactions: AMOUNT_TERMS(property) });
    } else {
      out.push({ featureKey: feature.key, reads: 'count', transactions: COUNT_TERMS(property) });
      out.push({ featureKey: feature.key, reads: 'amount', transactions: AMOUNT_TERMS(property) });
      out.push({ featureKey: feature.key, reads: 'charge', transactions: percentageTerms(price, property, plan.currency) });
    }
  }
  return out;
}

// -- end of minimums, percentage charges ---------------------------------------------

/**
 * A mid-period change of in-advance fees at `at`: for every old fee a credit for the part
 * of the period left, for every new fee a charge for it, each prorated by seconds and
 * rounded on its own in the scope's mode (proration.ts). Stripe's example: 10 → 20 USD at
 * mid-period gives −5.00 and +10.00, net +5.00.
 */
export function prorationLinesFor(
  oldFees: readonly InvoiceLine[],
  newFees: readonly InvoiceLine[],
  period: Period,
  at: Date,
  currency: Currency,
  startIndex = 0,
  rounding: RoundingMode = DEFAULT_ROUNDING,
): InvoiceLine[] {
  const out: InvoiceLine[] = [];
  let i = startIndex;
  const remaining = { start: at < period.start ? period.start : at, end: period.end };
  for (const [fees, sign, label] of [
    [oldFees, -1, 'Unused time on'],
    [newFees, 1, 'Remaining time on'],
  ] as const) {
    for (const fee of fees) {
      const amount = prorate(money(sign * fee.amount, currency), period, at, rounding).amount;
      if (amount === 0) continue;
      out.push(
        line({
          id: `proration:${i++}`,
          kind: 'proration',
          description: `${label} ${fee.description}`,
          featureKey: fee.featureKey,
          quantity: fee.quantity,
          unitPrice: fee.unitPrice,
          amount,
          periodStart: remaining.start,
          periodEnd: remaining.end,
        }),
      );
    }
  }
  return out;
}

/**
 * An invoice's period, as Stripe's: the usage period the invoice closes, billed in
 * arrears. At a period boundary that is the period that just ended (a billing period, or
 * a trial, whose usage is free); at a cancellation or a change of interval, the part of
 * the period up to that instant. So the periods of a subscription's consecutive invoices
 * never overlap and leave no gap: a trial from Jan 1 to Jan 15 and monthly periods after
 * it give [Jan 1, Jan 15), [Jan 15, Feb 15), [Feb 15, Mar 15) ….
 *
 * An invoice that closes no usage period (the first invoice of a subscription, the
 * prorations of a mid-period change) has an empty period at its issue instant:
 * [issueAt, issueAt). What each line bills is its own service period (`InvoiceLine`'s
 * periodStart and periodEnd): the coming period for fees in advance, the period that
 * ended for usage, the rest of the period for a proration.
 */
export function invoicePeriod(basis: Pick<InvoiceBasis, 'usage'>, issueAt: Date): Period {
  return basis.usage ? { start: basis.usage.start, end: basis.usage.end } : { start: issueAt, end: issueAt };
}

export interface TaxChoice {
  rate: InvoiceTaxRate | null;
  /** Why no tax applies, when it does not. */
  note: string | null;
}

export interface InvoiceFigures {
  lines: InvoiceLine[];
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
  taxInclusive: boolean;
}

/**
 * Discounts and taxes the lines and sums them. `discountOf` gives each line's discount
 * from the positive lines' amounts (a coupon); credits (negative lines) are never
 * discounted. total = subtotal − discount + tax, or subtotal − discount when the rate is
 * inclusive (the tax is inside the prices). Each line's tax is rounded in `rounding`.
 */
export function finishLines(
  currency: Currency,
  lines: readonly InvoiceLine[],
  discountOf: ((amounts: Money[]) => Money[]) | null,
  tax: TaxChoice,
  rounding: RoundingMode = DEFAULT_ROUNDING,
): InvoiceFigures {
  const discounted = discountLines(currency, lines, discountOf);
  const rate = tax.rate;
  return figuresOf(discounted, {
    lines: discounted.map((l) => ({ id: l.id, tax: rate ? taxForLine(money(l.amount - l.discount, currency), rate, rounding).tax.amount : 0 })),
    inclusive: rate?.inclusive ?? false,
  });
}

/**
 * The lines with the coupon's discount: `discountOf` gives each line's discount from the
 * positive lines' amounts; credits (negative lines) are never discounted, and no
 * discount exceeds its line. Tax is still 0: taxes come next (figuresOf).
 */
export function discountLines(
  currency: Currency,
  lines: readonly InvoiceLine[],
  discountOf: ((amounts: Money[]) => Money[]) | null,
): InvoiceLine[] {
  // Held prorations bring their own discount; the coupon spreads over the other lines.
  const positive = lines.map((l, i) => [l, i] as const).filter(([l]) => l.amount > 0 && l.heldDiscount === undefined);
  const discounts = lines.map((l) => (l.heldDiscount !== undefined && l.amount > 0 ? Math.min(l.amount, Math.max(0, l.heldDiscount)) : 0));
  if (discountOf && positive.length > 0) {
    const parts = discountOf(positive.map(([l]) => money(l.amount, currency)));
    positive.forEach(([l, i], k) => (discounts[i] = Math.min(l.amount, Math.max(0, parts[k]!.amount))));
  }
  return lines.map((l, i) => ({ ...l, discount: discounts[i]!, tax: 0 }));
}

/**
 * Discounted lines with their taxes (a tax calculator's answer, one per line in order),
 * summed: total = subtotal − discount + tax, or subtotal − discount when the taxes are
 * inclusive (inside the prices).
 */
export function figuresOf(discounted: readonly InvoiceLine[], taxes: Pick<TaxResult, 'lines' | 'inclusive'>): InvoiceFigures {
  const done = discounted.map((l, i) => {
    const t = taxes.lines[i]!;
    return { ...l, tax: t.tax, ...(t.rateName ? { taxName: t.rateName } : {}) };
  });
  const subtotal = done.reduce((a, l) => a + l.amount, 0);
  const discount = done.reduce((a, l) => a + l.discount, 0);
  const taxTotal = done.reduce((a, l) => a + l.tax, 0);
  return {
    lines: done,
    subtotal,
    discount,
    tax: taxTotal,
    total: subtotal - discount + (taxes.inclusive ? 0 : taxTotal),
    taxInclusive: taxes.inclusive,
  };
}
