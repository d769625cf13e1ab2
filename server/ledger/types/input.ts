import { z } from 'zod';

/**
 * The shared schemas for text and time at every boundary (tRPC inputs, `POST /api/meter`,
 * the CLI): one definition of what PostgreSQL can store, so a bad value is a 400 that
 * names its field, never a 500 from the database and never a silent rewrite.
 */

/**
 * NUL (text and jsonb columns refuse it) and an unpaired UTF-16 surrogate (jsonb refuses
 * it; text columns would silently store U+FFFD instead, so a read would differ from what
 * was written).
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const UNSTORABLE_TEXT_MESSAGE = 'must not contain NUL characters or unpaired surrogates';

export const isStorableText = (s: string): boolean => !UNSTORABLE.test(s);

/** A string PostgreSQL stores as given, at most `max` characters (UTF-16 units). */
export const text = (max: number) => z.string().max(max).refine(isStorableText, UNSTORABLE_TEXT_MESSAGE);

/** The same, and not empty. */
export const requiredText = (max: number) => text(max).pipe(z.string().min(1, 'must not be empty'));

/** Metadata: string keys and values, both storable; at most 50 keys, as Stripe allows. */
export const metadataSchema = z
  .record(text(100), text(500))
  .refine((m) => Object.keys(m).length <= 50, 'at most 50 keys');

/**
 * Every instant Ledger accepts lies in [1970-01-01, 9999-12-31]: before it, epoch
 * arithmetic goes negative; after it, PostgreSQL's timestamptz and ISO 8601 text stop.
 */
export const MIN_INSTANT = new Date('1970-01-01T00:00:00.000Z');
export const MAX_INSTANT = new Date('9999-12-31T23:59:59.999Z');

/**
 * RFC 3339 date-time, strictly: a date, `T`, a time, optional fractions and a zone (`Z`
 * or `±hh:mm`). Calendar validity is checked separately (no February 30).
 */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** The instant an RFC 3339 string names, or null when the string is not one. */
export function parseRfc3339(s: string): Date | null {
  const m = RFC3339.exec(s);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null; // no leap seconds: JS dates have none
  if (m[9] && (Number(m[10]) > 23 || Number(m[11]) > 59)) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

const inRange = (d: Date) => d.getTime() >= MIN_INSTANT.getTime() && d.getTime() <= MAX_INSTANT.getTime();
const RANGE_MESSAGE = 'must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z';

/**
 * An instant: a Date (tRPC's superjson carries Dates) or an RFC 3339 string such as
 * `2026-11-25T14:00:00Z`. Numbers, booleans, null, `2026-02-30…` and dates outside
 * [1970, 9999] are refused with a message that says what is expected.
 */
export const instant = z
  .union([z.date(), z.string()], {
    error: (issue) =>
      issue.input === undefined ? 'required: an RFC 3339 date-time such as 2026-11-25T14:00:00Z' : 'expected an RFC 3339 date-time such as 2026-11-25T14:00:00Z',
  })
  .transform((v, ctx) => {
    const d = typeof v === 'string' ? parseRfc3339(v) : Number.isNaN(v.getTime()) ? null : v;
    if (!d) {
      ctx.addIssue({ code: 'custom', message: 'expected an RFC 3339 date-time such as 2026-11-25T14:00:00Z' });
      return z.NEVER;
    }
    if (!inRange(d)) {
      ctx.addIssue({ code: 'custom', message: RANGE_MESSAGE });
      return z.NEVER;
    }
    return d;
  });
