import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  countryCode,
  idSchema,
  instant,
  isStorableText,
  ISO_COUNTRY_CODES,
  MAX_INSTANT,
  metadataSchema,
  MIN_INSTANT,
  newId,
  parseRfc3339,
  quote,
  requiredText,
  text,
} from '@/server/ledger/types';

/** The issues of a failed parse as "path: message", or [] when it passed. */
function issuesOf(schema: z.ZodType, value: unknown): string[] {
  const r = schema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

const NUL = 'a\u0000b';
const LONE_HIGH = 'a\uD800b';
const LONE_LOW = '\uDC00b';
const REVERSED_PAIR = '\uDC00\uD83D';
const EMOJI = 'Ada 😀'; // a surrogate pair: storable

describe('storable text: what PostgreSQL keeps exactly as given', () => {
  it('refuses NUL and unpaired surrogates anywhere, accepts surrogate pairs', () => {
    for (const bad of [NUL, '\u0000', 'abc\u0000', LONE_HIGH, 'end\uD83D', LONE_LOW, REVERSED_PAIR]) {
      expect(isStorableText(bad), JSON.stringify(bad)).toBe(false);
    }
    for (const good of ['', 'plain', EMOJI, '\uD83D\uDE00', 'Zoë, 東京', '\t\n']) expect(isStorableText(good)).toBe(true);
  });

  it('text(max) refuses NUL, a lone surrogate and more than max characters, with one message each', () => {
    expect(issuesOf(text(10), NUL)).toEqual([': must not contain NUL characters or unpaired surrogates']);
    expect(issuesOf(text(10), LONE_HIGH)).toEqual([': must not contain NUL characters or unpaired surrogates']);
    expect(issuesOf(text(5), 'abcdef')).toEqual([': must be at most 5 characters']);
    expect(text(5).parse('')).toBe('');
    expect(text(10).parse(EMOJI)).toBe(EMOJI);
    expect(issuesOf(text(5), 5)).toHaveLength(1);
  });

  it('requiredText(max) also refuses the empty string; with trim, blanks count as empty and the result is trimmed', () => {
    expect(issuesOf(requiredText(5), '')).toEqual([': must not be empty']);
    expect(requiredText(5).parse('  a  ')).toBe('  a  ');
    expect(issuesOf(requiredText(5, { trim: true }), '   ')).toEqual([': must not be empty']);
    expect(requiredText(5, { trim: true }).parse('  abc  ')).toBe('abc');
    // The limit applies to the trimmed text.
    expect(requiredText(3, { trim: true }).parse('  abc  ')).toBe('abc');
  });

  it('quote shows at most a short prefix of a rejected value, escaped, with its length', () => {
    expect(quote('ZZ')).toBe('"ZZ"');
    expect(quote(NUL)).toBe('"a\\u0000b"');
    const huge = 'x'.repeat(1_000_000);
    expect(quote(huge)).toBe(`"${'x'.repeat(24)}"… (1000000 characters)`);
    expect(quote(huge, 4)).toBe('"xxxx"… (1000000 characters)');
  });
});

describe('metadata: at most 50 keys of at most 100 characters, values of at most 500, all storable', () => {
  const inObject = z.object({ metadata: metadataSchema });

  it('accepts 50 keys of 100 characters with values of 500', () => {
    const m = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${i}`.padStart(100, 'k'), 'v'.repeat(500)]));
    expect(metadataSchema.parse(m)).toEqual(m);
  });

  it('refuses 51 keys, and 10,000 keys by their count alone (one issue)', () => {
    const of = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    expect(issuesOf(inObject, { metadata: of(51) })).toEqual(['metadata: at most 50 keys, got 51']);
    expect(issuesOf(inObject, { metadata: of(10_000) })).toEqual(['metadata: at most 50 keys, got 10000']);
  });

  it('a bad key is reported on metadata itself, quoted short: never as a path, never whole', () => {
    const long = 'k'.repeat(1_000_000);
    const issues = issuesOf(inObject, { metadata: { [long]: 'v', ['b\u0000']: 'v', ['c\uD800']: 'v', '': 'v' } });
    expect(issues).toEqual([
      `metadata: key "${'k'.repeat(24)}"… (1000000 characters) is longer than 100 characters`,
      'metadata: key "b\\u0000" must not contain NUL characters or unpaired surrogates',
      'metadata: key "c\\ud800" must not contain NUL characters or unpaired surrogates',
      'metadata: key "" is empty',
    ]);
    expect(issues.join('').length).toBeLessThan(400);
  });

  it('a bad value is reported at its key', () => {
    expect(issuesOf(inObject, { metadata: { plan: NUL } })).toEqual(['metadata.plan: must not contain NUL characters or unpaired surrogates']);
    expect(issuesOf(inObject, { metadata: { plan: LONE_LOW } })).toEqual(['metadata.plan: must not contain NUL characters or unpaired surrogates']);
    expect(issuesOf(inObject, { metadata: { plan: 'v'.repeat(501) } })).toEqual(['metadata.plan: must be at most 500 characters']);
    expect(issuesOf(inObject, { metadata: { plan: 3 } })).toHaveLength(1);
    expect(issuesOf(inObject, { metadata: 'plan=pro' })).toHaveLength(1);
  });
});

describe('instants: RFC 3339, from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z', () => {
  const inObject = z.object({ timestamp: instant });
  const at = (v: unknown) => instant.parse(v).toISOString();

  it('reads RFC 3339 with Z or an offset, fractions and lower-case t/z; a Date as it is', () => {
    expect(at('2026-11-25T14:00:00Z')).toBe('2026-11-25T14:00:00.000Z');
    expect(at('2026-11-25T15:30:00+01:30')).toBe('2026-11-25T14:00:00.000Z');
    expect(at('2026-11-25t14:00:00.123456789z')).toBe('2026-11-25T14:00:00.123Z');
    expect(at('2024-02-29T00:00:00Z')).toBe('2024-02-29T00:00:00.000Z');
    expect(at(new Date('2026-11-25T14:00:00Z'))).toBe('2026-11-25T14:00:00.000Z');
  });

  it('takes both ends of the range and refuses anything beyond them', () => {
    expect(instant.parse(MIN_INSTANT)).toEqual(MIN_INSTANT);
    expect(at('9999-12-31T23:59:59.999Z')).toBe(MAX_INSTANT.toISOString());
    const range = 'must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z';
    expect(issuesOf(inObject, { timestamp: '1969-12-31T23:59:59Z' })).toEqual([`timestamp: ${range}`]);
    expect(issuesOf(inObject, { timestamp: '9999-12-31T23:59:59-00:01' })).toEqual([`timestamp: ${range}`]);
    expect(issuesOf(inObject, { timestamp: new Date('+010000-01-01T00:00:00Z') })).toEqual([`timestamp: ${range}`]);
    // The extended-year form of 10000 is not RFC 3339 at all.
    expect(issuesOf(inObject, { timestamp: '+010000-01-01T00:00:00Z' })).toEqual([
      'timestamp: expected an RFC 3339 date-time such as 2026-11-25T14:00:00Z, got "+010000-01-01T00:00:00Z"',
    ]);
  });

  it('refuses what lenient parsing turned into another day: February 30, null and true as 1970, a trailing NUL', () => {
    const expected = (got: string) => [`timestamp: expected an RFC 3339 date-time such as 2026-11-25T14:00:00Z, got ${got}`];
    expect(issuesOf(inObject, { timestamp: '2026-02-30T00:00:00Z' })).toEqual(expected('"2026-02-30T00:00:00Z"'));
    expect(issuesOf(inObject, { timestamp: '2025-02-29T00:00:00Z' })).toEqual(expected('"2025-02-29T00:00:00Z"'));
    expect(issuesOf(inObject, { timestamp: null })).toEqual(expected('null'));
    expect(issuesOf(inObject, { timestamp: true })).toEqual(expected('a boolean'));
    expect(issuesOf(inObject, { timestamp: 1764079200000 })).toEqual(expected('a number'));
    expect(issuesOf(inObject, { timestamp: '2026-11-25T14:00:00Z\u0000' })).toEqual(expected('"2026-11-25T14:00:00Z\\u0000"'));
    expect(issuesOf(inObject, { timestamp: new Date(Number.NaN) })).toEqual(expected('an invalid Date'));
  });

  it('refuses forms that are not RFC 3339: a date alone, no zone, a space, 24:00, a leap second, a zone of +24:00', () => {
    for (const s of ['2026-11-25', '2026-11-25T14:00:00', '2026-11-25 14:00:00Z', '2026-11-25T24:00:00Z', '2026-12-31T23:59:60Z', '2026-11-25T14:00:00+24:00', 'Wed, 25 Nov 2026 14:00:00 GMT']) {
      expect(parseRfc3339(s), s).toBeNull();
      expect(instant.safeParse(s).success, s).toBe(false);
    }
  });

  it('reads every valid RFC 3339 string of years 0000–9999 as Date.parse does (fractions cut to milliseconds)', () => {
    const two = (n: number) => String(n).padStart(2, '0');
    fc.assert(
      fc.property(
        fc.record({
          year: fc.integer({ min: 0, max: 9999 }),
          month: fc.integer({ min: 1, max: 12 }),
          day: fc.integer({ min: 1, max: 31 }),
          hour: fc.integer({ min: 0, max: 23 }),
          minute: fc.integer({ min: 0, max: 59 }),
          second: fc.integer({ min: 0, max: 59 }),
          fraction: fc.option(fc.stringMatching(/^[0-9]{1,9}$/), { nil: undefined }),
          offset: fc.option(fc.record({ sign: fc.constantFrom('+', '-'), h: fc.integer({ min: 0, max: 23 }), m: fc.integer({ min: 0, max: 59 }) }), { nil: undefined }),
        }),
        (t) => {
          const date = `${String(t.year).padStart(4, '0')}-${two(t.month)}-${two(t.day)}`;
          const zone = t.offset ? `${t.offset.sign}${two(t.offset.h)}:${two(t.offset.m)}` : 'Z';
          const s = `${date}T${two(t.hour)}:${two(t.minute)}:${two(t.second)}${t.fraction ? `.${t.fraction}` : ''}${zone}`;
          const valid = new Date(Date.UTC(2000, t.month - 1, t.day)).getUTCMonth() === t.month - 1 || (t.month === 2 && t.day === 29);
          const leapDay = t.month === 2 && t.day === 29;
          const isLeap = (t.year % 4 === 0 && t.year % 100 !== 0) || t.year % 400 === 0;
          const parsed = parseRfc3339(s);
          if (!valid || (leapDay && !isLeap)) expect(parsed, s).toBeNull();
          else expect(parsed?.getTime(), s).toBe(Date.parse(s));
        },
      ),
      {
        numRuns: 2000,
        // Found by this property once: February 29 of year 0 (a leap year) read as March 1.
        examples: [[{ year: 0, month: 2, day: 29, hour: 0, minute: 0, second: 0, fraction: undefined, offset: undefined }]],
      },
    );
  });

  it('a year of 0070 is the year 70, out of range, not 1970', () => {
    expect(parseRfc3339('0070-01-01T00:00:00Z')!.getUTCFullYear()).toBe(70);
    expect(instant.safeParse('0070-01-01T00:00:00Z').success).toBe(false);
  });

  it('a missing timestamp says what is required (not "expected date, received Date")', () => {
    expect(issuesOf(inObject, {})).toEqual(['timestamp: required: an RFC 3339 date-time such as 2026-11-25T14:00:00Z']);
  });

  it('a long rejected string is quoted short', () => {
    const [issue] = issuesOf(inObject, { timestamp: '2026-11-25T14:00:00Z'.repeat(50_000) });
    expect(issue!.length).toBeLessThan(200);
    expect(issue).toContain('(1000000 characters)');
  });
});

describe('countries: the 249 assigned ISO 3166-1 alpha-2 codes', () => {
  it('takes any case and spacing, and stores upper case', () => {
    expect(countryCode.parse('gb')).toBe('GB');
    expect(countryCode.parse(' us ')).toBe('US');
    expect(countryCode.parse('SS')).toBe('SS'); // South Sudan, the newest (2011)
  });

  it('refuses codes that are not assigned: ZZ, XX, UK, EU, XK (user-assigned), AN (withdrawn), and non-codes', () => {
    for (const c of ['ZZ', 'XX', 'UK', 'EU', 'XK', 'AN', 'G', 'GBR', 'G\u0000', '']) {
      expect(countryCode.safeParse(c).success, c).toBe(false);
    }
    expect(issuesOf(z.object({ country: countryCode }), { country: 'zz' })).toEqual([
      'country: "ZZ" is not an ISO 3166-1 alpha-2 country code: expected one such as "US" or "GB"',
    ]);
  });

  it('lists 249 codes, every one named by ICU; the codes ICU names beyond them are reserved, withdrawn or not countries', () => {
    expect(ISO_COUNTRY_CODES.size).toBe(249);
    const names = new Intl.DisplayNames(['en'], { type: 'region' });
    for (const c of ISO_COUNTRY_CODES) expect(names.of(c), c).not.toBe(c);
    const icuOnly: string[] = [];
    for (let a = 65; a <= 90; a++) {
      for (let b = 65; b <= 90; b++) {
        const c = String.fromCharCode(a, b);
        if (!ISO_COUNTRY_CODES.has(c) && names.of(c) !== c) icuOnly.push(c);
      }
    }
    // Exceptionally reserved (AC CP DG EA EU EZ IC TA UK UN), transitionally reserved or
    // withdrawn (AN BU CS DD FX NH RH SU TP VD YD YU ZR …), user-assigned (QO XA XB XK ZZ).
    for (const c of ['AC', 'EU', 'UK', 'UN', 'XK', 'ZZ', 'AN', 'SU', 'YU']) expect(icuOnly).toContain(c);
    expect(icuOnly.every((c) => !ISO_COUNTRY_CODES.has(c))).toBe(true);
  });
});

describe('ids: a TypeID of the entity, typed, quoted short when refused', () => {
  it('accepts an id of the entity and refuses another prefix, NUL, and anything long without echoing it', () => {
    const id = newId('customer');
    expect(idSchema('customer').parse(id)).toBe(id);
    const schema = z.object({ customerId: idSchema('customer') });
    expect(issuesOf(schema, { customerId: newId('plan') })[0]).toMatch(/^customerId: expected a customer id \(cst_…\), got "pln_/);
    expect(issuesOf(schema, { customerId: `${id}\u0000` })).toHaveLength(1);
    const [issue] = issuesOf(schema, { customerId: 'c'.repeat(1_000_000) });
    expect(issue).toBe(`customerId: expected a customer id (cst_…), got "${'c'.repeat(32)}"… (1000000 characters)`);
  });
});
