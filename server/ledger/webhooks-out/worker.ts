import type { EventLog } from '../events/log';
import type { LedgerEvent } from '../events/types';
import { errorSummary, newId, type Clock, type Logger, type Scope } from '../types';
import { SenderThreads } from './send-thread';
import { postWebhook, type SendResult } from './sender';
import { DISABLE_AFTER_FAILING_MS, nextAttemptAfterFailure } from './schedule';
import { signedHeaders } from './signing';
import { resolveTarget, resolveTargetNow, type ResolvedTarget, type TargetGuard } from './target-guard';
import {
  endpointKey,
  endpointView,
  type AttemptOutcome,
  type ClaimedDelivery,
  type DisabledReason,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEndpointRecord,
  type WebhookOutStore,
  type WebhookPayload,
} from './types';

export interface DeliveryWorkerOptions {
  /** An attempt is given up after this long (default 15 s). */
  timeoutMs?: number;
  /** Messages in flight per endpoint, per instance (default 4): one slow endpoint holds only its own. */
  perEndpoint?: number;
  /** Messages claimed at a time (default 100). */
  batch?: number;
  /**
   * A lease on the messages this worker holds (made by its fan-out or claimed): renewed
   * every third of it while they wait or are sent, so another instance sends a message
   * again only once its holder stopped renewing (a crash). Default 60 s.
   */
  leaseMs?: number;
  /** How often a started worker looks for work without being woken (other instances' events; default 5 s). */
  pollMs?: number;
  /**
   * The clock of the `webhook-timestamp` header (default: the system's). Receivers check
   * it against their own time (5 minutes' tolerance), so it is the real time even when
   * the engine runs on a test clock; schedules follow the engine's clock.
   */
  signingClock?: Clock;
  /** Told of every attempt, for metrics (the app passes recordWebhookDelivery). Must not throw. */
  onAttempt?: (outcome: 'delivered' | 'failed' | 'timeout' | 'error', seconds: number) => void;
  /**
   * Worker threads that sign and POST (default 0: on the main thread). The main thread
   * keeps the database work and the SSRF guard: a thread connects only to the address the
   * guard checked. Started on the first attempt, terminated by `stop`. Off by default: on
   * this 2-core machine, quiet, a thread delivered fewer messages a second (median about
   * 3,000 against 3,400), and it helped only under CPU contention from other processes.
   */
  senderThreads?: number;
}

export interface WorkerReport {
  /** Events fanned out. */
  dispatched: number;
  /** Messages made by the fan-out. */
  made: number;
  attempted: number;
  succeeded: number;
  failed: number;
}

/**
 * Messages of one endpoint this worker claims at most: QUEUE_ROUNDS rounds of its
 * in-flight slots, so a claim serves many messages (claims cost a query) while a slow
 * endpoint holds few; the rest stay in the table for other instances and later passes.
 */
const QUEUE_ROUNDS = 25;
/**
 * Messages of one endpoint the fan-out leases to its own worker (those it just made), in
 * rounds of the endpoint's slots: sent without a claim (a query and a row written less per
 * message). Leases are renewed, so the bound is memory, not how long a crash delays them.
 */
const FRESH_ROUNDS = 250;
/** Messages this worker holds at most from its fan-out (its memory); the rest wait for claims. */
const MAX_HELD = 20_000;
const CLAIM_BATCHES = 4;

const emptyReport = (): WorkerReport => ({ dispatched: 0, made: 0, attempted: 0, succeeded: 0, failed: 0 });

const realClock: Clock = { now: () => new Date() };

/**
 * The outbound webhooks' worker: it fans the event log out into messages, and sends the
 * messages that are due. Several instances may run it on one database: the fan-out locks
 * the events it takes (skip locked), and a message is sent under a lease. Woken after a
 * commit (`wake`), by a timer for the next due retry, and by a poll for other instances'
 * events; `runOnce` does one full pass and waits for it (tests, commands).
 */
