import { z } from 'zod';
import type { EngineContext } from '../context';
import { EVENT_TYPES, type EventType } from '../events/types';
import { LedgerError, notFound, parseInput, requiredText, text, type Scope } from '../types';
import { RETRY_SCHEDULE_MS } from './schedule';
import { newSecret, PREVIOUS_SECRET_TTL_MS } from './signing';
import { checkEndpointUrl, targetGuardFromEnv, type TargetGuard } from './target-guard';
import { endpointView, type WebhookAttempt, type WebhookDelivery, type WebhookEndpoint, type WebhookEndpointRecord, type WebhookOutStore, type WebhookPayload } from './types';
import { DeliveryWorker, newEndpointId, newMessageId, type DeliveryWorkerOptions, type WorkerReport } from './worker';

export interface OutboundWebhookOptions extends DeliveryWorkerOptions {
  /** Where endpoints and messages live (createPostgresWebhookOutStore(db)); in memory when omitted. */
  store?: WebhookOutStore;
  /** The SSRF guard; from LEDGER_WEBHOOKS_ALLOW_PRIVATE and NODE_ENV when omitted. */
  guard?: TargetGuard;
  /** Days a settled message (delivered or given up) and its attempts are kept (default 30). */
  retentionDays?: number;
}

export const DEFAULT_WEBHOOK_RETENTION_DAYS = 30;

/** Endpoints a scope may have. */
export const MAX_ENDPOINTS_PER_SCOPE = 20;

