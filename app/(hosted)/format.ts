import { format, money, type Currency } from '@/server/ledger';

/**
 * Words for the hosted pages. Money is formatted once, with Intl.NumberFormat in the
 * invoice's currency (through the engine's `format`, exact for every currency exponent).
 */
export const amountText = (minor: number, currency: Currency) => format(money(minor, currency));

/** "January 15, 2025", in UTC: the day the engine's dates name. */
export const dateText = (d: Date) => new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' }).format(d);

/** "Nov 26 – Dec 26, 2026": a billing period, as Stripe's invoices show it (the end is where the next period starts). */
export const periodText = (start: Date, end: Date) =>
  new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' }).formatRange(start, end);

const BRANDS: Record<string, string> = { visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', discover: 'Discover' };
export const brandText = (brand: string) => BRANDS[brand] ?? (brand === 'unknown' ? 'Card' : brand[0]!.toUpperCase() + brand.slice(1));

/** "Visa ending in 4242". */
export const cardText = (m: { brand: string; last4: string }) => `${brandText(m.brand)} ending in ${m.last4}`;
export const expiryText = (m: { expMonth: number; expYear: number }) => `${String(m.expMonth).padStart(2, '0')}/${String(m.expYear % 100).padStart(2, '0')}`;

/** The path (and query) of one of the app's own URLs, to redirect within the app whatever its public base URL. */
export function localPath(url: string): string {
  const u = new URL(url, 'http://app.invalid');
  return u.pathname + u.search;
}
