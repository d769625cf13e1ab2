import { TypeID, typeid } from 'typeid-js';
import { invalid } from './errors';

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
  taxRate: 'txr',
  apiKey: 'key',
  webhook: 'whk',
  audit: 'aud',
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

export function newId<E extends Entity>(entity: E): Id<E> {
  return typeid(ID_PREFIXES[entity]).toString() as string as Id<E>;
}

/** Parses an id from outside (an API call, a URL) and checks it names the right entity. */
export function parseId<E extends Entity>(entity: E, value: string): Id<E> {
  const prefix = ID_PREFIXES[entity];
  try {
    TypeID.fromString(value, prefix);
  } catch {
    const got = typeof value === 'string' && value.includes('_') ? value.split('_')[0] : null;
    const why =
      got !== null && got !== prefix
        ? `it has the prefix "${got}_"`
        : 'it is not a well-formed TypeID';
    throw invalid(`"${value}" is not a valid ${entity} id: expected "${prefix}_…", but ${why}`, [
      { path: 'id', message: `expected an id starting with ${prefix}_` },
    ]);
  }
  return value as Id<E>;
}

export function isId<E extends Entity>(entity: E, value: string): value is Id<E> {
  try {
    parseId(entity, value);
    return true;
  } catch {
    return false;
  }
}
