import type { PricingStrategies } from '../extensions/types';
import type { Price } from './types';
import { Dec, DEFAULT_ROUNDING, exponent, fromMajor, invalid, roundToMinor, toDecimal, type Currency, type Money, type RoundingMode } from '../types';

/**
 * Pricing a feature's quantity for one period: the pure math behind an invoice line.
 *
 * Included units are taken off first; the price model then applies to the rest (the
 * "billable" quantity). Quantities may be decimals (12.5 GB). Every step is exact
 * decimal arithmetic in major units; the charge's total is rounded ONCE, by `fromMajor`
 * (half away from zero, to the currency's minor unit). Tiers are never rounded on their
 * own: two tiers of 0.005 USD each cost 0.01, not 0.02.
 *
 * Models:
 * - flat: the fixed `amount` every period, whatever the quantity, even 0: it is a fee
 *   for having the feature, not for using it.
 * - per_unit: billable × unitPrice.
 * - graduated: each tier's units at that tier's price, plus the tier's flat fee once any
 *   unit falls in it. Bounds are inclusive: with [{upTo: 100}, {upTo: null}] units 1–100
 *   are in tier 1, so 100.5 units are 100 in tier 1 and 0.5 in tier 2.
 * - volume: all billable units at the price of the tier the total falls in (100.5 falls
 *   in tier 2), plus that tier's flat fee; 0 units cost nothing, no fee.
 * - package: per started package: ceil(billable / size) × packagePrice.
 * - custom: the registered pricing strategy the price names, given the billable
 *   quantity and the price's params; its exact major-unit amount is rounded here, once.
 * - graduated_percentage (Lago's): the quantity is the period's summed transaction
 *   amount (major units); each tier's part of it at the tier's rate %, plus the tier's
 *   flat fee once reached: graduated tiers whose unit price is rate / 100.
 * - percentage (Lago's): priced per transaction, so from the store's per-event sum
 *   (pricePercentage below), never from a quantity.
 *
 * The rounding mode is the scope's (half away from zero unless it chose half to even).
 */

/** One tier's part of a tiered charge, as an invoice shows it. */
export interface TierCharge {
  /** Position of the tier in `price.tiers`, from 0. */
  tierIndex: number;
  /** The tier's inclusive upper bound in units; null for the last, unbounded tier. */
  upTo: number | null;
  /** Units priced in this tier (volume: all billable units), as a decimal string. */
  units: string;
  /** Price per unit in major units, as the plan states it. */
  unitPrice: string;
  /** Charged once because at least one unit fell in the tier. */
  flatFee: Money;
  /** units × unitPrice + flatFee, exact, in major units (not rounded). */
  exactAmount: string;
}

export interface PricedCharge {
  model: Price['model'];
  /** The quantity as measured, before included units. */
  quantity: string;
  includedUnits: number;
  /** quantity − includedUnits, never below 0: what the price model charges for. */
  billableQuantity: string;
  /** Package model only: the number of started packages. */
  packages?: string;
  /** Graduated: every tier reached; volume: the one tier the total falls in; else empty. */
  tiers: TierCharge[];
  /** The exact total in major units, before rounding. */
  exactAmount: string;
  /** The total rounded once to the currency's minor unit. */
  amount: Money;
}

export function priceQuantity(
  price: Price,
  quantity: string | Dec,
  includedUnits: number,
  currency: Currency,
  strategies: PricingStrategies = {},
  rounding: RoundingMode = DEFAULT_ROUNDING,
): PricedCharge {
  const measured = parseQuantity(quantity);
  if (!Number.isSafeInteger(includedUnits) || includedUnits < 0) {
    throw invalid(`included units must be a non-negative whole number, got ${includedUnits}`, [
      { path: 'includedUnits', message: 'must be a non-negative whole number' },
    ]);
  }
  const billable = Dec.max(measured.minus(includedUnits), 0);
  const { exact, tiers, packages } =
    price.model === 'custom' ? customCharge(price, billable, measured, includedUnits, currency, strategies) : priceBillable(price, billable, currency);
  return {
    model: price.model,
    quantity: measured.toFixed(),
    includedUnits,
    billableQuantity: billable.toFixed(),
    ...(packages === undefined ? {} : { packages: packages.toFixed() }),
    tiers,
    exactAmount: exact.toFixed(),
    amount: fromMajor(exact, currency, rounding),
  };
}

// -- minimums, percentage charges ----------------------------------------------------

type PercentagePrice = Extract<Price, { model: 'percentage' }>;

/**
 * What a percentage price asks of the usage store for one period, per event e with
 * amount a(e) (major units): Σ clamp(a(e) × rate + fixed, min, max). All decimal strings
 * in major units; min and max null when the price has none. The store computes it over
 * the raw events in SQL (PostgreSQL's numeric is exact), so the invoice reads one figure.
 */
export interface TransactionTerms {
  property: string;
  /** A fraction: 1.2 % is "0.012". */
  rate: string;
  fixed: string;
  min: string | null;
  max: string | null;
  /**
   * Free units, in the period's order of transactions (timestamp, then arrival): the
   * first `freeTransactions` (a whole number) and the first `freeAmount` (major units),
   * each when given, cost nothing; the transaction that crosses freeAmount is charged on
   * the part above it. Absent: none.
   */
  freeTransactions?: string | null;
  freeAmount?: string | null;
}

