import type { EngineContext } from '../context';
import { errorSummary, illegalState, invalid, isId, LedgerError, scopeKey, type CustomerId, type Scope } from '../types';
import { MeterCatalog } from './catalog';
import { checkEvent, distinctValueFor, samePayload } from './event';
import type { UsageObserver, WriteOutcomeListener } from './observer';
import { DEFAULT_METER_CONFIG, MAX_BATCH, type MeterConfig, type MeterOutcome, type MeterResult, type StoredUsage, type UsageEvent } from './types';

/**
 * Usage metering through a per-scope buffer.
 *
 * - `meter()` checks an event's shape and time window, puts it in its scope's buffer and
 *   returns at once. A scope's buffer is written when it holds `batchSize` events, when
 *   `flushIntervalMs` has passed since its first event, on `flush()` and on `close()`.
 *   Customer and feature are checked when the batch is written; events that fail then
 *   are logged as rejected (use `meterDurable` for per-event answers).
 * - `meterDurable()` resolves once its events are committed, with one outcome per event.
 *   Concurrent callers share writes (group commit): while one write is in flight, the
 *   next callers' events gather and go together in the next statement.
 * - Writes are retried with exponential backoff. When all attempts fail, buffered events
 *   go back to the front of the buffer (nothing is dropped) and durable callers get the
 *   error (their events were not accepted). The buffer is bounded (`maxBuffered`): when
 *   it is full, `meter()` and `meterDurable()` throw `limit_exceeded` rather than grow.
 */
interface Entry {
  event: UsageEvent;
  /** The caller gave the event's id: another request may carry the same one. */
  callerId: boolean;
  /** Set for durable callers: where the event's outcome goes (slot `slot` of the call). */
  waiter?: Waiter;
  slot?: number;
}

/** One durable call: resolves when every one of its events has an outcome. */
interface Waiter {
  outcomes: MeterOutcome[];
  pending: number;
  resolve: (outcomes: MeterOutcome[]) => void;
  reject: (err: Error) => void;
  failed: boolean;
}

function settle(entry: Entry, outcome: MeterOutcome | Error): void {
  const w = entry.waiter;
  if (!w || w.failed) return;
  if (outcome instanceof Error) {
    w.failed = true;
    return w.reject(outcome);
  }
  w.outcomes[entry.slot!] = outcome;
  if (--w.pending === 0) w.resolve(w.outcomes);
}

