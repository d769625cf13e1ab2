import { z } from 'zod';
import { COLLECTION_METHODS, type CollectionMethod } from '../payment/types';
import { timeZoneSchema } from '../subscription/calendar';
import { countryCode, idSchema, isCurrency, metadataSchema, requiredText, text, type Currency, type CustomerId } from '../types';

/** A customer of a tenant's app: who subscribes, is billed and pays. */
export interface Customer {
  id: CustomerId;
  /** The tenant's own id for this customer (unique per app), for lookups from their systems. */
  externalId: string | null;
  email: string;
  name: string;
  /** ISO 3166-1 alpha-2 country and a region within it ("US", "CA"), for tax. */
  country: string | null;
  region: string | null;
  /** The billing address, copied onto invoices when they are finalized. */
  address: Address | null;
  /**
   * `taxable`: taxes apply by country and region. `exempt`: no tax (an exempt body).
   * `reverse_charge`: no tax charged; the buyer accounts for it (EU B2B with a VAT id).
   */
  taxStatus: TaxStatus;
  /** The customer's tax id (a VAT number), printed on invoices. */
  taxId: string | null;
  metadata: Record<string, string>;
  /**
   * The test clock the customer was created on (test scopes only), or null: the
   * customer's subscriptions, usage windows, entitlements and invoices live at the
   * clock's time. Set at creation, never changed.
   */
  testClockId: import('../types').TestClockId | null;
  /**
   * How the customer's invoices are collected; null: the automatic choice (charged when
   * the customer has a default payment method and the scope does not send invoices,
   * else sent).
   */
  collectionMethod: CollectionMethod | null;
  /** For sent invoices: days from finalization until due; null: the scope's setting (30 by default). */
  daysUntilDue: number | null;
  /**
   * Multi-currency: the currency the customer's subscriptions are priced and invoiced in
   * (ISO 4217). Null: the first subscription takes the plan's main currency and fixes it
   * here, as Stripe fixes a customer's currency at its first subscription.
   */
  currency: Currency | null;
  /**
   * The customer's IANA time zone ("America/New_York"); null: UTC. Calendar billing puts
   * the boundaries of the customer's subscriptions made from then on at midnight there.
   */
  timeZone: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const TAX_STATUSES = ['taxable', 'exempt', 'reverse_charge'] as const;
export type TaxStatus = (typeof TAX_STATUSES)[number];

export const addressSchema = z.object({
  line1: requiredText(200, { trim: true }),
  line2: text(200, { trim: true }).nullable().default(null),
  city: requiredText(100, { trim: true }),
  postalCode: text(20, { trim: true }).nullable().default(null),
  state: text(100, { trim: true }).nullable().default(null),
});
export type Address = z.output<typeof addressSchema>;

/** The fields both schemas share: every string storable as given, every country an assigned ISO code. */
const fields = {
  externalId: requiredText(200),
  email: text(254).pipe(z.email()),
  name: requiredText(200, { trim: true }),
  country: countryCode,
  region: requiredText(100, { trim: true }),
  address: addressSchema,
  taxStatus: z.enum(TAX_STATUSES),
  taxId: requiredText(50, { trim: true }),
  metadata: metadataSchema,
  collectionMethod: z.enum(COLLECTION_METHODS),
  daysUntilDue: z.number().int().min(0).max(365),
  /** An ISO 4217 code in any case, stored upper case ("eur" is EUR). */
  currency: z
    .string()
    .trim()
    .toUpperCase()
    .refine(isCurrency, { message: 'unknown currency: expected an ISO 4217 code such as USD' })
    .transform((c) => c as Currency),
  timeZone: timeZoneSchema,
};

export const createCustomerSchema = z.object({
  externalId: fields.externalId.nullable().default(null),
  email: fields.email,
  name: fields.name,
  country: fields.country.nullable().default(null),
  region: fields.region.nullable().default(null),
  address: fields.address.nullable().default(null),
  taxStatus: fields.taxStatus.default('taxable'),
  taxId: fields.taxId.nullable().default(null),
  metadata: fields.metadata.default({}),
  collectionMethod: fields.collectionMethod.nullable().default(null),
  daysUntilDue: fields.daysUntilDue.nullable().default(null),
  currency: fields.currency.nullable().default(null),
  timeZone: fields.timeZone.nullable().default(null),
  /** A test clock of the scope (`clk_…`) to create the customer on; test scopes only. */
  testClockId: idSchema('testClock').nullable().default(null),
});
export type CreateCustomerInput = z.input<typeof createCustomerSchema>;

export const updateCustomerSchema = z
  .object({
    externalId: fields.externalId.nullable(),
    email: fields.email,
    name: fields.name,
    country: fields.country.nullable(),
    region: fields.region.nullable(),
    address: fields.address.nullable(),
    taxStatus: fields.taxStatus,
    taxId: fields.taxId.nullable(),
    metadata: fields.metadata,
    collectionMethod: fields.collectionMethod.nullable(),
    daysUntilDue: fields.daysUntilDue.nullable(),
    currency: fields.currency.nullable(),
    timeZone: fields.timeZone.nullable(),
  })
  .partial()
  .strict();
export type UpdateCustomerInput = z.input<typeof updateCustomerSchema>;
