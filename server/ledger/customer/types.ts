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
  metadata: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

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
  metadata: z.record(z.string().max(100), z.string().max(500)).default({}),
});
export type CreateCustomerInput = z.input<typeof createCustomerSchema>;

export const updateCustomerSchema = z
  .object({
    externalId: z.string().min(1).max(200).nullable(),
    email: z.email(),
    name: z.string().trim().min(1).max(200),
    country: country.nullable(),
    region: z.string().trim().min(1).max(100).nullable(),
    metadata: z.record(z.string().max(100), z.string().max(500)),
  })
  .partial()
  .strict();
export type UpdateCustomerInput = z.input<typeof updateCustomerSchema>;
