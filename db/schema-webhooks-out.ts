import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { scope, ts } from './columns';

/**
 * Outbound webhooks (the Standard Webhooks spec): a scope's endpoints, the deliveries the
 * fan-out makes from the event log (one per event and matching endpoint), and every
 * attempt at one. The worker reads across tenants (due deliveries, undispatched events)
 * and writes each row back in its own scope.
 */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    ...scope,
    /** `we_…` */
    id: text('id').notNull(),
    url: text('url').notNull(),
    description: text('description').notNull().default(''),
    /** The event types sent to it; null: every type. */
    eventTypes: jsonb('event_types').$type<string[]>(),
    enabled: boolean('enabled').notNull(),
    /** Why it was disabled: `gone` (410), `failing` (5 days), `manual`. */
    disabledReason: text('disabled_reason'),
    /**
     * The signing secret (`whsec_…`). Stored as it is because every delivery must be
     * signed with it (an HMAC key cannot be hashed away); never returned by list or get.
     */
    secret: text('secret').notNull(),
    /** The secret before the last rotation: it signs too until `previous_secret_expires_at`. */
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: ts('previous_secret_expires_at'),
    /** The first failed attempt since the last success: 5 days of failing disables the endpoint. */
    failingSince: ts('failing_since'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [primaryKey({ name: 'webhook_endpoints_pkey', columns: [t.tenantId, t.appId, t.id] })],
);

/**
 * One message: an event (or a test) for one endpoint. Its id is the `webhook-id` header,
 * the same on every retry, and its body is fixed when it is made, so every attempt sends
 * the same bytes. `locked_until` is a worker's lease: an instance killed mid-delivery
 * leaves it to lapse and another sends the message again (at least once).
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    ...scope,
    /** `msg_…`: the webhook-id header. */
    id: text('id').notNull(),
    endpointId: text('endpoint_id').notNull(),
    /** The event it carries; null for a test message (sendTest). */
    eventId: text('event_id'),
    eventType: text('event_type').notNull(),
    /** The JSON body, as sent on every attempt. */
    payload: text('payload').notNull(),
    status: text('status').$type<'pending' | 'succeeded' | 'failed'>().notNull(),
    /** Attempts made in all (replays included). */
    attempts: integer('attempts').notNull().default(0),
    /** Where it is in the retry schedule: a replay starts it again at 0. */
    retryStep: integer('retry_step').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at'),
    lockedUntil: ts('locked_until'),
    lastAttemptAt: ts('last_attempt_at'),
    lastResponseCode: integer('last_response_code'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    primaryKey({ name: 'webhook_deliveries_pkey', columns: [t.tenantId, t.appId, t.id] }),
    // One message per event and endpoint, even if two fan-outs raced.
    uniqueIndex('webhook_deliveries_event_key').on(t.tenantId, t.appId, t.endpointId, t.eventId),
    // The worker's search across tenants: pending messages whose time has come.
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`),
    index('webhook_deliveries_endpoint_idx').on(t.tenantId, t.appId, t.endpointId, t.createdAt),
    // The retention purge, across tenants: settled messages, oldest first.
    index('webhook_deliveries_settled_idx').on(t.createdAt).where(sql`status <> 'pending'`),
  ],
);

/** Every attempt at a message: what the endpoint answered, and how fast. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    ...scope,
    /** `wat_…` (time-ordered: newest first by id). */
    id: text('id').notNull(),
    deliveryId: text('delivery_id').notNull(),
    endpointId: text('endpoint_id').notNull(),
    eventType: text('event_type').notNull(),
    status: text('status').$type<'succeeded' | 'failed'>().notNull(),
    /** The HTTP status; null when none came (timeout, refused, network error). */
    responseCode: integer('response_code'),
    latencyMs: integer('latency_ms').notNull(),
    /** The first KB of the answer. */
    responseBody: text('response_body').notNull().default(''),
    /** Why it failed without an answer (`timeout`, a refused address, a network error). */
    error: text('error'),
    attemptedAt: ts('attempted_at').notNull(),
  },
  (t) => [
    primaryKey({ name: 'webhook_attempts_pkey', columns: [t.tenantId, t.appId, t.id] }),
    index('webhook_attempts_endpoint_idx').on(t.tenantId, t.appId, t.endpointId, t.id),
    // The retention purge deletes a message's attempts with it.
    index('webhook_attempts_delivery_idx').on(t.tenantId, t.appId, t.deliveryId),
  ],
);
