import { text, timestamp } from 'drizzle-orm/pg-core';

/** The scope columns every table starts with: primary and unique keys begin with them. */
export const scope = {
  tenantId: text('tenant_id').notNull(),
  appId: text('app_id').notNull(),
};

/** A timestamptz read as a Date. */
export const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
