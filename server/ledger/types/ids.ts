import { randomFillSync } from 'node:crypto';
import { invalid, quote } from './errors';

/**
 * Entity ids are TypeIDs (`pln_01h455vb4pex5vsknk084sn02q`): a readable prefix and a
 * UUIDv7, so ids sort by creation time. Each entity's id is its own branded string type,
 * so passing a plan id where a subscription id is expected does not compile, and a
 * string from outside becomes an id only through `parseId`, which checks the prefix.
 */
export const ID_PREFIXES = {
  plan: 'pln',
  feature: 'fea',
  customer: 'cst',
  subscription: 'sub',
  invoice: 'inv',
  coupon: 'cpn',
  event: 'evt',
  payment: 'pay',
  paymentAttempt: 'pat',
  paymentMethod: 'pm',
  refund: 'rfd',
  taxRate: 'txr',
  apiKey: 'key',
  webhook: 'whk',
  audit: 'aud',
  creditNote: 'crn',
  testClock: 'clk',
  wallet: 'wal',
  walletGrant: 'wgr',
  walletEntry: 'wle',
} as const;

export type Entity = keyof typeof ID_PREFIXES;
export type Prefix<E extends Entity> = (typeof ID_PREFIXES)[E];

declare const brand: unique symbol;
export type Id<E extends Entity> = string & { readonly [brand]: Prefix<E> };

export type PlanId = Id<'plan'>;
export type FeatureId = Id<'feature'>;
export type CustomerId = Id<'customer'>;
export type SubscriptionId = Id<'subscription'>;
export type InvoiceId = Id<'invoice'>;
export type CouponId = Id<'coupon'>;
export type EventId = Id<'event'>;
export type ApiKeyId = Id<'apiKey'>;
export type TestClockId = Id<'testClock'>;
export type PaymentId = Id<'payment'>;
export type PaymentAttemptId = Id<'paymentAttempt'>;
export type PaymentMethodId = Id<'paymentMethod'>;
export type RefundId = Id<'refund'>;

/**
 * A new TypeID: the prefix, `_`, and a UUIDv7 (48-bit Unix milliseconds, version 7,
 * 74 random bits, variant 10) in TypeID's base32. Generated here rather than by
 * typeid-js's `typeid()`, which costs ~3 µs an id (it decodes what it just encoded); ids
 * are made per usage event on the metering hot path. tests/unit/ids.test.ts checks that
 * typeid-js parses every id made here back to the same UUIDv7.
 */
export function newId<E extends Entity>(entity: E): Id<E> {
  return `${ID_PREFIXES[entity]}_${uuidv7Suffix()}` as Id<E>;
}

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const POOL = Buffer.allocUnsafe(4096);
let poolAt = POOL.length;
const bytes = new Uint8Array(16);

let lastMs = -1;

/**
 * UUIDv7 with a monotonic counter (RFC 9562, method 1): within one millisecond (or if
 * the system clock steps back) the 74 random bits of the previous id are incremented,
 * so ids made one after another always sort in the order they were made, which cursor
 * paging by id relies on.
 */
function uuidv7Suffix(): string {
  let ms = Date.now();
  if (ms > lastMs || !increment(bytes)) {
    if (ms <= lastMs) ms = lastMs + 1; // the counter overflowed: borrow the next millisecond
    if (poolAt + 10 > POOL.length) {
      randomFillSync(POOL);
      poolAt = 0;
    }
    for (let i = 6; i < 16; i++) bytes[i] = POOL[poolAt++]!;
    bytes[6] = 0x70 | (bytes[6]! & 0x0f); // version 7
    bytes[8] = 0x80 | (bytes[8]! & 0x3f); // variant 10
    lastMs = ms;
  }
  // 48-bit big-endian timestamp (JS bit operators are 32-bit: split it).
  const hi = Math.floor(lastMs / 0x100000000);
  const lo = lastMs >>> 0;
  bytes[0] = (hi >>> 8) & 0xff;
  bytes[1] = hi & 0xff;
  bytes[2] = lo >>> 24;
  bytes[3] = (lo >>> 16) & 0xff;
  bytes[4] = (lo >>> 8) & 0xff;
  bytes[5] = lo & 0xff;
  return encodeBase32(bytes);
}