export class DeliveryWorker {
  readonly #timeoutMs: number;
  readonly #perEndpoint: number;
  readonly #batch: number;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #signingClock: Clock;
  readonly #onAttempt: DeliveryWorkerOptions['onAttempt'];
  /** Messages sending or waiting for a slot, per endpoint key. */
  readonly #slots = new Map<string, { active: number; waiting: (() => void)[] }>();
  /** Messages this worker holds that are waiting for a slot, sending, or being recorded. */
  #inFlight = 0;
  /** Told when a message is done: the pass's loop wakes then if it may claim or end (racing every task cost O(n) per wake). */
  #taskEnded: () => void = () => {};
  #running: Promise<WorkerReport> | null = null;
  #again = false;
  #started = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  readonly #toRecord: { scope: Scope; outcome: AttemptOutcome; resolve(): void; reject(e: unknown): void }[] = [];
  #recording: Promise<void> | null = null;
  #lastBody: { eventId: string; payload: string } | null = null;
  /** The messages this worker holds under its lease, by `tenant|app|id`, until their attempt is recorded. */
  readonly #held = new Map<string, HeldLease>();
  #renewTimer: ReturnType<typeof setInterval> | null = null;
  #renewing: Promise<void> | null = null;
  #senderThreads: number;
  #threads: SenderThreads | null = null;

  constructor(
    private readonly store: WebhookOutStore,
    private readonly events: EventLog,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly guard: TargetGuard,
    options: DeliveryWorkerOptions = {},
  ) {
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#perEndpoint = options.perEndpoint ?? 4;
    this.#batch = options.batch ?? 100;
    this.#leaseMs = options.leaseMs ?? 60_000;
    this.#pollMs = options.pollMs ?? 5_000;
    this.#signingClock = options.signingClock ?? realClock;
    this.#onAttempt = options.onAttempt;
    this.#senderThreads = options.senderThreads ?? 0;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** Starts working in the background: now, when woken, for due retries, and every poll. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.wake();
  }

  /** Stops the timers and waits for the messages in flight. */
  async stop(): Promise<void> {
    this.#started = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    while (this.#running) await this.#running.catch(() => {});
    this.#stopRenewing();
    await this.#renewing;
    const threads = this.#threads;
    this.#threads = null;
    await threads?.close();
  }

