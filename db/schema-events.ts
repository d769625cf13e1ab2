import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { scope, ts } from './columns';

/**
 * The event log (an outbox): one row per state change a hook names, written in the same
 * transaction as the change itself, so what outbound webhooks and the audit trail need
 * survives a crash right after the commit. Named like Stripe's events
 * (`invoice.paid`), with the object as it was after the change and, for updates, the
 * fields it had before. Kept `LEDGER_EVENTS_RETENTION_DAYS` (30 by default).
 */
export const events = pgTable(
  'events',
  {
    ...scope,
    /** `evt_…` (TypeID, time-ordered). */
    id: text('id').notNull(),
    type: text('type').notNull(),
    /** The id of the object the event is about (`inv_…`, `sub_…`). */
    objectId: text('object_id').notNull(),
    /** The customer it concerns, when there is one: the portal and filters read by it. */
    customerId: text('customer_id'),
    /** The object as it was after the change (JSON: dates as ISO strings). */
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    /** For updates: the changed fields as they were before (Stripe's previous_attributes). */
    previous: jsonb('previous').$type<Record<string, unknown>>(),
    /** Who made the change (API key, portal user, provider, system) and the request's id and IP. */
    actor: jsonb('actor').$type<Record<string, unknown>>(),
    createdAt: ts('created_at').notNull(),
    /**
     * Null until the outbound webhooks have made this event's deliveries (in their own
     * transaction): the fan-out reads only these, by a partial index.
     */
    dispatchedAt: ts('dispatched_at'),
  },
  (t) => [
    primaryKey({ name: 'events_pkey', columns: [t.tenantId, t.appId, t.id] }),
    // Retention: the oldest events of every scope, deleted in batches.
    index('events_created_idx').on(t.createdAt),
    index('events_scope_object_idx').on(t.tenantId, t.appId, t.objectId),
    index('events_undispatched_idx').on(t.createdAt).where(sql`dispatched_at is null`),
  ],
);
