import { z } from 'zod';
import type { CustomerId } from '../types';

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
  createdAt: Date;
  updatedAt: Date;
}

export const TAX_STATUSES = ['taxable', 'exempt', 'reverse_charge'] as const;
export type TaxStatus = (typeof TAX_STATUSES)[number];

export const addressSchema = z.object({
  line1: z.string().trim().min(1).max(200),
  line2: z.string().trim().max(200).nullable().default(null),
  city: z.string().trim().min(1).max(100),
  postalCode: z.string().trim().max(20).nullable().default(null),
  state: z.string().trim().max(100).nullable().default(null),
});
export type Address = z.output<typeof addressSchema>;

const country = z
  .string()
  .transform((c) => c.toUpperCase())
  .pipe(z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 country code such as "US"'));

export const createCustomerSchema = z.object({
  externalId: z.string().min(1).max(200).nullable().default(null),
  email: z.email(),
  name: z.string().trim().min(1).max(200),
  country: country.nullable().default(null),
  region: z.string().trim().min(1).max(100).nullable().default(null),
  address: addressSchema.nullable().default(null),
  taxStatus: z.enum(TAX_STATUSES).default('taxable'),
  taxId: z.string().trim().min(1).max(50).nullable().default(null),
  metadata: z.record(z.string().max(100), z.string().max(500)).default({}),
  /** A test clock of the scope (`clk_…`) to create the customer on; test scopes only. */
  testClockId: z.string().max(100).nullable().default(null),
});
export type CreateCustomerInput = z.input<typeof createCustomerSchema>;

export const updateCustomerSchema = z
  .object({
    externalId: z.string().min(1).max(200).nullable(),
    email: z.email(),
    name: z.string().trim().min(1).max(200),
    country: country.nullable(),
    region: z.string().trim().min(1).max(100).nullable(),
    address: addressSchema.nullable(),
    taxStatus: z.enum(TAX_STATUSES),
    taxId: z.string().trim().min(1).max(50).nullable(),
    metadata: z.record(z.string().max(100), z.string().max(500)),
  })
  .partial()
  .strict();
export type UpdateCustomerInput = z.input<typeof updateCustomerSchema>;
