import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { CustomerStore } from '../customer/store';
import type { EventLog } from '../events/log';
import type { ScopeModes } from '../scope/service';
import {
  findById,
  instant,
  LedgerError,
  newId,
  notFound,
  pageOf,
  parseInput,
  scope as toScope,
  scopeKey,
  text,
  type Clock,
  type CustomerId,
  type Page,
  type PageInput,
  type Scope,
  type TestClockId,
} from '../types';
import type { BillingStore } from './store';

/**
 * Test clocks, as Stripe has them: objects of a **test** scope, each with a frozen time,
 * to which customers are attached when they are created on one (`customers.create({
 * testClockId })`). Such a customer lives at its clock's time: its subscriptions, usage
 * windows, entitlements and invoices. Everything else in the scope (its other customers,
 * plans, coupons, tax rates) stays at the real time, so simulations do not disturb each
 * other, and a live scope never moves in time: it has no clocks.
 *
 * A clock only moves forward, by `BillingCycle.advanceClock`, which bills every period
 * that ends on the way, in order.
 *
 * The engine asks the time of a customer on every entitlement check and every metered
 * event, so the clocks of every scope and the customers attached to them are held in
 * memory (a Map lookup by customer id; a few rows: a scope has at most
 * `MAX_CLOCKS_PER_SCOPE` clocks, a clock `MAX_CUSTOMERS_PER_CLOCK` customers); this
 * instance's changes apply at once, other instances' within `reloadMs`.
 *
 * Paths that write a customer's objects (subscriptions, invoices, durable metering,
 * entitlement fills) do not wait for the reload: they ask `customerNow`, which reads the
 * customer's row once when this instance has not seen it yet (a customer's clock is set
 * at its creation and never changes, so the answer is remembered), so a customer created
 * on a clock through another instance is never billed at the real time here. Only the
 * synchronous paths (`meter()`, an entitlement check answered from the cache) use what
 * this instance knows, for at most `reloadMs`.
 */
export interface TestClock {
  id: TestClockId;
  name: string | null;
  /** The clock's frozen time: its customers' now. */
  now: Date;
  /** Real times. */
  createdAt: Date;
  updatedAt: Date;
}

/** How many clocks a test scope may have, and customers a clock (as Stripe limits them). */
export const MAX_CLOCKS_PER_SCOPE = 100;
export const MAX_CUSTOMERS_PER_CLOCK = 100;

export const createTestClockSchema = z.object({
  /** Where the clock starts; the current time when omitted. */
  at: instant.optional(),
  name: text(200).nullable().default(null),
});
export type CreateTestClockInput = z.input<typeof createTestClockSchema>;
/** @deprecated the old name of createTestClockSchema. */
export const testClockSchema = createTestClockSchema;

/** A clock as this instance knows it: shared by the clock's entry and its customers' entries. */
interface ClockState {
  readonly tenantId: string;
  readonly appId: string;
  readonly id: TestClockId;
  nowMs: number;
}

interface State {
  clocks: Map<string, ClockState>;
  /** Customer id → its clock (customer ids are unique; the scope is checked on lookup). */
  byCustomer: Map<string, ClockState>;
}

const clockKey = (scope: Scope, id: string) => `${scopeKey(scope)}\u0000${id}`;

export class TestClocks {
  #state: State = { clocks: new Map(), byCustomer: new Map() };
  #loadedAt = 0;
  #reloading: Promise<void> | null = null;
  /** Local changes made while a reload is in flight, applied again over what it read. */
  #replay: ((s: State) => void)[] | null = null;
  /** Customers read from the store and found on no clock: for good (a clock is set at creation). */
  readonly #onNoClock = new LRUCache<string, true>({ max: 100_000 });
  /** Told of customers deleted with their clock (here, or seen gone by a reload). */
  readonly #deletedListeners: ((scope: Scope, ids: readonly CustomerId[]) => void)[] = [];
  /** Where a clock's creation, moves and deletion are recorded (the engine sets it once its log exists). */
  #events: EventLog | null = null;

  constructor(
    private readonly store: BillingStore,
    private readonly clock: Clock,
    private readonly modes: ScopeModes,
    private readonly reloadMs = 5_000,
    private readonly customers: Pick<CustomerStore, 'get'> | null = null,
  ) {}

  /**
   * Records every write of a clock (`test_clock.created`, `.advanced`, `.deleted`) in the
   * event log, with the write: the audit trail and outbound webhooks see them. The engine
   * calls it after building its log, which needs this service's time first.
   */
  recordWith(events: EventLog): void {
    this.#events = events;
  }

