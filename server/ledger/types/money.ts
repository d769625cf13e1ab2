import Decimal from 'decimal.js';
import { invalid } from './errors';

/**
 * Money is an integer count of a currency's minor units (cents for USD, yen for JPY,
 * fils for KWD). Never a float. Amounts fit a JS safe integer (±9e15 minor units), far
 * above any invoice; every constructor checks it.
 *
 * Rounding rule, the only one in Ledger: when a decimal amount (a unit price times a
 * quantity, a percentage) becomes money, it is rounded once, to the currency's minor
 * unit, half away from zero ("half-up" for positive amounts): 0.125 USD -> 0.13,
 * -0.125 USD -> -0.13. `roundToMinor` is the one place that does it.
 *
 * A scope may choose half to even instead (banker's rounding: 0.125 -> 0.12, 0.135 ->
 * 0.14) for its invoice lines' amounts: the `RoundingMode` given to `roundToMinor`,
 * `fromMajor` and `multiply`. Only exact ties differ; every other amount rounds the same.
 */
export interface Money {
  readonly amount: number; // integer minor units
  readonly currency: Currency;
}

export type Currency = string & { readonly __currency: unique symbol };

// A private Decimal constructor so that no other decimal.js user changes our settings.
export const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
export type Dec = Decimal;

const knownCurrencies = new Set(Intl.supportedValuesOf('currency'));
const exponentCache = new Map<string, number>();

/**
 * Parses an ISO 4217 code. The list of codes and their exponents come from the ICU data
 * that ships with Node (`Intl`), which follows ISO 4217 (USD 2, JPY 0, KWD 3).
 */
export function currency(code: string): Currency {
  const upper = code.toUpperCase();
  if (!/^[A-Z]{3}$/.test(upper) || !knownCurrencies.has(upper)) {
    throw invalid(`unknown currency "${code}": expected an ISO 4217 code such as USD`, [
      { path: 'currency', message: `unknown currency "${code}"` },
    ]);
  }
  return upper as Currency;
}

export function isCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && knownCurrencies.has(code);
}

/** Number of decimal digits of the currency's minor unit. */
export function exponent(cur: Currency): number {
  let e = exponentCache.get(cur);
  if (e === undefined) {
    e = new Intl.NumberFormat('en-US', { style: 'currency', currency: cur }).resolvedOptions()
      .maximumFractionDigits ?? 2;
    exponentCache.set(cur, e);
  }
  return e;
}

function checkMinor(amount: number): number {
  if (!Number.isSafeInteger(amount)) {
    throw invalid(`money amount must be an integer number of minor units, got ${amount}`);
  }
  return amount === 0 ? 0 : amount; // no -0
}

export function money(amount: number, cur: Currency | string): Money {
  return { amount: checkMinor(amount), currency: typeof cur === 'string' ? currency(cur) : cur };
}

export const zero = (cur: Currency): Money => ({ amount: 0, currency: cur });

function sameCurrency(a: Money, b: Money): void {
  if (a.currency !== b.currency) {
    throw invalid(`cannot combine ${a.currency} and ${b.currency} amounts`);
  }
}

export function add(a: Money, b: Money): Money {
  sameCurrency(a, b);
  return { amount: checkMinor(a.amount + b.amount), currency: a.currency };
}

export function subtract(a: Money, b: Money): Money {
  sameCurrency(a, b);
  return { amount: checkMinor(a.amount - b.amount), currency: a.currency };
}

export function sum(cur: Currency, items: readonly Money[]): Money {
  return items.reduce(add, zero(cur));
}

/** How an exact amount becomes whole minor units at a tie: Ledger's default, or banker's. */
export const ROUNDING_MODES = ['half_away_from_zero', 'half_even'] as const;
export type RoundingMode = (typeof ROUNDING_MODES)[number];
export const DEFAULT_ROUNDING: RoundingMode = 'half_away_from_zero';

// decimal.js's ROUND_HALF_UP rounds ties away from zero (-0.5 -> -1), as its docs say.
const DECIMAL_ROUNDING: Record<RoundingMode, Decimal.Rounding> = {
  half_away_from_zero: Decimal.ROUND_HALF_UP,
  half_even: Decimal.ROUND_HALF_EVEN,
};

/** Rounds a decimal count of minor units to an integer: half away from zero unless told. */
export function roundToMinor(minorUnits: Dec, mode: RoundingMode = DEFAULT_ROUNDING): number {
  const rounding = DECIMAL_ROUNDING[mode];
  if (rounding === undefined) throw invalid(`unknown rounding mode "${mode}": expected ${ROUNDING_MODES.join(' or ')}`);
  return checkMinor(minorUnits.toDecimalPlaces(0, rounding).toNumber());
}

/** `a × factor`, with the factor exact (a string like "0.0645" or a Decimal). */
export function multiply(a: Money, factor: string | number | Dec, mode: RoundingMode = DEFAULT_ROUNDING): Money {
  const f = toDecimal(factor, 'factor');
  return { amount: roundToMinor(new Dec(a.amount).times(f), mode), currency: a.currency };
}

/**
 * Converts a price in major units (e.g. a unit price of "0.0004" USD) times a quantity
 * into money, rounding once at the end: 1,234,567 × 0.0004 USD = 493.8268 -> 493.83.
 */
export function fromMajor(major: string | number | Dec, cur: Currency, mode: RoundingMode = DEFAULT_ROUNDING): Money {
  const d = toDecimal(major, 'amount');
  return { amount: roundToMinor(d.times(new Dec(10).pow(exponent(cur))), mode), currency: cur };
}

/** Money as an exact decimal string in major units: 5399 USD -> "53.99". */
export function toMajorString(m: Money): string {
  return new Dec(m.amount).div(new Dec(10).pow(exponent(m.currency))).toFixed(exponent(m.currency));
}

/** `$53.99`, `¥500`, `KWD 1.250`, following the locale's conventions. */
export function format(m: Money, locale = 'en-US'): string {
  // The exact decimal string, not Number(…): a double holds ~15.9 significant digits, so
  // above ~10^15 minor units Number("90071992547409.01") printed "$90,071,992,547,409.02".
  // Intl.NumberFormat formats a numeric string exactly (ES2023, Node ≥ 19).
  return new Intl.NumberFormat(locale, { style: 'currency', currency: m.currency }).format(
    toMajorString(m) as Intl.StringNumericLiteral,
  );
}

/** Parses a decimal given as a string (or a finite number) without float arithmetic. */
export function toDecimal(value: string | number | Dec, what = 'value'): Dec {
  if (Decimal.isDecimal(value)) return value as Dec;
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw invalid(`${what} must be a finite number`);
  }
  // A finite number is taken as its shortest decimal form (what String() gives), but
  // String() writes very small or large numbers in exponent form (1e-7, 1e+21), which the
  // pattern below rejects; decimal.js reads that form exactly, so numbers go to it directly.
  if (typeof value === 'number') return new Dec(value);
  const s = String(value).trim();
  if (!/^-?\d+(\.\d+)?$/.test(s)) {
    throw invalid(`${what} must be a decimal number such as "0.0004", got "${s}"`);
  }
  return new Dec(s);
}