export const endpointInputSchema = z
  .object({
    url: requiredText(2048),
    description: text(500).optional(),
    /** The event types to send; null or absent: every type. */
    eventTypes: z.array(z.enum(EVENT_TYPES)).min(1).max(EVENT_TYPES.length).nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();
export type EndpointInput = z.input<typeof endpointInputSchema>;

export const endpointUpdateSchema = endpointInputSchema.partial();
export type EndpointUpdate = z.input<typeof endpointUpdateSchema>;

/** An endpoint and its secret: only create and rotateSecret answer the secret, once. */
export interface EndpointWithSecret {
  endpoint: WebhookEndpoint;
  secret: string;
}

/**
 * Outbound webhooks (the `webhook` plugin of issue 10), following the Standard Webhooks
 * spec: a scope's endpoints and their secrets, its messages' attempts and replays, and
 * the worker that sends them from the event log (`runOnce`, `start`, `stop`).
 */
export class OutboundWebhooks {
  readonly worker: DeliveryWorker;
  readonly guard: TargetGuard;
  readonly retentionDays: number;

  constructor(
    private readonly ctx: EngineContext,
    private readonly store: WebhookOutStore,
    options: OutboundWebhookOptions = {},
  ) {
    this.guard = options.guard ?? targetGuardFromEnv();
    this.retentionDays = options.retentionDays ?? DEFAULT_WEBHOOK_RETENTION_DAYS;
    this.worker = new DeliveryWorker(store, ctx.events, ctx.clock, ctx.logger, this.guard, options);
    // Committed events wake a started worker; the log stays the source of truth.
    ctx.events.onCommitted(() => this.worker.wake());
  }

  async create(scope: Scope, input: EndpointInput): Promise<EndpointWithSecret> {
    const i = parseInput(endpointInputSchema, input, 'webhook endpoint');
    checkEndpointUrl(i.url, this.guard);
    if ((await this.store.listEndpoints(scope)).length >= MAX_ENDPOINTS_PER_SCOPE) {
      throw new LedgerError('limit_exceeded', `a scope has at most ${MAX_ENDPOINTS_PER_SCOPE} webhook endpoints`);
    }
    const now = this.ctx.clock.now();
    const enabled = i.enabled ?? true;
    const record: WebhookEndpointRecord = {
      id: newEndpointId(),
      url: i.url,
      description: i.description ?? '',
      eventTypes: normalizeTypes(i.eventTypes),
      enabled,
      disabledReason: enabled ? null : 'manual',
      failingSince: null,
      createdAt: now,
      updatedAt: now,
      secret: newSecret(),
      previousSecret: null,
      previousSecretExpiresAt: null,
    };
    await this.ctx.events.atomic(scope, async (recordEvent) => {
      await this.store.insertEndpoint(scope, record);
      recordEvent({ type: 'webhook_endpoint.created', object: endpointView(record), customerId: null });
    });
    return { endpoint: endpointView(record), secret: record.secret };
  }

  async list(scope: Scope): Promise<WebhookEndpoint[]> {
    return (await this.store.listEndpoints(scope)).map(endpointView);
  }

  async get(scope: Scope, id: string): Promise<WebhookEndpoint> {
    return endpointView(await this.#endpoint(scope, id));
  }

  /** Changes the URL, description, filter or enabled flag. Enabling again clears the failing mark. */
  async update(scope: Scope, id: string, patch: EndpointUpdate): Promise<WebhookEndpoint> {
    const p = parseInput(endpointUpdateSchema, patch, 'webhook endpoint');
    const current = await this.#endpoint(scope, id);
    if (p.url !== undefined) checkEndpointUrl(p.url, this.guard);
    const next: WebhookEndpointRecord = {
      ...current,
      ...(p.url !== undefined ? { url: p.url } : {}),
      ...(p.description !== undefined ? { description: p.description } : {}),
      ...(p.eventTypes !== undefined ? { eventTypes: normalizeTypes(p.eventTypes) } : {}),
      updatedAt: this.ctx.clock.now(),
    };
    if (p.enabled === true && !current.enabled) Object.assign(next, { enabled: true, disabledReason: null, failingSince: null });
    if (p.enabled === false && current.enabled) Object.assign(next, { enabled: false, disabledReason: 'manual' });
    await this.ctx.events.atomic(scope, async (record) => {
      if (!(await this.store.updateEndpoint(scope, next))) throw notFound('webhook endpoint', id);
      record({ type: 'webhook_endpoint.updated', object: endpointView(next), before: endpointView(current), customerId: null });
    });
    if (next.enabled && !current.enabled) this.worker.wake(); // its pending messages are due again
    return endpointView(next);
  }

  /** Deletes an endpoint with its messages and attempts. */
  async delete(scope: Scope, id: string): Promise<{ id: string; deleted: true }> {
    const current = await this.#endpoint(scope, id);
    await this.ctx.events.atomic(scope, async (record) => {
      if (!(await this.store.deleteEndpoint(scope, id))) throw notFound('webhook endpoint', id);
      record({ type: 'webhook_endpoint.deleted', object: endpointView(current), customerId: null });
    });
    return { id, deleted: true };
  }

  /** A new secret, answered once; the one before keeps signing (both signatures sent) for 24 hours. */
  async rotateSecret(scope: Scope, id: string): Promise<EndpointWithSecret> {
    const current = await this.#endpoint(scope, id);
    const now = this.ctx.clock.now();
    const next: WebhookEndpointRecord = {
      ...current,
      secret: newSecret(),
      previousSecret: current.secret,
      previousSecretExpiresAt: new Date(now.getTime() + PREVIOUS_SECRET_TTL_MS),
      updatedAt: now,
    };
    await this.ctx.events.atomic(scope, async (record) => {
      if (!(await this.store.updateEndpoint(scope, next))) throw notFound('webhook endpoint', id);
      // The secrets are never in an event; the old one's expiry says a rotation happened.
      const view = (e: WebhookEndpointRecord) => ({ ...endpointView(e), previousSecretExpiresAt: e.previousSecretExpiresAt });
      record({ type: 'webhook_endpoint.secret_rotated', object: view(next), before: view(current), customerId: null });
    });
    return { endpoint: endpointView(next), secret: next.secret };
  }

  /**
   * Sends a test message (`webhook_endpoint.test`) now, signed like any other, and answers
   * its attempt. Not retried: a test is answered at once or not at all.
   */
  async sendTest(scope: Scope, id: string): Promise<{ delivery: WebhookDelivery; attempt: WebhookAttempt }> {
    const endpoint = await this.#endpoint(scope, id);
    const now = this.ctx.clock.now();
    const body: WebhookPayload = { type: 'webhook_endpoint.test', timestamp: now.toISOString(), data: { endpointId: endpoint.id, message: 'A test message from Ledger.' } };
    const delivery: WebhookDelivery = {
      id: newMessageId(),
      endpointId: endpoint.id,
      eventId: null,
      eventType: body.type,
      payload: JSON.stringify(body),
      status: 'pending',
      attempts: 0,
      // The schedule's last step: a failure is final.
      retryStep: RETRY_SCHEDULE_MS.length - 1,
      nextAttemptAt: null,
      // Held by this call while it sends.
      lockedUntil: new Date(now.getTime() + 2 * this.worker.timeoutMs),
      lastAttemptAt: null,
      lastResponseCode: null,
      createdAt: now,
    };
    await this.store.insertDelivery(scope, delivery);
    const attempt = await this.worker.attempt({ scope, delivery, endpoint });
    return { delivery: (await this.store.getDelivery(scope, delivery.id))!, attempt };
  }

  /** An endpoint's attempts, newest first, in pages. */
  async attempts(scope: Scope, endpointId: string, page: { limit?: number; cursor?: string } = {}): Promise<{ items: WebhookAttempt[]; nextCursor: string | null }> {
    await this.#endpoint(scope, endpointId);
    const limit = page.limit ?? 50;
    const rows = await this.store.listAttempts(scope, endpointId, { limit: limit + 1, ...(page.cursor ? { cursor: page.cursor } : {}) });
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
  }

  async delivery(scope: Scope, id: string): Promise<WebhookDelivery> {
    const d = await this.store.getDelivery(scope, id);
    if (!d) throw notFound('webhook message', id);
    return d;
  }

  /** Sends one message again (same webhook-id), from the start of the schedule. */
  async replay(scope: Scope, deliveryId: string): Promise<WebhookDelivery> {
    await this.delivery(scope, deliveryId);
    await this.store.requeue(scope, { deliveryId }, this.ctx.clock.now());
    this.worker.wake();
    return this.delivery(scope, deliveryId);
  }

  /** Sends again every failed message of an endpoint made since a time; how many. */
  async replayFailed(scope: Scope, endpointId: string, since: Date): Promise<{ replayed: number }> {
    await this.#endpoint(scope, endpointId);
    const replayed = await this.store.requeue(scope, { endpointId, failedSince: since }, this.ctx.clock.now());
    if (replayed) this.worker.wake();
    return { replayed };
  }

  /**
   * Deletes every scope's settled messages (delivered, or failed for good) older than the
   * retention, with their attempts, in batches; how many went. Pending messages stay,
   * however old. The billing schedule runs it hourly.
   */
  async purgeExpired(batch = 1_000): Promise<number> {
    const before = new Date(this.ctx.clock.now().getTime() - this.retentionDays * 86_400_000);
    let total = 0;
    for (;;) {
      const n = await this.store.purge(before, batch);
      total += n;
      if (n < batch) return total;
    }
  }

  /** One full pass of the worker, awaited: the event log fanned out, every due message sent. */
  runOnce(): Promise<WorkerReport> {
    return this.worker.runOnce();
  }

  start(): void {
    this.worker.start();
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  async #endpoint(scope: Scope, id: string): Promise<WebhookEndpointRecord> {
    const e = await this.store.getEndpoint(scope, id);
    if (!e) throw notFound('webhook endpoint', id);
    return e;
  }
}

/** Null: every type; a list: sorted, each once. */
function normalizeTypes(types: readonly EventType[] | null | undefined): EventType[] | null {
  return types ? [...new Set(types)].sort() : null;
}
