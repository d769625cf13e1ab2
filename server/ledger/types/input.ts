import { z } from 'zod';
import { quote } from './errors';
import { isCountryCode } from './country';
import { ID_PREFIXES, isId, type Entity, type Id } from './ids';

export { ISO_COUNTRY_CODES, isCountryCode } from './country';

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


export interface TextOptions {
  /** Trim white space first (names, addresses); limits apply to the trimmed text. */
  trim?: boolean;
}

const storableString = (max: number, min: number, { trim = false }: TextOptions) => {
  let s = trim ? z.string().trim() : z.string();
  if (min > 0) s = s.min(min, 'must not be empty');
  return s.max(max, `must be at most ${max} characters`).refine(isStorableText, UNSTORABLE_TEXT_MESSAGE);
};

/** A string PostgreSQL stores as given, at most `max` characters (UTF-16 units). */
export const text = (max: number, options: TextOptions = {}) => storableString(max, 0, options);

/** The same, and not empty (after trimming, with `trim`). */
export const requiredText = (max: number, options: TextOptions = {}) => storableString(max, 1, options);

export interface RecordLimits {
  /** Most keys. */
  keys: number;
  /** Longest key, in characters. */
  keyLength: number;
}

/**
 * An object of string keys (storable, at most `keyLength` long, at most `keys` of them)
 * and values of `value`. Keys are checked before any value, and their issues are put on
 * the object itself (`metadata: key "a\u0000b" …`): a bad key never becomes part of an
 * issue's path, where it would come back whole; 10,000 keys are refused by their count
 * before one of them is parsed.
 */
export function boundedRecord<V extends z.ZodType>(value: V, limits: RecordLimits) {
  return z.preprocess<unknown, z.ZodRecord<z.ZodString, V>, Record<string, z.input<V>>>((input, ctx) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return input; // the record says what it expected
    const keys = Object.keys(input);
    if (keys.length > limits.keys) {
      ctx.addIssue({ code: 'custom', message: `at most ${limits.keys} keys, got ${keys.length}`, input });
      return input;
    }
    for (const key of keys) {
      const why =
        key.length > limits.keyLength
          ? `is longer than ${limits.keyLength} characters`
          : key.length === 0
            ? 'is empty'
            : !isStorableText(key)
              ? UNSTORABLE_TEXT_MESSAGE
              : null;
      if (why) ctx.addIssue({ code: 'custom', message: `key ${quote(key)} ${why}`, input });
    }
    return input;
  }, z.record(z.string(), value));
}

/** Metadata: string keys and values, both storable; at most 50 keys of at most 100 characters, values of at most 500, as Stripe allows. */
export const metadataSchema = boundedRecord(text(500), { keys: 50, keyLength: 100 });

/**
 * A country: an officially assigned ISO 3166-1 alpha-2 code (`ZZ`, `UK`, `EU` are not),
 * in any case, stored upper case ("gb" is "GB").
 */
export const countryCode = z
  .string()
  .trim()
  .toUpperCase()
  .superRefine((c, ctx) => {
    if (!isCountryCode(c)) {
      ctx.addIssue({ code: 'custom', message: `${quote(c, 8)} is not an ISO 3166-1 alpha-2 country code: expected one such as "US" or "GB"` });
    }
  });

/**
 * An entity id from outside (a TypeID of the entity's prefix), typed as that entity's id.
 * Its pattern admits no NUL, no surrogate and nothing longer than an id; the message shows
 * a short prefix of a bad one.
 */
export const idSchema = <E extends Entity>(entity: E) =>
  z.string().transform((v, ctx): Id<E> => {
    if (!isId(entity, v)) {
      ctx.addIssue({ code: 'custom', message: `expected a ${entity} id (${ID_PREFIXES[entity]}_…), got ${quote(v, 32)}` });
      return z.NEVER;
    }
    return v;
  });

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

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysIn = (year: number, month: number) => (month === 2 && isLeap(year) ? 29 : DAYS[month - 1]!);

/** The instant an RFC 3339 string names, or null when the string is not one. */
export function parseRfc3339(s: string): Date | null {
  const m = RFC3339.exec(s);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null; // no leap seconds: JS dates have none
  const offsetHours = m[9] ? Number(m[10]) : 0;
  const offsetMinutes = m[9] ? Number(m[11]) : 0;
  if (offsetHours > 23 || offsetMinutes > 59) return null;
  // Fractions beyond milliseconds are cut, as Date.parse does.
  const ms = m[7] ? Number(m[7].slice(1, 4).padEnd(3, '0')) : 0;
  // Not Date.UTC: it reads the years 0–99 as 1900–1999, and setting the year afterwards
  // moves February 29 of year 0 (a leap year) to March 1 (1900 is not one).
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  const offset = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  return new Date(d.getTime() - offset);
}

const inRange = (d: Date) => d.getTime() >= MIN_INSTANT.getTime() && d.getTime() <= MAX_INSTANT.getTime();
const RANGE_MESSAGE = 'must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z';

/**
 * An instant: a Date (tRPC's superjson carries Dates) or an RFC 3339 string such as
 * `2026-11-25T14:00:00Z`. Numbers, booleans, null, `2026-02-30…` and dates outside
 * [1970, 9999] are refused with a message that says what is expected.
 */
const EXAMPLE_INSTANT = 'an RFC 3339 date-time such as 2026-11-25T14:00:00Z';
const EXPECTED_INSTANT = `expected ${EXAMPLE_INSTANT}`;

const described = (v: unknown) =>
  v === null ? 'null' : v instanceof Date ? 'an invalid Date' : typeof v === 'string' ? quote(v, 32) : `a ${typeof v}`;

export const instant = z
  .custom<Date | string>((v) => typeof v === 'string' || v instanceof Date, {
    error: (issue) => (issue.input === undefined ? `required: ${EXAMPLE_INSTANT}` : `${EXPECTED_INSTANT}, got ${described(issue.input)}`),
  })
  .transform((v, ctx) => {
    const d = typeof v === 'string' ? parseRfc3339(v) : Number.isNaN(v.getTime()) ? null : v;
    if (!d) {
      ctx.addIssue({ code: 'custom', message: `${EXPECTED_INSTANT}, got ${described(v)}` });
      return z.NEVER;
    }
    if (!inRange(d)) {
      ctx.addIssue({ code: 'custom', message: RANGE_MESSAGE });
      return z.NEVER;
    }
    return d;
  });