/** Adds 1 to the 74 random bits (around the version and variant bits); false on overflow. */
function increment(b: Uint8Array): boolean {
  for (let i = 15; i >= 9; i--) if ((b[i] = (b[i]! + 1) & 0xff) !== 0) return true;
  const v8 = (b[8]! & 0x3f) + 1;
  b[8] = 0x80 | (v8 & 0x3f);
  if (v8 < 0x40) return true;
  if ((b[7] = (b[7]! + 1) & 0xff) !== 0) return true;
  const v6 = (b[6]! & 0x0f) + 1;
  b[6] = 0x70 | (v6 & 0x0f);
  return v6 < 0x10;
}

/** 128 bits as 26 base32 characters, the first holding the top 3 bits (TypeID's layout). */
function encodeBase32(b: Uint8Array): string {
  const a = ALPHABET;
  return (
    a[(b[0]! & 224) >> 5]! + a[b[0]! & 31]! + a[(b[1]! & 248) >> 3]! + a[((b[1]! & 7) << 2) | ((b[2]! & 192) >> 6)]! +
    a[(b[2]! & 62) >> 1]! + a[((b[2]! & 1) << 4) | ((b[3]! & 240) >> 4)]! + a[((b[3]! & 15) << 1) | ((b[4]! & 128) >> 7)]! +
    a[(b[4]! & 124) >> 2]! + a[((b[4]! & 3) << 3) | ((b[5]! & 224) >> 5)]! + a[b[5]! & 31]! + a[(b[6]! & 248) >> 3]! +
    a[((b[6]! & 7) << 2) | ((b[7]! & 192) >> 6)]! + a[(b[7]! & 62) >> 1]! + a[((b[7]! & 1) << 4) | ((b[8]! & 240) >> 4)]! +
    a[((b[8]! & 15) << 1) | ((b[9]! & 128) >> 7)]! + a[(b[9]! & 124) >> 2]! + a[((b[9]! & 3) << 3) | ((b[10]! & 224) >> 5)]! +
    a[b[10]! & 31]! + a[(b[11]! & 248) >> 3]! + a[((b[11]! & 7) << 2) | ((b[12]! & 192) >> 6)]! + a[(b[12]! & 62) >> 1]! +
    a[((b[12]! & 1) << 4) | ((b[13]! & 240) >> 4)]! + a[((b[13]! & 15) << 1) | ((b[14]! & 128) >> 7)]! +
    a[(b[14]! & 124) >> 2]! + a[((b[14]! & 3) << 3) | ((b[15]! & 224) >> 5)]! + a[b[15]! & 31]!
  );
}

/**
 * A well-formed TypeID of the prefix: 26 base32 characters (no i, l, o, u), the first
 * 0–7 so the value fits 128 bits. The same rule typeid-js applies, as one regex.
 */
const SUFFIX = '[0-7][0-9a-hjkmnp-tv-z]{25}';
const patterns = new Map<string, RegExp>();
const patternFor = (prefix: string) => {
  let re = patterns.get(prefix);
  if (!re) patterns.set(prefix, (re = new RegExp(`^${prefix}_${SUFFIX}$`)));
  return re;
};

/** Parses an id from outside (an API call, a URL) and checks it names the right entity. */
export function parseId<E extends Entity>(entity: E, value: string): Id<E> {
  const prefix = ID_PREFIXES[entity];
  if (typeof value !== 'string' || !patternFor(prefix).test(value)) {
    const got = typeof value === 'string' && value.includes('_') ? value.split('_')[0] : null;
    const why =
      got !== null && got !== prefix
        ? `it has the prefix "${got}_"`
        : 'it is not a well-formed TypeID';
    throw invalid(`${typeof value === 'string' ? quote(value, 32) : typeof value} is not a valid ${entity} id: expected "${prefix}_…", but ${why}`, [
      { path: 'id', message: `expected an id starting with ${prefix}_` },
    ]);
  }
  return value as Id<E>;
}

export function isId<E extends Entity>(entity: E, value: string): value is Id<E> {
  return typeof value === 'string' && patternFor(ID_PREFIXES[entity]).test(value);
}
