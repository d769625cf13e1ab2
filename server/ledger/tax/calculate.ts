import { Dec, DEFAULT_ROUNDING, add, invalid, roundToMinor, subtract, sum, toDecimal, type Currency, type Money, type RoundingMode } from '../types';

/**
 * Tax per invoice line. Each line's tax is rounded on its own, once, in the scope's
 * rounding mode (half away from zero unless it chose half to even); the invoice's tax is
 * the sum of the rounded line taxes (as Stripe does: line taxes of exactly 0.0645 and
 * 0.7265 become 0.06 and 0.73, invoice tax 0.79). Only exact ties of half a minor unit
 * differ between the modes: 10 % of 1.25 is 12.5 cents, 13 or 12.
 * A credit line (negative amount) gets exactly the negative of the tax its positive
 * amount would get.
 */
export interface TaxRate {
  /** A percentage as a decimal string: "6.45" means 6.45 %. */
  percentage: string;
  /** True when line amounts already contain the tax (prices "incl. VAT"). */
  inclusive: boolean;
}

export interface LineTax {
  tax: Money;
  /** The amount without tax. */
  net: Money;
  /** What the customer pays for the line: net + tax. */
  total: Money;
}

/**
 * Exclusive: tax = amount × pct / 100; net = amount; total = amount + tax.
 * Inclusive: tax = amount − amount / (1 + pct/100), computed as the equal
 * amount × pct / (100 + pct) so only one division happens before the rounding;
 * net = amount − tax; total = amount.
 */
export function taxForLine(amount: Money, rate: TaxRate, rounding: RoundingMode = DEFAULT_ROUNDING): LineTax {
  const pct = percentage(rate.percentage);
  const exact = rate.inclusive
    ? new Dec(amount.amount).times(pct).div(pct.plus(100))
    : new Dec(amount.amount).times(pct).div(100);
  const tax: Money = { amount: roundToMinor(exact, rounding), currency: amount.currency };
  return rate.inclusive
    ? { tax, net: subtract(amount, tax), total: amount }
    : { tax, net: amount, total: add(amount, tax) };
}

export interface TaxableLine {
  amount: Money;
  rate: TaxRate;
}

export interface InvoiceTax {
  lines: LineTax[];
  /** Sum of the rounded line taxes, never the rounding of a summed exact tax. */
  tax: Money;
  net: Money;
  total: Money;
}

export function taxForLines(currency: Currency, lines: readonly TaxableLine[], rounding: RoundingMode = DEFAULT_ROUNDING): InvoiceTax {
  const taxed = lines.map((l) => taxForLine(l.amount, l.rate, rounding));
  return {
    lines: taxed,
    tax: sum(currency, taxed.map((t) => t.tax)),
    net: sum(currency, taxed.map((t) => t.net)),
    total: sum(currency, taxed.map((t) => t.total)),
  };
}

function percentage(value: string): Dec {
  const d = toDecimal(value, 'tax percentage');
  if (d.lt(0)) throw invalid(`tax percentage must not be negative, got "${value}"`);
  return d;
}
