import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { ts } from './columns';

/**
 * The webhook inbox: every event a payment provider sent, stored once by its provider
 * event id before it is answered, then processed from here (so a crash between storing
 * and processing loses nothing: `processPending` picks it up).
 *
 * The one table whose primary key does not start with (tenant_id, app_id), like the
 * api_keys lookup: a provider account (one Stripe or Paddle account per deployment)
 * sends every tenant's events to one URL, and the scope is not known when an event
 * arrives; it is read from the object's metadata and checked against the stored
 * provider ids while processing, then written here (`tenant_id`, `app_id`, null until
 * then and for events about objects Ledger does not know). On Citus this table stays a
 * local (coordinator) table: it is written once per event and read by its key.
 */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    /** `sandbox`, `stripe`, `paddle`, or a custom provider's name. */
    provider: text('provider').notNull(),
    /** The provider's event id (Stripe's `evt_…`): the same event sent twice is one row. */
    eventId: text('event_id').notNull(),
    /** The provider's event type as sent (`payment_intent.succeeded`). */
    type: text('type').notNull(),
    /** The raw body as received (verified), kept for audit and reprocessing. */
    payload: text('payload').notNull(),
    /** The event in Ledger's terms (`ProviderEvent`), as the provider's adapter read it. */
    event: jsonb('event').$type<Record<string, unknown>>().notNull(),
    receivedAt: ts('received_at').notNull(),
    /** Null while pending. */
    processedAt: ts('processed_at'),
    /** `applied` or `ignored` once processed. */
    outcome: text('outcome').$type<'applied' | 'ignored'>(),
    /** Why it was ignored, or what it did. */
    note: text('note'),
    /** Processing tries so far, and the last one's error (null once one succeeded). */
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** A processor holds the event until then, so two instances never process it at once. */
    lockedUntil: ts('locked_until'),
    /** The scope, once processing found it (null for events about unknown objects). */
    tenantId: text('tenant_id'),
    appId: text('app_id'),
  },
  (t) => [
    primaryKey({ columns: [t.provider, t.eventId] }),
    index('webhook_events_pending_idx').on(t.receivedAt).where(sql`${t.processedAt} is null`),
    index('webhook_events_scope_idx').on(t.tenantId, t.appId, t.receivedAt),
  ],
);
