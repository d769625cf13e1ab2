import type { EventType, LedgerEvent } from '../events/types';
import type { Scope } from '../types';

/**
 * Outbound webhooks, as the Standard Webhooks spec says them: a scope's endpoints, the
 * messages (deliveries) made for them from the event log, and every attempt at one.
 */

/** An endpoint as the API shows it: never its secret. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string;
  /** The event types it is sent; null: every type. */
  eventTypes: EventType[] | null;
  enabled: boolean;
  /** Why it was disabled: `gone` (it answered 410), `failing` (5 days of failures), `manual`. */
  disabledReason: DisabledReason | null;
  /** The first failure since its last success (null while it succeeds). */
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type DisabledReason = 'gone' | 'failing' | 'manual';

/** An endpoint as stored: with its secrets, which only the signer reads. */
export interface WebhookEndpointRecord extends WebhookEndpoint {
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

/** One message for one endpoint. `id` is the `webhook-id` header, the same on every retry. */
export interface WebhookDelivery {
  id: string;
  endpointId: string;
  /** The event carried; null for a test message. */
  eventId: string | null;
  eventType: string;
  /** The JSON body, fixed when the message is made. */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  /** Position in the retry schedule (a replay starts again at 0). */
  retryStep: number;
  nextAttemptAt: Date | null;
  lockedUntil: Date | null;
  lastAttemptAt: Date | null;
  lastResponseCode: number | null;
  createdAt: Date;
}

export interface WebhookAttempt {
  id: string;
  deliveryId: string;
  endpointId: string;
  eventType: string;
  status: 'succeeded' | 'failed';
  responseCode: number | null;
  latencyMs: number;
  /** The first KB of the answer. */
  responseBody: string;
  /** Why it failed without an answer: `timeout`, a refused target, a network error. */
  error: string | null;
  attemptedAt: Date;
}

/** A due message claimed by a worker, with its endpoint (and secrets) to sign and send. */
export interface ClaimedDelivery {
  scope: Scope;
  delivery: WebhookDelivery;
  endpoint: WebhookEndpointRecord;
}

/** What an attempt changes: the attempt row, the message, and the endpoint's failing mark. */
export interface AttemptOutcome {
  attempt: WebhookAttempt;
  delivery: Pick<WebhookDelivery, 'status' | 'retryStep' | 'nextAttemptAt' | 'lastResponseCode'>;
  /** The endpoint's failingSince after it: null on a success; kept (or set now) on a failure. */
  failingSince: Date | null;
}

export interface WebhookOutStore {
  insertEndpoint(scope: Scope, e: WebhookEndpointRecord): Promise<void>;
  getEndpoint(scope: Scope, id: string): Promise<WebhookEndpointRecord | null>;
  /** Oldest first. */
  listEndpoints(scope: Scope): Promise<WebhookEndpointRecord[]>;
  /** Writes every field; false when it is gone. */
  updateEndpoint(scope: Scope, e: WebhookEndpointRecord): Promise<boolean>;
  /** Deletes it with its messages and attempts; false when it was not there. */
  deleteEndpoint(scope: Scope, id: string): Promise<boolean>;
  /**
   * Disables an enabled endpoint; false when it was already disabled or gone (the worker
   * records its event in the same transaction, through the event log).
   */
  disableEndpoint(scope: Scope, id: string, reason: DisabledReason, at: Date): Promise<boolean>;
  /**
   * The fan-out, in one transaction: up to `limit` events not yet dispatched, oldest
   * first, in every scope (rows locked with skip locked, so instances share the work);
   * one message per event and enabled endpoint of the event's scope whose filter takes it
   * and that existed when the event was made; the events marked dispatched. Answers the
   * messages made with a lease (`lockedUntil`, set by `makeDelivery`): this worker sends
   * them without claiming them again.
   */
  fanOut(
    limit: number,
    at: Date,
    makeDelivery: (event: LedgerEvent, endpoint: WebhookEndpointRecord, scope: Scope) => WebhookDelivery,
  ): Promise<{ events: number; deliveries: number; leased: ClaimedDelivery[] }>;
  insertDelivery(scope: Scope, d: WebhookDelivery): Promise<void>;
  getDelivery(scope: Scope, id: string): Promise<WebhookDelivery | null>;
  /**
   * Leases due messages (pending, next attempt at or before `at`, not leased) of enabled
   * endpoints in every scope, at most `perEndpoint` of each endpoint and none of the
   * endpoints in `skip` (`tenant|app|endpoint`: those this worker has full), soonest first.
   */
  claimDue(at: Date, leaseUntil: Date, limit: number, perEndpoint: number, skip: readonly string[]): Promise<ClaimedDelivery[]>;
  /**
   * Records attempts, each with its message's next step (lease released) and its
   * endpoint's failing mark, all in one statement: attempts finishing together share one
   * commit (the worker gathers them).
   */
  recordAttempts(batch: readonly { scope: Scope; outcome: AttemptOutcome }[]): Promise<void>;
  /**
   * Extends the leases of messages a worker holds, each only while it is still pending
   * under the lease the worker knows (`lockedUntil`): a lease that lapsed and was taken by
   * another instance stays theirs. Answers the renewed ones as `tenant|app|id`.
   */
  renewLeases(held: readonly { scope: Scope; id: string; lockedUntil: Date }[], until: Date): Promise<string[]>;
  /** The soonest next attempt of a pending message in any scope (the retry timer). */
  nextDueAt(): Promise<Date | null>;
  /**
   * Deletes up to `limit` settled messages (succeeded or failed, never pending) of every
   * scope made before `before`, with their attempts; how many messages went.
   */
  purge(before: Date, limit: number): Promise<number>;
  /** An endpoint's attempts, newest first; `cursor` is the last attempt id of the page before. */
  listAttempts(scope: Scope, endpointId: string, page: { limit: number; cursor?: string }): Promise<WebhookAttempt[]>;
  /** Back to pending now, at the schedule's start (lease released): the ids given, or an endpoint's failed ones made since a time. */
  requeue(scope: Scope, which: { deliveryId: string } | { endpointId: string; failedSince: Date }, at: Date): Promise<number>;
}

/** A message's body, as the spec shapes it, with the event's id. */
export interface WebhookPayload {
  /** The event's id (`evt_…`); a test message has none. */
  id?: string;
  type: string;
  /** When the event happened (ISO 8601). */
  timestamp: string;
  /** The object, as it was after the change. */
  data: Record<string, unknown>;
}

/** `tenant|app|endpoint`: an endpoint's key across scopes. */
export const endpointKey = (scope: Scope, endpointId: string): string => `${scope.tenantId}|${scope.appId}|${endpointId}`;

/** Whether an endpoint takes an event type. */
export const takesType = (e: Pick<WebhookEndpoint, 'eventTypes'>, type: string): boolean => e.eventTypes === null || (e.eventTypes as string[]).includes(type);

/**
 * Whether the fan-out makes a message of `event` for `endpoint`: enabled, a type it takes,
 * made since the endpoint was (never its past), and not the endpoint's own creation.
 */
export const receives = (endpoint: Pick<WebhookEndpointRecord, 'id' | 'eventTypes' | 'createdAt'>, event: Pick<LedgerEvent, 'type' | 'objectId' | 'createdAt'>): boolean =>
  takesType(endpoint, event.type) && endpoint.createdAt <= event.createdAt && !(event.type === 'webhook_endpoint.created' && event.objectId === endpoint.id);

/** The public view of a stored endpoint. */
export function endpointView(e: WebhookEndpointRecord): WebhookEndpoint {
  const { secret: _s, previousSecret: _p, previousSecretExpiresAt: _x, ...view } = e;
  return view;
}
