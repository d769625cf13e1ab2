import { sql } from 'drizzle-orm';
import { boolean, numeric, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { scope, ts } from './columns';

/**
 * Tax rates by country and, optionally, a region of it: a percentage (exact decimal),
 * inclusive (prices contain the tax) or exclusive (tax is added), with the name an
 * invoice shows. At most one active rate per country and region; "no region" is a
 * country's default (`region` is '' there, so the unique index covers it).
 */
export const taxRates = pgTable(
  'tax_rates',
  {
    ...scope,
    id: text('id').notNull(),
    displayName: text('display_name').notNull(),
    country: text('country').notNull(),
    region: text('region').notNull().default(''),
    percentage: numeric('percentage').notNull(),
    inclusive: boolean('inclusive').notNull(),
    active: boolean('active').notNull(),
    description: text('description').notNull().default(''),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.appId, t.id] }),
    uniqueIndex('tax_rates_active_region_key').on(t.tenantId, t.appId, t.country, t.region).where(sql`${t.active}`),
  ],
);