  /** Runs a clock's write with its event when there is a log; the write alone otherwise. */
  #write<T>(scope: Scope, work: (record: Parameters<Parameters<EventLog['atomic']>[1]>[0]) => Promise<T>): Promise<T> {
    return this.#events ? this.#events.atomic(scope, work) : work(() => {});
  }

  /** Registers a listener for customers deleted with their clock (caches forget them). */
  onCustomersDeleted(listener: (scope: Scope, ids: readonly CustomerId[]) => void): void {
    this.#deletedListeners.push(listener);
  }

  #customersDeleted(scope: Scope, ids: readonly CustomerId[]): void {
    if (ids.length > 0) for (const l of this.#deletedListeners) l(scope, ids);
  }

  /** Reads every clock and every customer on one (at start, then every `reloadMs`). */
  async load(): Promise<void> {
    this.#replay = [];
    try {
      const [clocks, customers] = await Promise.all([this.store.allTestClocks(), this.store.allTestClockCustomers()]);
      const next: State = { clocks: new Map(), byCustomer: new Map() };
      for (const { scope, clock } of clocks) {
        const k = clockKey(scope, clock.id);
        // Never back: this instance may have moved it after the read.
        const known = this.#state.clocks.get(k)?.nowMs ?? -Infinity;
        next.clocks.set(k, { tenantId: scope.tenantId, appId: scope.appId, id: clock.id, nowMs: Math.max(clock.now.getTime(), known) });
      }
      for (const c of customers) {
        const state = next.clocks.get(clockKey(c.scope, c.testClockId));
        if (state) next.byCustomer.set(c.customerId, state);
      }
      for (const change of this.#replay) change(next);
      // Customers known here on a clock and gone from the store: deleted with their clock
      // (by another instance; a customer never leaves its clock otherwise).
      const gone = new Map<string, { scope: Scope; ids: CustomerId[] }>();
      for (const [id, c] of this.#state.byCustomer) {
        if (next.byCustomer.has(id)) continue;
        const k = `${c.tenantId}\u0000${c.appId}`;
        let g = gone.get(k);
        if (!g) gone.set(k, (g = { scope: toScope(c.tenantId, c.appId), ids: [] }));
        g.ids.push(id as CustomerId);
      }
      this.#state = next;
      this.#loadedAt = Date.now();
      for (const g of gone.values()) this.#customersDeleted(g.scope, g.ids);
    } finally {
      this.#replay = null;
    }
  }

  /** Applies a change made here now, and again after a reload in flight. */
  #change(change: (s: State) => void): void {
    change(this.#state);
    this.#replay?.push(change);
  }

  #maybeReload(): void {
    if (Date.now() - this.#loadedAt > this.reloadMs && !this.#reloading) {
      this.#reloading = this.load()
        .catch(() => {}) // keep the last known clocks; the next call retries
        .finally(() => (this.#reloading = null));
    }
  }

  // --- the time -----------------------------------------------------------------------

  /**
   * The time of a customer in epoch milliseconds: its test clock's when it is on one,
   * else the real time (also with no customer: plans, tax rates, coupons). A Map lookup;
   * no Date made.
   */
  nowMs(scope: Scope, customerId?: string | null): number {
    this.#maybeReload();
    if (customerId != null && this.#state.byCustomer.size > 0) {
      const c = this.#state.byCustomer.get(customerId);
      if (c !== undefined && c.tenantId === scope.tenantId && c.appId === scope.appId) return c.nowMs;
    }
    return this.clock.nowMs ? this.clock.nowMs() : this.clock.now().getTime();
  }

  /** The time of a customer (see nowMs). */
  now(scope: Scope, customerId?: string | null): Date {
    return new Date(this.nowMs(scope, customerId));
  }

  /**
   * The time of a customer, as `now`, after making sure this instance knows the
   * customer's clock: a customer it has not seen (created on a clock through another
   * instance, before the next reload) is read from the store once. For the paths that
   * write a customer's objects; the hot synchronous paths use `nowMs`.
   */
  async customerNow(scope: Scope, customerId: string): Promise<Date> {
    await this.learn(scope, customerId);
    return this.now(scope, customerId);
  }

  /** Reads the customer's clock from the store unless this instance knows it already. */
  async learn(scope: Scope, customerId: string): Promise<void> {
    if (!this.customers || this.#mapped(scope, customerId) || this.#onNoClock.has(clockKey(scope, customerId))) return;
    const customer = await this.customers.get(scope, customerId as CustomerId);
    if (customer) await this.know(scope, customer);
  }

  /**
   * What a customer's row says of its clock, learned here (a row read from the store):
   * a clock this instance has not seen yet is read, and the customer lives at it from now on.
   */
  async know(scope: Scope, customer: { id: string; testClockId?: string | null }): Promise<void> {
    if (!customer.testClockId) {
      this.#onNoClock.set(clockKey(scope, customer.id), true);
      return;
    }
    if (this.#mapped(scope, customer.id)) return;
    const clock = await this.store.getTestClock(scope, customer.testClockId as TestClockId);
    if (clock) this.attached(scope, customer.id as CustomerId, clock);
  }

  #mapped(scope: Scope, customerId: string): boolean {
    const c = this.#state.byCustomer.get(customerId);
    return c !== undefined && c.tenantId === scope.tenantId && c.appId === scope.appId;
  }

  // --- the clocks ---------------------------------------------------------------------

  /** A new clock in a test scope, at `at` (the current time when omitted). */
  async create(scope: Scope, input: CreateTestClockInput = {}): Promise<TestClock> {
    const { at, name } = parseInput(createTestClockSchema, input, 'test clock');
    await this.modes.requireTest(scope);
    if ((await this.store.countTestClocks(scope)) >= MAX_CLOCKS_PER_SCOPE) {
      throw new LedgerError('limit_exceeded', `a test scope has at most ${MAX_CLOCKS_PER_SCOPE} test clocks: delete one first`);
    }
    const real = this.clock.now();
    const clock: TestClock = { id: newId('testClock'), name, now: at ?? real, createdAt: real, updatedAt: real };
    await this.#write(scope, async (record) => {
      await this.store.insertTestClock(scope, clock);
      record({ type: 'test_clock.created', object: clock, customerId: null });
    });
    this.#change((s) => s.clocks.set(clockKey(scope, clock.id), { tenantId: scope.tenantId, appId: scope.appId, id: clock.id, nowMs: clock.now.getTime() }));
    return clock;
  }

  async get(scope: Scope, id: string): Promise<TestClock> {
    await this.modes.requireTest(scope);
    const clock = await findById('testClock', id, (cid) => this.store.getTestClock(scope, cid));
    this.#seen(scope, clock);
    return clock;
  }

  /** The scope's clocks, oldest first. */
  async list(scope: Scope, page: PageInput = {}): Promise<Page<TestClock>> {
    await this.modes.requireTest(scope);
    return pageOf(page, (p) => this.store.listTestClocks(scope, p));
  }

  /**
   * Deletes the clock and, as Stripe does, the customers created on it with everything
   * of theirs (subscriptions, invoices, credit notes, usage). Returns the customers
   * deleted. Other customers of the scope are untouched.
   */
  async delete(scope: Scope, id: string): Promise<{ id: TestClockId; deleted: true; customersDeleted: CustomerId[] }> {
    await this.modes.requireTest(scope);
    let clockId: TestClockId | null = null;
    const customers = await findById('testClock', id, async (cid) => {
      clockId = cid;
      // Read first (reads stay out of a transaction): the event is the clock as it was.
      const before = this.#events ? await this.store.getTestClock(scope, cid) : null;
      return this.#write(scope, async (record) => {
        const deleted = await this.store.deleteTestClock(scope, cid);
        const object = { ...before!, customersDeleted: deleted };
        if (deleted && before) record({ type: 'test_clock.deleted', object, customerId: null });
        return deleted;
      });
    });
    const gone = clockId as unknown as TestClockId;
    this.#change((s) => {
      s.clocks.delete(clockKey(scope, gone));
      for (const c of customers) s.byCustomer.delete(c);
    });
    this.#customersDeleted(scope, customers);
    return { id: gone, deleted: true, customersDeleted: customers };
  }

  /**
   * Checks that a customer about to be created may go on the clock `id` (a test scope,
   * a clock of the scope with room for one more customer); returns the clock.
   */
  async forNewCustomer(scope: Scope, id: string): Promise<TestClock> {
    await this.modes.requireTest(scope);
    const clock = await findById('testClock', id, (cid) => this.store.getTestClock(scope, cid));
    if ((await this.store.countTestClockCustomers(scope, clock.id)) >= MAX_CUSTOMERS_PER_CLOCK) {
      throw new LedgerError('limit_exceeded', `a test clock has at most ${MAX_CUSTOMERS_PER_CLOCK} customers: create another clock`);
    }
    this.#seen(scope, clock);
    return clock;
  }

  /** A customer was created on the clock: it lives at the clock's time from now on, here at once. */
  attached(scope: Scope, customerId: CustomerId, clock: TestClock): void {
    this.#change((s) => {
      const k = clockKey(scope, clock.id);
      let state = s.clocks.get(k);
      if (!state) s.clocks.set(k, (state = { tenantId: scope.tenantId, appId: scope.appId, id: clock.id, nowMs: clock.now.getTime() }));
      else state.nowMs = Math.max(state.nowMs, clock.now.getTime()); // never back
      s.byCustomer.set(customerId, state);
    });
  }

  /** Moves the clock forward to `to` (never back); used by the billing cycle, step by step. */
  async move(scope: Scope, id: TestClockId, to: Date): Promise<TestClock> {
    // Read first (reads stay out of a transaction): the event says where the clock was.
    const before = this.#events ? await this.store.getTestClock(scope, id) : null;
    const clock = await this.#write(scope, async (record) => {
      const moved = await this.store.moveTestClock(scope, id, to, this.clock.now());
      if (moved && before && moved.now.getTime() !== before.now.getTime()) record({ type: 'test_clock.advanced', object: moved, before, customerId: null });
      return moved;
    });
    if (!clock) throw notFound('test clock', id);
    this.#seen(scope, clock);
    return clock;
  }

  /** What the store says of a clock, here: its time (never back). */
  #seen(scope: Scope, clock: TestClock): void {
    this.#change((s) => {
      const k = clockKey(scope, clock.id);
      const state = s.clocks.get(k);
      if (state) state.nowMs = Math.max(state.nowMs, clock.now.getTime());
      else s.clocks.set(k, { tenantId: scope.tenantId, appId: scope.appId, id: clock.id, nowMs: clock.now.getTime() });
    });
  }
}