interface ScopeBuffer {
  scope: Scope;
  entries: Entry[];
  timer: ReturnType<typeof setTimeout> | null;
  /** Writers running for this scope (at most `writeConcurrency`). */
  writers: number;
  /** Resolves when the writers have emptied the buffer (or stopped on a failure). */
  drained: { promise: Promise<void>; resolve: () => void } | null;
  /** Batches being written now (taken out of `entries`). */
  inFlight: Set<Entry[]>;
  /** A batch failed every attempt: writers stop until the next trigger. */
  failing: boolean;
  /** A write has been asked for and will start on the next turn. */
  scheduled: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class MeterService {
  readonly config: MeterConfig;
  readonly #buffers = new Map<string, ScopeBuffer>();
  readonly #observers: UsageObserver[] = [];
  readonly #catalog: MeterCatalog;
  #buffered = 0;
  #closed = false;

  constructor(
    private readonly ctx: EngineContext,
    config: Partial<MeterConfig> = {},
  ) {
    this.config = { ...DEFAULT_METER_CONFIG, ...config };
    this.#catalog = new MeterCatalog(ctx);
  }

  /** Observers see events as they are buffered and as they are committed (entitlements). */
  observe(observer: UsageObserver): void {
    this.#observers.push(observer);
  }

  /**
   * A customer's usage of a feature that this process holds but has not committed:
   * `buffered`, the events waiting in the buffer, and `writing`, whether some are in a
   * write in progress right now (committed or not, nobody can tell until it returns).
   * Entitlements read the store between two of these to know whether the read was clean.
   */
  uncommitted(scope: Scope, customerId: CustomerId, featureKey: string): { buffered: UsageEvent[]; writing: boolean } {
    const buf = this.#buffers.get(scopeKey(scope));
    if (!buf) return { buffered: [], writing: false };
    const mine = (e: Entry) => e.event.customerId === customerId && e.event.featureKey === featureKey;
    let writing = false;
    for (const batch of buf.inFlight) if (batch.some(mine)) writing = true;
    return { buffered: buf.entries.filter(mine).map((e) => e.event), writing };
  }

  /** Events buffered across all scopes. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Buffers one event; returns its id. Throws `invalid` for a bad event, `limit_exceeded` when full. */
  meter(scope: Scope, input: unknown): UsageEvent['id'] {
    if (this.#closed) throw illegalState('metering has been shut down');
    const checked = checkEvent(input, this.ctx.now(scope, customerOf(input)), this.config);
    if (!checked.ok) throw invalid(`invalid usage event: ${checked.reason}`);
    this.#reserve(1);
    this.#enqueue(scope, [{ event: checked.event, callerId: checked.callerId }]);
    return checked.event.id;
  }

  /**
   * Meters a batch (at most 1,000) and resolves when it is durable, with one result per
   * event in the order given: accepted, duplicate (same key, same payload), conflict
   * (same key, other payload) or rejected (with the reason).
   */
  async meterDurable(scope: Scope, inputs: readonly unknown[]): Promise<MeterResult[]> {
    if (this.#closed) throw illegalState('metering has been shut down');
    if (inputs.length > MAX_BATCH) throw invalid(`a batch holds at most ${MAX_BATCH} events, got ${inputs.length}`);
    // Each event is judged at its customer's time (a test clock's, for a customer on one).
    // Customers this process has not seen yet are read first (they are read to check them
    // anyway): one created on a clock through another instance is judged at its clock's time.
    const named = new Set<CustomerId>();
    for (const raw of inputs) {
      const id = customerOf(raw);
      if (id !== undefined && isId('customer', id)) named.add(id);
    }
    if (named.size > 0) await this.#catalog.existingCustomers(scope, named);
    const now = this.ctx.now(scope);
    const nowMs = now.getTime();
    const results: MeterResult[] = new Array(inputs.length);
    const valid: { index: number; event: UsageEvent; callerId: boolean }[] = [];
    inputs.forEach((raw, index) => {
      const at = this.ctx.nowMs(scope, customerOf(raw));
      const c = checkEvent(raw, at === nowMs ? now : new Date(at), this.config);
      if (c.ok) valid.push({ index, event: c.event, callerId: c.callerId });
      else results[index] = { idempotencyKey: c.idempotencyKey, outcome: { status: 'rejected', reason: c.reason } };
    });
    const { ok, rejected } = await this.#resolve(scope, valid.map((v) => v.event));
    valid.forEach((v, i) => {
      const reason = rejected.get(i);
      if (reason) results[v.index] = { idempotencyKey: v.event.idempotencyKey, outcome: { status: 'rejected', reason } };
    });
    const toWrite = valid.filter((_, i) => ok.has(i));
    this.#refused(scope, 'rejected', inputs.length - toWrite.length);
    if (toWrite.length === 0) return results;
    // Shut down while the batch was being checked: nothing of it is written.
    if (this.#closed) throw illegalState('metering has been shut down');
    this.#reserve(toWrite.length);
    const outcomes = await new Promise<MeterOutcome[]>((resolve, reject) => {
      const waiter: Waiter = { outcomes: new Array(toWrite.length), pending: toWrite.length, resolve, reject, failed: false };
      this.#enqueue(scope, toWrite.map((v, slot) => ({ event: v.event, callerId: v.callerId, waiter, slot })), true);
    });
    toWrite.forEach((v, i) => (results[v.index] = { idempotencyKey: v.event.idempotencyKey, outcome: outcomes[i]! }));
    return results;
  }

  /** Writes everything buffered, in every scope; resolves when it is committed. */
  async flush(): Promise<void> {
    await Promise.all([...this.#buffers.values()].map((b) => this.#write(b)));
  }

  /** Refuses new events, writes what is buffered, stops the timers. */
  async close(): Promise<void> {
    this.#closed = true;
    // Writes that fail during shutdown still keep their events in the buffer; try until
    // the buffer is empty or a round makes no progress.
    for (let before = Infinity; this.#buffered > 0 && this.#buffered < before; ) {
      before = this.#buffered;
      await this.flush();
    }
    for (const b of this.#buffers.values()) if (b.timer) clearTimeout(b.timer);
    if (this.#buffered > 0) this.ctx.logger.error(`metering closed with ${this.#buffered} events unwritten`, { buffered: this.#buffered });
  }

  #reserve(n: number): void {
    if (this.#buffered + n > this.config.maxBuffered) {
      throw new LedgerError(
        'limit_exceeded',
        `the metering buffer is full (${this.#buffered} of ${this.config.maxBuffered} events waiting to be written); retry shortly`,
      );
    }
    this.#buffered += n;
  }

  #enqueue(scope: Scope, entries: Entry[], urgent = false): void {
    const k = scopeKey(scope);
    let buf = this.#buffers.get(k);
    if (!buf) this.#buffers.set(k, (buf = { scope, entries: [], timer: null, writers: 0, drained: null, inFlight: new Set(), failing: false, scheduled: false }));
    for (const e of entries) {
      buf.entries.push(e);
      for (const o of this.#observers) o.onBuffered?.(scope, e.event);
    }
    if (urgent || buf.entries.length >= this.config.batchSize) this.#schedule(buf);
    else if (!buf.timer) {
      buf.timer = setTimeout(() => {
        buf.timer = null;
        void this.#write(buf);
      }, this.config.flushIntervalMs);
      buf.timer.unref?.();
    }
  }

  /** Starts a write on the next turn, so that callers arriving together share it. */
  #schedule(buf: ScopeBuffer): void {
    if (buf.scheduled) return;
    buf.scheduled = true;
    setImmediate(() => {
      buf.scheduled = false;
      void this.#write(buf);
    });
  }

  /**
   * Drains a scope's buffer with up to `writeConcurrency` writers, each taking the next
   * batch as soon as its previous one is written: concurrent statements keep the
   * database busy while this process prepares the next batch. Resolves when the buffer
   * is empty, or when a batch failed every attempt (its events are back in the buffer,
   * for the next trigger).
   */
  #write(buf: ScopeBuffer): Promise<void> {
    if (buf.timer) {
      clearTimeout(buf.timer);
      buf.timer = null;
    }
    buf.failing = false;
    // A writer takes its batch synchronously when started; another is started only while
    // a full share is left (a few large statements beat many small ones).
    while (
      buf.writers < this.config.writeConcurrency &&
      buf.entries.length > 0 &&
      (buf.writers === 0 || buf.entries.length >= this.config.minWriteBatch)
    ) {
      buf.writers++;
      void this.#writer(buf);
    }
    if (buf.writers === 0) return Promise.resolve();
    if (!buf.drained) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      buf.drained = { promise, resolve };
    }
    return buf.drained.promise;
  }

  /**
   * Batch size for the next writer: the buffer shared among the writers, within bounds,
   * and never splitting a durable call: its events are committed by one statement, all
   * or none, so a failed call has written nothing.
   */
  #nextBatchSize(buf: ScopeBuffer): number {
    const share = Math.ceil(buf.entries.length / this.config.writeConcurrency);
    let n = Math.min(buf.entries.length, this.config.maxWriteBatch, Math.max(this.config.minWriteBatch, share));
    const e = buf.entries;
    while (n < e.length && e[n]!.waiter !== undefined && e[n]!.waiter === e[n - 1]!.waiter) n++;
    return n;
  }

  async #writer(buf: ScopeBuffer): Promise<void> {
    try {
      while (buf.entries.length > 0 && !buf.failing) {
        const batch = buf.entries.splice(0, this.#nextBatchSize(buf));
        buf.inFlight.add(batch);
        let kept: Entry[];
        try {
          kept = await this.#writeBatch(buf.scope, batch);
        } finally {
          buf.inFlight.delete(batch);
        }
        // Synchronously with leaving inFlight: kept events are never in neither place.
        if (kept.length > 0) {
          buf.entries.unshift(...kept);
          buf.failing = true; // the store is failing: leave the rest for the next trigger
        }
      }
    } finally {
      if (--buf.writers === 0) {
        const drained = buf.drained;
        buf.drained = null;
        drained?.resolve();
        if (buf.entries.length > 0 && !buf.timer && !this.#closed) {
          buf.timer = setTimeout(() => {
            buf.timer = null;
            void this.#write(buf);
          }, this.config.flushIntervalMs);
          buf.timer.unref?.();
        }
      }
    }
  }

  /** Writes one batch; returns the entries to keep buffered (after a persistent failure). */
  async #writeBatch(scope: Scope, batch: Entry[]): Promise<Entry[]> {
    const started = performance.now();
    // Durable calls checked their events' customers and features when they were made;
    // events buffered by meter() are checked here, once per batch.
    const unchecked = batch.filter((e) => !e.waiter);
    const { ok, rejected } = await this.#resolve(scope, unchecked.map((e) => e.event)).catch((err: unknown) => ({
      ok: null,
      rejected: err,
    }));
    if (ok === null) return this.#failed(scope, batch, rejected);
    const reasons = new Map<Entry, string>();
    unchecked.forEach((entry, i) => {
      const reason = (rejected as Map<number, string>).get(i);
      if (reason !== undefined) reasons.set(entry, reason);
    });
    const writable: Entry[] = [];
    const dropped: UsageEvent[] = [];
    batch.forEach((entry) => {
      const reason = reasons.get(entry);
      if (reason === undefined) return void writable.push(entry);
      this.#buffered--;
      dropped.push(entry.event);
      if (entry.waiter) settle(entry, { status: 'rejected', reason });
      else this.ctx.logger.warn('usage event rejected', { idempotencyKey: entry.event.idempotencyKey, reason });
    });
    this.#refused(scope, 'rejected', dropped.length);
    if (writable.length === 0) {
      this.#notifyDropped(scope, dropped);
      return [];
    }

