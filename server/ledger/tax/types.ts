import { z } from 'zod';
import { countryCode, Dec, pageSchema, requiredText, text, type Id } from '../types';
import type { TaxRate } from './calculate';

export type TaxRateId = Id<'taxRate'>;

/**
 * A tax rate a tenant charges in a country, or in one region of it (a US state, a
 * Canadian province). `region: null` is the country's default rate, used where no rate
 * for the customer's region exists. At most one rate is active per country and region.
 *
 * `percentage` and `inclusive` never change once a rate exists: an issued invoice refers
 * to the rate it used, so a new percentage is a new rate (and the old one is deactivated).
 * A record is a `TaxRate`, so it goes straight into `taxForLine`.
 */
export interface TaxRateRecord extends TaxRate {
  id: TaxRateId;
  /** What an invoice prints: "VAT", "CA sales tax". */
  displayName: string;
  /** ISO 3166-1 alpha-2, upper case: "GB". */
  country: string;
  /** A region of the country, upper case ("CA" in the US), or null for the country's default. */
  region: string | null;
  /** A decimal string from "0" to "100", at most 4 decimals, without trailing zeros: "20", "6.45". */
  percentage: string;
  /** True when prices already contain the tax ("incl. VAT"). */
  inclusive: boolean;
  /** Only active rates are picked for invoices; deactivating is how a rate is retired. */
  active: boolean;
  description: string;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Why an invoice carries the tax it does: a rate to apply, or the reason it has none
 * (printed on the invoice).
 */
export type TaxDecision =
  | { kind: 'rate'; rate: TaxRateRecord }
  | { kind: 'exempt'; reason: 'Tax exempt' }
  | { kind: 'reverse_charge'; reason: string }
  | { kind: 'none'; reason: string };

/** "US/CA", or "GB" for a country's default rate: how messages name where a rate applies. */
export const placeOf = (country: string, region: string | null) => (region === null ? country : `${country}/${region}`);

/** An assigned ISO 3166-1 alpha-2 code, in any case ("gb" is "GB"). */
const country = countryCode;

/** Regions are compared case-insensitively: kept upper case ("ca" and "CA" are one region). */
export const normalizeRegion = (region: string | null | undefined): string | null => {
  const r = region?.trim().toUpperCase() ?? '';
  return r === '' ? null : r;
};

const region = requiredText(100, { trim: true }).transform((r) => r.toUpperCase());

const PERCENTAGE = /^\d{1,3}(\.\d{1,4})?$/;
const percentage = z
  .string()
  .trim()
  .regex(PERCENTAGE, 'a percentage as a decimal string with at most 4 decimals, such as "20" or "6.45"')
  .refine((p) => !PERCENTAGE.test(p) || new Dec(p).lte(100), 'a percentage must be at most 100')
  // One spelling per value ("20.00" is "20"), as the SQL store reads it back.
  .transform((p) => new Dec(p).toFixed());

const displayName = requiredText(100, { trim: true });
const description = text(2000, { trim: true });

export const createTaxRateSchema = z.object({
  displayName,
  country,
  region: region.nullable().default(null),
  percentage,
  inclusive: z.boolean().default(false),
  active: z.boolean().default(true),
  description: description.default(''),
});
export type CreateTaxRateInput = z.input<typeof createTaxRateSchema>;

const immutable = (field: string) =>
  z
    .undefined({
      error: `a tax rate's ${field} cannot change, since issued invoices refer to the rate: create a new rate and deactivate this one`,
    })
    .optional();

/** Only what does not change what anyone pays; reactivating may conflict with another active rate. */
export const updateTaxRateSchema = z
  .object({
    displayName,
    description,
    active: z.boolean(),
    percentage: immutable('percentage'),
    inclusive: immutable('inclusive'),
    country: immutable('country'),
    region: immutable('region'),
  })
  .partial()
  .strict();
export type UpdateTaxRateInput = z.input<typeof updateTaxRateSchema>;

export const listTaxRatesSchema = pageSchema.extend({
  country: country.optional(),
  includeInactive: z.boolean().default(false),
});
export type ListTaxRatesInput = z.input<typeof listTaxRatesSchema>;
