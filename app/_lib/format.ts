/**
 * Words for money and dates, for server and client components alike (Intl only: no
 * engine import, so a client component can use it). The hosted pages' format.ts could
 * use these too.
 */

const exponents = new Map<string, number>();

/** Digits of the currency's minor unit, as ISO 4217 (through Intl): USD 2, JPY 0, KWD 3. */
export function currencyExponent(currency: string): number {
  let e = exponents.get(currency);
  if (e === undefined) {
    e = new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    exponents.set(currency, e);
  }
  return e;
}

/** An integer of minor units as an exact decimal string in major units: 5399, USD → "53.99"; -5, USD → "-0.05". */
export function minorToMajor(minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor)) throw new Error(`money must be an integer of minor units, got ${minor}`);
  const e = currencyExponent(currency);
  const digits = Math.abs(minor).toString().padStart(e + 1, '0');
  const major = e === 0 ? digits : `${digits.slice(0, -e)}.${digits.slice(-e)}`;
  return minor < 0 ? `-${major}` : major;
}

/**
 * "$53.99", "¥500", "KWD 1.250": Intl.NumberFormat in the amount's own currency. The
 * exact decimal string is formatted (never a float division), so large amounts stay exact.
 */
export function formatMoney(minor: number, currency: string, locale = 'en-US'): string {
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(minorToMajor(minor, currency) as Intl.StringNumericLiteral);
}

/** "2026-11-26 13:23 UTC": an instant as the engine keeps it, for tooltips. */
export function utcText(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "2026-11-26 13:23 – 2026-12-26 13:23 UTC": a half-open period in UTC, for tooltips. */
export function utcPeriodText(start: Date, end: Date): string {
  return `${utcText(start).slice(0, -4)} – ${utcText(end)}`;
}