    const events = writable.map((e) => e.event);
    const listeners = await this.#beforeWrite(scope, events);
    let result;
    // A failed attempt may have committed before failing (a connection lost after the
    // commit): then the retry finds this batch's own events stored.
    let uncertain = false;
    for (let attempt = 1; ; attempt++) {
      try {
        result = await this.ctx.store.usage.insertEvents(scope, events);
        break;
      } catch (err) {
        if (attempt >= this.config.maxAttempts) {
          await Promise.all(listeners.map((l) => l.failed().catch(() => {})));
          this.#notifyDropped(scope, dropped);
          return this.#failed(scope, writable, err);
        }
        this.ctx.logger.warn(`usage write failed (attempt ${attempt}), retrying`, errorSummary(err));
        uncertain = true;
        await sleep(Math.min(2_000, 25 * 2 ** attempt));
      }
    }

    // Within a batch only the first event of a key is stored; later ones are compared
    // with it. Keys stored before this batch are compared with the stored event.
    const firstByKey = new Map<string, UsageEvent>();
    for (const e of events) if (!firstByKey.has(e.idempotencyKey)) firstByKey.set(e.idempotencyKey, e);
    const committed: UsageEvent[] = [];
    const outcomes = writable.map((entry) => {
      this.#buffered--;
      const e = entry.event;
      const first = firstByKey.get(e.idempotencyKey)!;
      const stored = result.existing.get(e.idempotencyKey);
      let outcome: MeterOutcome;
      if ((result.inserted.has(e.idempotencyKey) && first === e) || (uncertain && !entry.callerId && stored?.id === e.id && first === e && samePayload(e, stored))) {
        // Stored now, or by an earlier attempt of this very write: the id this process
        // made for the event is in the store. (An id the caller gave proves nothing: another
        // request may have stored it, so that event is reported a duplicate.)
        outcome = { status: 'accepted', id: e.id };
        committed.push(e);
      } else if (result.inserted.has(e.idempotencyKey)) outcome = sameOrConflict(e, first);
      else if (stored) outcome = sameOrConflict(e, stored);
      else outcome = { status: 'rejected', reason: 'the store neither stored the event nor found its key' };
      if (outcome.status !== 'accepted') {
        dropped.push(e);
        this.#refused(scope, outcome.status, 1);
      }
      return outcome;
    });
    // Shared counters first, then callers: a durable caller that got its answer sees its
    // usage in every instance's entitlement checks.
    await Promise.all(listeners.map((l) => l.committed(committed, uncertain).catch(() => {})));
    for (const o of this.#observers) o.onCommitted?.(scope, committed);
    this.#notifyDropped(scope, dropped);
    writable.forEach((entry, i) => settle(entry, outcomes[i]!));
    if (committed.length > 0) void this.ctx.plugins.emit('onUsageIngested', scope, committed);
    void this.ctx.plugins.emit('onUsageFlushed', scope, committed.length, performance.now() - started);
    return [];
  }