export function percentageTerms(price: PercentagePrice, property: string, cur: Currency): TransactionTerms {
  const rate = unitPrice(price.rate, 'rate');
  const major = (minor: number | undefined, what: string) => (minor === undefined ? null : minorToMajor(feeInMinor(minor, what), cur).toFixed());
  return {
    property,
    rate: rate.div(100).toFixed(),
    fixed: major(price.fixedFee ?? 0, 'fixedFee')!,
    min: major(price.minPerTransaction, 'minPerTransaction'),
    max: major(price.maxPerTransaction, 'maxPerTransaction'),
    ...(price.freeTransactions !== undefined || price.freeAmount !== undefined
      ? { freeTransactions: price.freeTransactions === undefined ? null : String(price.freeTransactions), freeAmount: major(price.freeAmount, 'freeAmount') }
      : {}),
  };
}

/** The transaction count and the summed amount: the same per-event sum with other terms. */
export const COUNT_TERMS = (property: string): TransactionTerms => ({ property, rate: '0', fixed: '1', min: null, max: null });
export const AMOUNT_TERMS = (property: string): TransactionTerms => ({ property, rate: '1', fixed: '0', min: null, max: null });

/** A period's transactions, as the store summed them (decimal strings). */
export interface TransactionTotals {
  /** Number of transactions (events). */
  count: string;
  /** Σ amounts, major units. */
  amount: string;
  /** Σ per-transaction charges (percentageTerms), major units, exact. */
  charge: string;
}

/** A percentage price's charge for a period: the store's exact sum, rounded once. */
export function pricePercentage(price: PercentagePrice, totals: TransactionTotals, currency: Currency, rounding: RoundingMode = DEFAULT_ROUNDING): PricedCharge {
  const exact = toDecimal(totals.charge, 'transaction charge');
  if (!exact.isFinite() || exact.lt(0)) throw invalid(`a percentage charge must be a non-negative decimal, got ${totals.charge}`);
  return {
    model: price.model,
    quantity: parseQuantity(totals.amount).toFixed(),
    includedUnits: 0,
    billableQuantity: parseQuantity(totals.amount).toFixed(),
    tiers: [],
    exactAmount: exact.toFixed(),
    amount: fromMajor(exact, currency, rounding),
  };
}

/**
 * The true-up that lifts a charge to its minimum, in minor units: max(0, minimum ×
 * fraction − charged), exact, rounded once. `fraction` is the part of a full period the
 * charge covers (1 for a whole period): a minimum of 100.00 over 22 of 31 days is owed
 * 70.97 (7096.77… cents).
 */
export function minimumTrueUp(minimum: number, charged: Dec | string | number, fraction: Dec | string = '1', rounding: RoundingMode = DEFAULT_ROUNDING): number {
  const f = toDecimal(fraction, 'period fraction');
  if (f.lt(0) || f.gt(1)) throw invalid(`a period fraction is between 0 and 1, got ${f.toFixed()}`);
  const short = new Dec(feeInMinor(minimum, 'minimum')).times(f).minus(toDecimal(charged, 'charged amount'));
  return short.lte(0) ? 0 : roundToMinor(short, rounding);
}

// -- end of minimums, percentage charges ---------------------------------------------

interface BillableCharge {
  exact: Dec;
  tiers: TierCharge[];
  packages?: Dec;
}

type CustomPrice = Extract<Price, { model: 'custom' }>;

/** A strategy's answer, checked: an exact, finite, non-negative decimal of major units. */
function customCharge(price: CustomPrice, billable: Dec, measured: Dec, includedUnits: number, currency: Currency, strategies: PricingStrategies): BillableCharge {
  const strategy = Object.hasOwn(strategies, price.strategy) ? strategies[price.strategy] : undefined;
  if (!strategy) throw unknownStrategy(price.strategy, strategies);
  const answer = strategy.price({ billable: new Dec(billable), quantity: new Dec(measured), includedUnits, currency, params: price.params ?? {} });
  const exact = Dec.isDecimal(answer) ? new Dec(answer as Dec) : toDecimal(String(answer), `the ${price.strategy} strategy's amount`);
  if (!exact.isFinite() || exact.lt(0)) {
    throw invalid(`pricing strategy "${price.strategy}" answered ${exact.toFixed()}: an amount is a finite, non-negative decimal`);
  }
  return { exact, tiers: [] };
}

/** The error for a price naming a strategy the engine was not given. */
export function unknownStrategy(name: string, strategies: PricingStrategies) {
  const known = Object.keys(strategies);
  return invalid(`unknown pricing strategy "${name}": ${known.length ? `the engine has ${known.map((k) => `"${k}"`).join(', ')}` : 'the engine was given none (createLedger({ pricing: { strategies } }))'}`, [
    { path: 'price.strategy', message: `no pricing strategy "${name}"` },
  ]);
}

