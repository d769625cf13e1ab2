import { index, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { scope, ts } from './columns';

/**
 * The audit trail: one row per entity a write changed, through the API, the portal, a
 * provider webhook or the billing cycle, written in the change's own transaction (the
 * engine's rows from the events it records, server/ledger/audit/; the portal's member
 * rows by the portal itself). Append-only: a trigger (migration 0014_audit) refuses every
 * UPDATE, and every DELETE except the retention purge's, which deletes by age only.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    ...scope,
    /** `aud_…` (TypeID, time-ordered): the list's order and cursor. */
    id: text('id').notNull(),
    /** api_key, portal_user, provider or system. */
    actorType: text('actor_type').$type<'api_key' | 'portal_user' | 'provider' | 'system'>().notNull(),
    /** The API key's id, the portal user's id, the provider's name, or what in the system (`billing`, `engine`). */
    actorId: text('actor_id').notNull(),
    actorEmail: text('actor_email'),
    /** What was done, named like the event log's types (`invoice.paid`, `portal_member.removed`). */
    action: text('action').notNull(),
    /** The entity's kind (`invoice`) and id (`inv_…`). */
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    /** The changed fields: `{ field: { before, after } }` (a creation: every field, before null). */
    changes: jsonb('changes').$type<Record<string, { before: unknown; after: unknown }>>().notNull(),
    requestId: text('request_id'),
    ip: text('ip'),
    /** The event the entry was made from, when there is one. */
    eventId: text('event_id'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    primaryKey({ name: 'audit_log_pkey', columns: [t.tenantId, t.appId, t.id] }),
    // audit.list's filters, each newest first by id.
    index('audit_log_entity_idx').on(t.tenantId, t.appId, t.entityId, t.id),
    index('audit_log_actor_idx').on(t.tenantId, t.appId, t.actorType, t.actorId, t.id),
    index('audit_log_action_idx').on(t.tenantId, t.appId, t.action, t.id),
    index('audit_log_scope_created_idx').on(t.tenantId, t.appId, t.createdAt),
    // Retention: the oldest entries of every scope, deleted in batches.
    index('audit_log_created_idx').on(t.createdAt),
  ],
);