  async #beforeWrite(scope: Scope, events: readonly UsageEvent[]): Promise<WriteOutcomeListener[]> {
    const listeners: WriteOutcomeListener[] = [];
    for (const o of this.#observers) {
      if (!o.beforeWrite) continue;
      const l = await o.beforeWrite(scope, events).catch((err: unknown) => {
        this.ctx.logger.error('a usage observer failed before a write', { error: (err as Error).message });
      });
      if (l) listeners.push(l);
    }
    return listeners;
  }

  #refused(scope: Scope, outcome: 'duplicate' | 'conflict' | 'rejected', count: number): void {
    if (count > 0) for (const o of this.#observers) o.onRefused?.(scope, outcome, count);
  }

  #notifyDropped(scope: Scope, events: readonly UsageEvent[]): void {
    if (events.length > 0) for (const o of this.#observers) o.onDropped?.(scope, events);
  }

  /** After the last attempt: durable callers get the error; buffered events are kept. */
  #failed(scope: Scope, entries: Entry[], err: unknown): Entry[] {
    const error = err instanceof Error ? err : new Error(String(err));
    this.ctx.logger.error('usage write failed; events kept in the buffer', { ...errorSummary(error), events: entries.length });
    const kept: Entry[] = [];
    const dropped: UsageEvent[] = [];
    for (const e of entries) {
      if (e.waiter) {
        this.#buffered--;
        dropped.push(e.event);
        settle(e, error);
      } else kept.push(e);
    }
    this.#notifyDropped(scope, dropped);
    return kept;
  }

  /**
   * Checks customers and features of a batch against the scope; fills unique-count
   * values. Returns the indexes that may be written and the reasons for the others.
   */
  async #resolve(scope: Scope, events: readonly UsageEvent[]): Promise<{ ok: Set<number>; rejected: Map<number, string> }> {
    const [features, customers] = await Promise.all([
      this.#catalog.meteredFeatures(scope),
      this.#catalog.existingCustomers(scope, new Set(events.map((e) => e.customerId))),
    ]);
    const ok = new Set<number>();
    const rejected = new Map<number, string>();
    events.forEach((e, i) => {
      const feature = features.get(e.featureKey);
      if (!customers.has(e.customerId)) return void rejected.set(i, `customerId: unknown customer ${e.customerId}`);
      if (!feature) return void rejected.set(i, `featureKey: no plan has a metered feature "${e.featureKey}"`);
      if (feature.kind === 'metered' && feature.aggregation === 'unique_count') {
        e.distinctValue = distinctValueFor(feature, e);
        if (e.distinctValue === null) {
          return void rejected.set(i, `properties.${feature.uniqueProperty}: required, "${e.featureKey}" counts unique values of it`);
        }
      }
      ok.add(i);
    });
    return { ok, rejected };
  }

  /** Customers deleted (with their test clock): their events are refused from now on. */
  forgetCustomers(scope: Scope, ids: Iterable<string>): void {
    this.#catalog.forgetCustomers(scope, ids);
  }

  /** Plans changed: the next batch re-reads the scope's features. */
  forgetFeatures(scope: Scope): void {
    this.#catalog.forgetFeatures(scope);
  }
}

function sameOrConflict(e: UsageEvent, stored: StoredUsage): MeterOutcome {
  return samePayload(e, stored)
    ? { status: 'duplicate', id: stored.id as UsageEvent['id'] }
    : { status: 'conflict', reason: `idempotency key "${e.idempotencyKey}" was already used for a different event (${stored.id})` };
}

/** The customer id a raw event names, if it names one (its time is the customer's). */
function customerOf(raw: unknown): string | undefined {
  const id = typeof raw === 'object' && raw !== null ? (raw as { customerId?: unknown }).customerId : undefined;
  return typeof id === 'string' ? id : undefined;
}
