import { exponent, toMajorString, money, type Currency } from '../ledger';

/**
 * The invoice PDF's one money formatter: integer minor units to major units by the
 * currency's exponent (JPY 0, USD 2, KWD 3; the engine's exact decimal string, never a
 * float), then Intl.NumberFormat in the currency. Every amount the PDF prints goes through
 * it, so "$58.80" on the PDF is the invoice's 5880 and nothing else.
 *
 * `display: 'code'` is for currencies whose symbol the PDF's standard font cannot draw
 * (see pdfCurrencyDisplay): "INR 1,000.00" instead of a wrong glyph.
 */
export function moneyText(minor: number, cur: Currency, display: 'symbol' | 'code' = 'symbol'): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: cur, currencyDisplay: display }).format(
    toMajorString(money(minor, cur)) as Intl.StringNumericLiteral,
  );
}

/**
 * A unit price, an exact decimal in major units ("0.0004"): in the currency, with every
 * digit it has and at least the currency's own ("$0.0004", "$5.00", "¥3").
 */
export function unitPriceText(major: string, cur: Currency, display: 'symbol' | 'code' = 'symbol'): string {
  const digits = major.includes('.') ? major.length - major.indexOf('.') - 1 : 0;
  const e = exponent(cur);
  return new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency: cur,
    currencyDisplay: display,
    minimumFractionDigits: e,
    maximumFractionDigits: Math.min(20, Math.max(e, digits)),
  }).format(major as Intl.StringNumericLiteral);
}

/** A quantity, an exact decimal ("1234567", "2.5"): grouped, every digit kept. */
export function quantityText(q: string): string {
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: 20 }).format(q as Intl.StringNumericLiteral);
}

/** "January 15, 2025", in UTC: the day the engine's dates name (as the hosted pages). */
export const dateText = (d: Date) => new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' }).format(d);

/** "Jan 15 – Feb 15, 2025": a half-open period, as the hosted pages show it (the end is where the next period starts). */
export const periodText = (start: Date, end: Date) =>
  new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' }).formatRange(start, end);

/**
 * Text as the PDF prints it: Intl's no-break and thin spaces (in "KWD 1.250", in a date
 * range) become plain spaces, which is what a reader of the PDF's text gets back.
 */
export const printable = (s: string) => s.replace(/[\u00a0\u2007\u2009\u202f]/g, ' ');
