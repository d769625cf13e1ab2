import { AsyncLocalStorage } from 'node:async_hooks';
import type { Store } from '../store/store';
import { newId, type Clock, type Logger, type Scope } from '../types';
import { changedFields, toJson } from './diff';
import { currentRequest } from './request-context';
import type { EventInput, EventQuery, LedgerEvent } from './types';

/** Records an event of the change being made; it is written when the work's transaction commits. */
export type EventRecorder = (input: EventInput) => void;

/** Told after events are committed: a wake-up for the outbound webhooks, never the source of truth. */
export type EventsCommitted = (scope: Scope, events: readonly LedgerEvent[]) => void;

/**
 * Runs inside a change's transaction, after its events are appended: what it writes
 * commits with the change or not at all (the audit trail). A throw rolls the change back.
 */
export type EventsInTransaction = (scope: Scope, events: readonly LedgerEvent[]) => Promise<void>;

export const DEFAULT_EVENT_RETENTION_DAYS = 30;

/**
 * The event log. `atomic` runs a change's store writes and appends the events they
 * recorded in one transaction: either the change and its events are stored, or neither.
 * Hooks (plugins) still run after the commit and stay best effort; the log is what must
 * never miss a change.
 */
export class EventLog {
  readonly #listeners: EventsCommitted[] = [];
  readonly #inTransaction: EventsInTransaction[] = [];
  /**
   * The events of changes nested in the outermost `atomic` running here (a wallet's
   * movement inside an invoice's finalization): announced when that one commits, from
   * outside its transaction, never while it may still roll back (or from inside it: a
   * listener's work started there would run on the transaction's connection).
   */
  readonly #nested = new AsyncLocalStorage<{ scope: Scope; events: LedgerEvent[] }[]>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    readonly retentionDays: number = DEFAULT_EVENT_RETENTION_DAYS,
  ) {}

  onCommitted(listener: EventsCommitted): void {
    this.#listeners.push(listener);
  }

  /**
   * Registers work that must commit with every change's events (the audit trail's rows):
   * it runs in the change's transaction. Not for `recordNow`'s events: those are readings
   * (a quota exceeded), not writes.
   */
  withinTransaction(subscriber: EventsInTransaction): void {
    this.#inTransaction.push(subscriber);
  }

  /**
   * Runs `work` in a transaction; the events it records are appended in the same one.
   * Keep only writes inside: reads belong before (on PGlite, the one connection is held
   * by the transaction while it runs).
   */
  async atomic<T>(scope: Scope, work: (record: EventRecorder) => Promise<T>): Promise<T> {
    let pending: LedgerEvent[] = [];
    const run = () =>
      this.store.atomic(async () => {
        pending = [];
        const value = await work((input) => pending.push(this.#build(input)));
        if (pending.length) {
          await this.store.events.append(scope, pending);
          for (const s of this.#inTransaction) await s(scope, pending);
        }
        return value;
      });
    const outer = this.#nested.getStore();
    if (outer) {
      // Inside another change: its commit is this one's, and it announces these events.
      const result = await run();
      if (pending.length) outer.push({ scope, events: pending });
      return result;
    }
    const nested: { scope: Scope; events: LedgerEvent[] }[] = [];
    const result = await this.#nested.run(nested, run);
    if (pending.length) this.#committed(scope, pending);
    for (const n of nested) this.#committed(n.scope, n.events);
    return result;
  }

  /**
   * Events no write names (a quota exceeded is a reading, not a change): appended on
   * their own, best effort. A failure is logged, never thrown at the check that saw it.
   */
  async recordNow(scope: Scope, inputs: readonly EventInput[]): Promise<void> {
    const events = inputs.map((i) => this.#build(i));
    try {
      await this.store.events.append(scope, events);
      this.#committed(scope, events);
    } catch (e) {
      this.logger.error('an event could not be recorded', { tenantId: scope.tenantId, appId: scope.appId, types: inputs.map((i) => i.type).join(','), error: e instanceof Error ? e.message : String(e) });
    }
  }

  get(scope: Scope, id: string): Promise<LedgerEvent | null> {
    return this.store.events.get(scope, id);
  }

  /** Newest first; the cursor is the last event's id. */
  async list(scope: Scope, query: EventQuery, page: { limit: number; cursor?: string }): Promise<{ items: LedgerEvent[]; nextCursor: string | null }> {
    const rows = await this.store.events.list(scope, query, { limit: page.limit + 1, ...(page.cursor ? { cursor: page.cursor } : {}) });
    const items = rows.slice(0, page.limit);
    return { items, nextCursor: rows.length > page.limit ? items[items.length - 1]!.id : null };
  }

  /**
   * Drops every scope's events older than the retention, in batches of `batch`; how many
   * went. The billing schedule runs it (outbound webhooks deliver long before 30 days).
   */
  async purgeExpired(batch = 1_000): Promise<number> {
    const before = new Date(this.clock.now().getTime() - this.retentionDays * 86_400_000);
    let total = 0;
    for (;;) {
      const n = await this.store.events.purge(before, batch);
      total += n;
      if (n < batch) return total;
    }
  }

  #build(input: EventInput): LedgerEvent {
    const data = toJson(input.object);
    const customerId =
      input.customerId !== undefined
        ? input.customerId
        : typeof data.customerId === 'string'
          ? data.customerId
          : input.type.startsWith('customer.')
            ? input.object.id
            : null;
    return {
      id: newId('event'),
      type: input.type,
      objectId: input.object.id,
      customerId,
      data,
      previous: input.before ? changedFields(toJson(input.before), data) : null,
      request: currentRequest(),
      // The engine's clock, not a customer's test clock: the log's order and retention
      // follow real time; the object's own dates show its clock's time.
      createdAt: this.clock.now(),
    };
  }

  #committed(scope: Scope, events: readonly LedgerEvent[]): void {
    for (const l of this.#listeners) {
      try {
        l(scope, events);
      } catch (e) {
        this.logger.error('an event listener failed', { error: e instanceof Error ? e.message : String(e) });
      }
    }
  }
}