  /** A pass in the background, if started (after a commit: a wake-up, never the source of truth). */
  wake(): void {
    if (!this.#started) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#pass().catch((e: unknown) => this.logger.error('outbound webhooks: a pass failed', errorSummary(e)));
  }

  /** One full pass, awaited: fan out every undispatched event, then send every due message. */
  async runOnce(): Promise<WorkerReport> {
    while (this.#running) await this.#running.catch(() => {});
    return this.#pass();
  }

  #pass(): Promise<WorkerReport> {
    const run = this.#work();
    const tracked = run.finally(() => {
      this.#running = null;
      if (this.#again && this.#started) {
        this.#again = false;
        this.wake();
      } else void this.#schedule();
    });
    this.#running = tracked;
    return tracked;
  }

  /**
   * A pass: the fan-out and the sending run side by side, and claims are made while
   * earlier messages are still sending (each is a query: waiting for them in turn left
   * the connections idle). Ends when the log is fanned out and nothing due is left.
   */
  async #work(): Promise<WorkerReport> {
    const report = emptyReport();
    // The loop sleeps until something it waits for changed; wake-ups before it sleeps
    // again are one (a promise per message done was a cost per message).
    let wake = () => {};
    let woken = false;
    const wakeLoop = () => {
      if (woken) return;
      woken = true;
      wake();
    };
    const sleep = () =>
      new Promise<void>((r) => {
        wake = r;
        if (woken) r();
      });
    const halfBatch = (CLAIM_BATCHES * this.#batch) / 2;
    // A message done matters to the loop only once few are left (it claims, or ends).
    this.#taskEnded = () => {
      if (this.#inFlight <= halfBatch) wakeLoop();
    };
    const perClaim = this.#perEndpoint * QUEUE_ROUNDS;
    let fanning = true;
    /** Nothing was due at the last claim: no more claims in this pass. */
    let exhausted = false;
    let heldBack = false;
    const fanOut = (async () => {
      try {
        for (;;) {
          // The messages made are leased to this worker (their leases renewed while it
          // holds them), up to FRESH_ROUNDS rounds of each endpoint's slots and MAX_HELD in
          // all; the rest are left for claims (here or on another instance).
          const now = this.clock.now();
          const lease = new Date(now.getTime() + this.#leaseMs);
          const taken = new Map<string, number>();
          let held = this.#held.size;
          const fanned = await this.store.fanOut(this.#batch, now, (event, endpoint, scope) => {
            const key = endpointKey(scope, endpoint.id);
            const slot = this.#slots.get(key);
            const load = (taken.get(key) ?? 0) + (slot ? slot.active + slot.waiting.length : 0);
            if (load >= this.#perEndpoint * FRESH_ROUNDS || held >= MAX_HELD) return this.#message(event, endpoint, now, null);
            taken.set(key, (taken.get(key) ?? 0) + 1);
            held++;
            return this.#message(event, endpoint, now, lease);
          });
          for (const c of fanned.leased) void this.#send(this.#hold(c), report);
          report.dispatched += fanned.events;
          report.made += fanned.deliveries;
          if (fanned.deliveries > fanned.leased.length) exhausted = false;
          wakeLoop();
          if (fanned.events < this.#batch) break;
        }
      } finally {
        fanning = false;
        wakeLoop();
      }
    })();
    fanOut.catch(() => {}); // awaited below; its failure ends the pass there
    let claiming: Promise<void> | null = null;
    /** A claim that failed ends the pass's claims (its messages in flight finish); the pass then fails with it. */
    let claimFailed: { error: unknown } | null = null;
    const claim = async () => {
      const capacity = CLAIM_BATCHES * this.#batch - this.#inFlight;
      const full = [...this.#slots].filter(([, s]) => s.active + s.waiting.length >= perClaim).map(([k]) => k);
      const now = this.clock.now();
      const claimed = await this.store.claimDue(now, new Date(now.getTime() + this.#leaseMs), capacity, perClaim, full);
      for (const c of claimed) void this.#send(this.#hold(c), report);
      if (claimed.length === 0 && full.length === 0) exhausted = true;
      // Nothing for the endpoints not held back: claim again once everything in flight is done.
      heldBack = claimed.length === 0 && full.length > 0;
    };
    for (;;) {
      woken = false;
      // Claims (retries due, messages left unleased) once the fan-out is done, in
      // batches: again once half the batch is done (or nothing is in flight).
      if (!fanning && !claiming && !exhausted && ((!heldBack && this.#inFlight <= halfBatch) || this.#inFlight === 0)) {
        claiming = claim()
          .catch((error: unknown) => {
            // Not claimed again at once: a claim failing at once would spin this loop.
            claimFailed = { error };
            exhausted = true;
          })
          .finally(() => {
            claiming = null;
            wakeLoop();
          });
      }
      if (!claiming && !fanning && exhausted && this.#inFlight === 0) break;
      await Promise.race([sleep(), ...(claiming ? [claiming] : [])]);
    }
    await fanOut;
    if (claimFailed) throw (claimFailed as { error: unknown }).error;
    return report;
  }

  /** The next wake-up of a started worker: the soonest due retry, at most a poll away. */
  async #schedule(): Promise<void> {
    if (!this.#started) return;
    let wait = this.#pollMs;
    try {
      const due = await this.store.nextDueAt();
      if (due) wait = Math.min(wait, Math.max(0, due.getTime() - this.clock.now().getTime()));
    } catch (e) {
      this.logger.warn('outbound webhooks: could not read the next due message', errorSummary(e));
    }
    if (!this.#started) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.wake();
    }, wait + 10);
    this.#timer.unref?.();
  }

  /** The message an event makes for an endpoint: its body fixed now, due at once. */
  #message(event: LedgerEvent, endpoint: WebhookEndpointRecord, now: Date, lockedUntil: Date | null): WebhookDelivery {
    // The fan-out asks for an event's messages one endpoint after another: its body is
    // serialized once for all of them.
    if (this.#lastBody?.eventId !== event.id) {
      const body: WebhookPayload = { id: event.id, type: event.type, timestamp: event.createdAt.toISOString(), data: event.data };
      this.#lastBody = { eventId: event.id, payload: JSON.stringify(body) };
    }
    const payload = this.#lastBody.payload;
    return {
      id: newMessageId(),
      endpointId: endpoint.id,
      eventId: event.id,
      eventType: event.type,
      payload,
      status: 'pending',
      attempts: 0,
      retryStep: 0,
      nextAttemptAt: now,
      lockedUntil,
      lastAttemptAt: null,
      lastResponseCode: null,
      createdAt: now,
    };
  }

  /** Sends a message this worker holds when its endpoint has a free slot (never fails: an error is logged). */
  async #send(held: HeldLease, report: WorkerReport): Promise<void> {
    this.#inFlight++;
    const c = held.claimed;
    const key = endpointKey(c.scope, c.endpoint.id);
    let slot = this.#slots.get(key);
    if (!slot) this.#slots.set(key, (slot = { active: 0, waiting: [] }));
    // A slot is handed from a message to the next one waiting (never let go and taken
    // again: a message arriving in between could take it too and exceed the bound).
    if (slot.active >= this.#perEndpoint) await new Promise<void>((r) => slot.waiting.push(r));
    else slot.active++;
    let holding = true;
    // The slot is the endpoint's: it is let go when the answer came, not after the
    // attempt is written (the write waits for a commit shared with other attempts).
    const letGo = () => {
      if (!holding) return;
      holding = false;
      const next = slot.waiting.shift();
      if (next) next();
      else if (--slot.active === 0) this.#slots.delete(key);
    };
    try {
      // A lease that could not be renewed (another instance has the message now): not sent from here.
      if (held.lost) return;
      const attempt = await this.attempt(c, letGo);
      report.attempted++;
      report[attempt.status === 'succeeded' ? 'succeeded' : 'failed']++;
    } catch (e) {
      // Left under its lease, no longer renewed: sent again once it lapses.
      this.logger.error('outbound webhooks: an attempt could not be recorded', { deliveryId: c.delivery.id, ...errorSummary(e) });
    } finally {
      letGo();
      this.#release(held);
      this.#inFlight--;
      this.#taskEnded();
    }
  }

  /** Holds a leased message: its lease is renewed until its attempt is recorded (or fails to be). */
  #hold(claimed: ClaimedDelivery): HeldLease {
    const held: HeldLease = { claimed, until: claimed.delivery.lockedUntil!, lost: false };
    this.#held.set(heldKey(claimed), held);
    if (!this.#renewTimer) {
      this.#renewTimer = setInterval(() => this.#renew(), Math.max(1, Math.floor(this.#leaseMs / 3)));
      this.#renewTimer.unref?.();
    }
    return held;
  }

  #release(held: HeldLease): void {
    const k = heldKey(held.claimed);
    if (this.#held.get(k) === held) this.#held.delete(k);
    if (this.#held.size === 0) this.#stopRenewing();
  }

  #stopRenewing(): void {
    if (this.#renewTimer) clearInterval(this.#renewTimer);
    this.#renewTimer = null;
  }

  /**
   * Extends the lease of every message held here (one statement). A message whose lease
   * was not extended (it lapsed and another instance took it) is not sent from here.
   */
  #renew(): void {
    if (this.#renewing || this.#held.size === 0) return;
    const batch = [...this.#held.values()];
    const until = new Date(this.clock.now().getTime() + this.#leaseMs);
    this.#renewing = this.store
      .renewLeases(
        batch.map((h) => ({ scope: h.claimed.scope, id: h.claimed.delivery.id, lockedUntil: h.until })),
        until,
      )
      .then((renewed) => {
        const kept = new Set(renewed);
        for (const h of batch) {
          if (kept.has(heldKey(h.claimed))) h.until = until;
          else if (this.#held.get(heldKey(h.claimed)) === h) h.lost = true;
        }
      })
      .catch((e: unknown) => this.logger.warn('outbound webhooks: leases could not be renewed', errorSummary(e)))
      .finally(() => {
        this.#renewing = null;
      });
  }

  /**
   * One attempt at a message this worker holds: signed with every secret valid now, sent,
   * and recorded with the message's next step (succeeded, retried on the schedule, or
   * failed), the endpoint's failing mark, and, on a 410 or after 5 days of failures, the
   * endpoint disabled with its event.
   */
  async attempt({ scope, delivery, endpoint }: ClaimedDelivery, answered: () => void = () => {}): Promise<WebhookAttempt> {
    const startedAt = this.clock.now();
    const secrets = [endpoint.secret];
    if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > startedAt) secrets.push(endpoint.previousSecret);
    const sent = await this.#post(delivery, endpoint.url, secrets);
    answered();
    const at = this.clock.now();
    const ok = sent.responseCode !== null && sent.responseCode >= 200 && sent.responseCode < 300;
    this.#onAttempt?.(ok ? 'delivered' : sent.responseCode !== null ? 'failed' : sent.error?.startsWith('timeout') ? 'timeout' : 'error', sent.latencyMs / 1000);
    const gone = sent.responseCode === 410;
    const step = delivery.retryStep + 1;
    const next = ok || gone ? null : nextAttemptAfterFailure(step, at);
    const attempt: WebhookAttempt = {
      id: newAttemptId(),
      deliveryId: delivery.id,
      endpointId: endpoint.id,
      eventType: delivery.eventType,
      status: ok ? 'succeeded' : 'failed',
      responseCode: sent.responseCode,
      latencyMs: sent.latencyMs,
      responseBody: sent.responseBody,
      error: sent.error,
      attemptedAt: startedAt,
    };
    const failingSince = ok ? null : (endpoint.failingSince ?? at);
    const outcome: AttemptOutcome = {
      attempt,
      delivery: { status: ok ? 'succeeded' : next ? 'pending' : 'failed', retryStep: step, nextAttemptAt: next, lastResponseCode: sent.responseCode },
      failingSince,
    };
    await this.#record(scope, outcome);
    if (gone) await this.disable(scope, endpoint, 'gone', at);
    else if (!ok && at.getTime() - failingSince!.getTime() >= DISABLE_AFTER_FAILING_MS) await this.disable(scope, endpoint, 'failing', at);
    return attempt;
  }

  /** Signs and POSTs one attempt: on a sender thread, or here when there is none. */
  #post(delivery: WebhookDelivery, url: string, secrets: string[]): Promise<SendResult> {
    const signedAt = this.#signingClock.now();
    if (this.#senderThreads <= 0) {
      return postWebhook(url, delivery.payload, signedHeaders(delivery.id, signedAt, delivery.payload, secrets), { timeoutMs: this.#timeoutMs, guard: this.guard });
    }
    // The guard stays here (its caches and lookups are this thread's): the thread gets the checked address.
    const started = performance.now();
    const toThread = (target: ResolvedTarget): Promise<SendResult> | SendResult => {
      if (!target.ok) return { responseCode: null, responseBody: '', latencyMs: Math.round(performance.now() - started), error: target.error };
      const threads = (this.#threads ??= new SenderThreads(this.#senderThreads));
      const job = threads.send({
        url,
        address: target.address,
        family: target.family,
        messageId: delivery.id,
        signedAtMs: signedAt.getTime(),
        secrets,
        body: delivery.payload,
        timeoutMs: this.#timeoutMs,
      });
      // Not sent: no thread could start. Sent from here then, from now on.
      return job.then((sent) => {
        if (sent) return sent;
        if (this.#senderThreads > 0) {
          this.#senderThreads = 0;
          this.logger.error('outbound webhooks: the sender thread could not start; sending on the main thread', { error: threads.startFailure });
        }
        return postWebhook(url, delivery.payload, signedHeaders(delivery.id, signedAt, delivery.payload, secrets), { timeoutMs: this.#timeoutMs, guard: this.guard });
      });
    };
    const now = resolveTargetNow(url, this.guard);
    return now ? Promise.resolve(toThread(now)) : resolveTarget(url, this.guard).then(toThread);
  }

  /**
   * Records an attempt with the others finishing at the same time: one statement and one
   * commit for all of them (a commit per attempt made the database the bottleneck).
   */
  #record(scope: Scope, outcome: AttemptOutcome): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#toRecord.push({ scope, outcome, resolve, reject });
      if (!this.#recording) this.#recording = this.#flushRecords();
    });
  }

  async #flushRecords(): Promise<void> {
    // Let the attempts finishing in this turn of the event loop join.
    await new Promise((r) => setImmediate(r));
    while (this.#toRecord.length > 0) {
      const batch = this.#toRecord.splice(0, 500);
      try {
        await this.store.recordAttempts(batch);
        for (const b of batch) b.resolve();
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
    this.#recording = null;
  }

  /** Disables an endpoint and records `webhook_endpoint.disabled` with it (once, whoever gets there first). */
  async disable(scope: Scope, endpoint: WebhookEndpointRecord, reason: DisabledReason, at: Date): Promise<boolean> {
    const before = endpointView(endpoint);
    const after = { ...before, enabled: false, disabledReason: reason, updatedAt: at };
    // Through the event log, so the audit trail has it too (the system's doing).
    const done = await this.events.atomic(scope, async (record) => {
      const changed = await this.store.disableEndpoint(scope, endpoint.id, reason, at);
      if (changed) record({ type: 'webhook_endpoint.disabled', object: after, before, customerId: null });
      return changed;
    });
    if (done) {
      this.logger.warn('outbound webhooks: endpoint disabled', { tenantId: scope.tenantId, appId: scope.appId, endpointId: endpoint.id, reason });
      this.wake(); // its event goes to the scope's other endpoints
    }
    return done;
  }
}

/** A message this worker holds: its lease's current end, and whether another instance took it. */
interface HeldLease {
  claimed: ClaimedDelivery;
  until: Date;
  lost: boolean;
}

const heldKey = (c: ClaimedDelivery) => `${c.scope.tenantId}|${c.scope.appId}|${c.delivery.id}`;

/** Ids of our own prefixes, built on the engine's TypeIDs (time-ordered). */
const withPrefix = (prefix: string) => `${prefix}_${newId('webhook').slice('whk_'.length)}`;
/** `msg_…`: a message, as the spec's examples name them. */
export const newMessageId = () => withPrefix('msg');
export const newAttemptId = () => withPrefix('wat');
export const newEndpointId = () => withPrefix('we');
