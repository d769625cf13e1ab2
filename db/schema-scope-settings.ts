import { sql } from 'drizzle-orm';
import { check, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { scope, ts } from './columns';

/**
 * A scope's billing settings, one row per scope, written whole. Separate from `scopes`
 * (the mode): a scope nobody registered is live, and setting its rounding must not
 * register it. No row: the defaults (half away from zero).
 */
export const scopeSettings = pgTable(
  'scope_settings',
  {
    ...scope,
    /** How a line's exact amount becomes minor units: `half_away_from_zero` or `half_even`. */
    roundingMode: text('rounding_mode').$type<'half_away_from_zero' | 'half_even'>().notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.appId] }),
    check('scope_settings_rounding_mode_check', sql`${t.roundingMode} in ('half_away_from_zero', 'half_even')`),
  ],
);
