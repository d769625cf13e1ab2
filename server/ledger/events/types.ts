import type { EventId, Scope } from '../types';

/**
 * The event log's types, named like Stripe's events. Each is written in the same
 * transaction as the change it names (see log.ts), with the object as it was after it.
 */
export const EVENT_TYPES = [
  'customer.created',
  'customer.updated',
  'plan.created',
  'plan.updated',
  'plan.archived',
  'coupon.created',
  /** Name, metadata, expiry or cap changed. */
  'coupon.updated',
  'coupon.archived',
  'tax_rate.created',
  /** Renamed, described, or reactivated. */
  'tax_rate.updated',
  /** Deactivated: how a rate is retired. */
  'tax_rate.archived',
  'subscription.created',
  /** Plan, seats, cancellation scheduled or resumed, status (past_due, unpaid, active). */
  'subscription.updated',
  'subscription.trial_ended',
  /** A period ended and the next began: `data` is the subscription in its new period. */
  'subscription.renewed',
  /** Ended: canceled now, at the period end, or by dunning. */
  'subscription.canceled',
  'invoice.created',
  'invoice.finalized',
  'invoice.paid',
  'invoice.payment_failed',
  'invoice.past_due',
  'invoice.voided',
  'payment.succeeded',
  'payment.failed',
  /** A scope's payment settings changed (provider, retries, …): `data` has the settings, with the scope as `id`. */
  'payment_settings.updated',
  /** A scope's billing settings changed (its rounding mode): `data` has the settings, with the scope as `id`. */
  'scope_settings.updated',
  /** A payment method was saved for a customer (a hosted set-up, a provider's webhook). */
  'payment_method.attached',
  /** A payment method became (or stopped being) the default, or its card details changed. */
  'payment_method.updated',
  'payment_method.detached',
  /** A credit note was issued against an invoice. */
  'credit_note.created',
  /** A refund was made (pending at the provider) … */
  'refund.created',
  /** … and moved on: succeeded, failed or canceled, or its provider id learned. */
  'refund.updated',
  /** Metered usage hit a hard limit (first denied check of the period). Best effort: no write names it. */
  'usage.quota_exceeded',
  /** Metered usage reached 80 % of a limit. Best effort, as quota_exceeded. */
  'usage.soft_limit_reached',
  'webhook_endpoint.created',
  /** URL, description, filter or enabled flag changed. */
  'webhook_endpoint.updated',
  /** A new signing secret (the old one signs for 24 more hours); neither is in the event. */
  'webhook_endpoint.secret_rotated',
  'webhook_endpoint.deleted',
  /** An outbound webhook endpoint was disabled (410 Gone, or failing for 5 days). */
  'webhook_endpoint.disabled',
  /** A customer's wallet for a currency was made. */
  'wallet.created',
  /** Its automatic top-up or recurring grants changed. */
  'wallet.updated',
  /** A movement of credits (Lago's name): a grant, a top-up, a use, an expiry, a reversal or a restore, with the balance after it. */
  'wallet_transaction.created',
  'test_clock.created',
  /** A test clock moved forward (once per step of an advance): `data.now` is its new time, `previous.now` the old. */
  'test_clock.advanced',
  /** Deleted, with the customers on it. */
  'test_clock.deleted',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Who made a change: the audit trail's actor, carried with the request (actor.ts). */
export type Actor =
  | { type: 'api_key'; id: string }
  | { type: 'portal_user'; id: string; email: string | null }
  | { type: 'provider'; id: string }
  | { type: 'system'; id: string };

/** The request a change came with: who, and where from (null outside a request). */
export interface RequestContext {
  actor: Actor;
  requestId: string | null;
  ip: string | null;
}

export interface LedgerEvent {
  id: EventId;
  type: EventType;
  /** The object's id (`inv_…`). */
  objectId: string;
  customerId: string | null;
  /** The object after the change, as JSON (dates as ISO strings). */
  data: Record<string, unknown>;
  /** For updates: the changed top-level fields as they were before. */
  previous: Record<string, unknown> | null;
  /** The request that made the change; null for changes made outside one. */
  request: RequestContext | null;
  createdAt: Date;
}

/** What a write hands the recorder: the rest (id, time, request) is filled in. */
export interface EventInput {
  type: EventType;
  /** The object after the change: must have an `id`. */
  object: { id: string };
  /** The object before the change: `previous` keeps the fields that differ. */
  before?: object | null;
  /** Default: the object's `customerId`, or its id when it is a customer. */
  customerId?: string | null;
}

export interface EventQuery {
  type?: EventType;
  /** Types starting with this (`invoice.`). */
  typePrefix?: string;
  objectId?: string;
  customerId?: string;
  /** Half-open [createdFrom, createdTo). */
  createdFrom?: Date;
  createdTo?: Date;
}

/** Newest first, by (createdAt, id). */
export interface EventStore {
  append(scope: Scope, events: readonly LedgerEvent[]): Promise<void>;
  get(scope: Scope, id: string): Promise<LedgerEvent | null>;
  list(scope: Scope, query: EventQuery, page: { limit: number; cursor?: string }): Promise<LedgerEvent[]>;
  /**
   * Retention, across scopes (a deployment's setting, as the billing schedule's search for
   * due work): deletes up to `limit` events created before `before`, oldest first; how many went.
   */
  purge(before: Date, limit: number): Promise<number>;
}