function priceBillable(price: Exclude<Price, CustomPrice>, billable: Dec, cur: Currency): BillableCharge {
  switch (price.model) {
    case 'graduated_percentage':
      return graduatedCharge(
        price.tiers.map((t, i) => ({ upTo: t.upTo, unitPrice: unitPrice(t.rate, `tiers[${i}].rate`).div(100).toFixed(), flatFee: t.flatFee })),
        billable,
        cur,
      );
    case 'percentage':
      throw invalid('a percentage price is charged per transaction: it is priced from the usage store\'s per-event sum (pricePercentage), not from a quantity');
    case 'flat':
      return { exact: minorToMajor(feeInMinor(price.amount, 'amount'), cur), tiers: [] };
    case 'per_unit':
      return { exact: billable.times(unitPrice(price.unitPrice, 'unitPrice')), tiers: [] };
    case 'graduated':
      return graduatedCharge(price.tiers, billable, cur);
    case 'volume':
      return volumeCharge(price.tiers, billable, cur);
    case 'package': {
      if (!Number.isSafeInteger(price.size) || price.size <= 0) {
        throw invalid(`package size must be a positive whole number, got ${price.size}`);
      }
      const packages = billable.div(price.size).ceil();
      return { exact: packages.times(unitPrice(price.packagePrice, 'packagePrice')), tiers: [], packages };
    }
  }
}

type Tier = Extract<Price, { model: 'graduated' }>['tiers'][number];

function graduatedCharge(tiers: readonly Tier[], billable: Dec, cur: Currency): BillableCharge {
  checkTierBounds(tiers);
  const charges: TierCharge[] = [];
  let below = new Dec(0); // units already priced by the lower tiers
  for (const [i, tier] of tiers.entries()) {
    if (billable.lte(below)) break;
    const top = tier.upTo === null ? billable : Dec.min(billable, tier.upTo);
    charges.push(tierCharge(i, tier, top.minus(below), cur));
    below = top;
  }
  if (billable.gt(below)) throw noPriceAbove(tiers);
  return { exact: sumExact(charges), tiers: charges };
}

function volumeCharge(tiers: readonly Tier[], billable: Dec, cur: Currency): BillableCharge {
  checkTierBounds(tiers);
  if (billable.isZero()) return { exact: new Dec(0), tiers: [] };
  const i = tiers.findIndex((t) => t.upTo === null || billable.lte(t.upTo));
  const tier = tiers[i];
  if (!tier) throw noPriceAbove(tiers);
  const charge = tierCharge(i, tier, billable, cur);
  return { exact: new Dec(charge.exactAmount), tiers: [charge] };
}

function tierCharge(i: number, tier: Tier, units: Dec, cur: Currency): TierCharge {
  const price = unitPrice(tier.unitPrice, `tiers[${i}].unitPrice`);
  const fee = feeInMinor(tier.flatFee, `tiers[${i}].flatFee`);
  return {
    tierIndex: i,
    upTo: tier.upTo,
    units: units.toFixed(),
    unitPrice: tier.unitPrice,
    flatFee: { amount: fee, currency: cur },
    exactAmount: units.times(price).plus(minorToMajor(fee, cur)).toFixed(),
  };
}

const sumExact = (charges: readonly TierCharge[]) =>
  charges.reduce((total, c) => total.plus(c.exactAmount), new Dec(0));

/** Flat fees are minor units; dividing by 10^exponent is exact, so no rounding happens. */
const minorToMajor = (minor: number, cur: Currency) => new Dec(minor).div(new Dec(10).pow(exponent(cur)));

/**
 * The schema (plan/types.ts) already guarantees increasing bounds; prices built by hand
 * get the same check, since out-of-order bounds would price a negative number of units.
 */
function checkTierBounds(tiers: readonly Tier[]): void {
  if (tiers.length === 0) throw invalid('a tiered price needs at least one tier');
  tiers.forEach((t, i) => {
    const prev = tiers[i - 1];
    if (prev && (prev.upTo === null || (t.upTo !== null && t.upTo <= prev.upTo))) {
      throw invalid(`tier bounds must increase and only the last tier may be unbounded (tier ${i})`);
    }
  });
}

function noPriceAbove(tiers: readonly Tier[]) {
  const top = tiers[tiers.length - 1]?.upTo;
  return invalid(`units above ${top} have no price: the last tier must be unbounded (upTo: null)`);
}

function parseQuantity(q: string | Dec): Dec {
  const issue = (message: string) => invalid(`quantity ${message}`, [{ path: 'quantity', message }]);
  const d = Dec.isDecimal(q) ? (q as Dec) : toDecimal(q as string, 'quantity');
  if (!d.isFinite()) throw issue('must be a finite decimal number');
  if (d.lt(0)) throw issue(`must not be negative, got ${d.toFixed()}`);
  return d.isZero() ? new Dec(0) : new Dec(d); // no -0, and always our Decimal clone
}

function unitPrice(value: string, what: string): Dec {
  const d = toDecimal(value, what);
  if (d.lt(0)) throw invalid(`${what} must not be negative, got "${value}"`);
  return d;
}

function feeInMinor(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${what} must be a non-negative whole number of minor units, got ${value}`);
  }
  return value;
}
