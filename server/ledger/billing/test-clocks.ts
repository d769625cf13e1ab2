import { z } from 'zod';
import { conflict, illegalState, invalid, notFound, parseInput, scopeKey, type Clock, type Scope } from '../types';
import type { BillingStore } from './store';

/**
 * Test clocks: a scope with one lives at the clock's time, for rehearsing billing (a
 * year of invoices in seconds). Every engine call in the scope (metering windows,
 * periods, entitlements, the billing cycle) reads the scope's time from here. A clock
 * only moves forward; advancing it is the billing cycle's business (BillingCycle.advance)
 * because every period passed must be billed in order.
 *
 * The clocks of all scopes are held in memory (read at start, a few rows) so that
 * `now(scope)` stays synchronous and cheap; changes made by another instance are picked
 * up within `reloadMs`.
 */
export const testClockSchema = z.object({
  /** Where the clock starts; the current time when omitted. */
  at: z.coerce.date().optional(),
});

export class TestClocks {
  readonly #times = new Map<string, Date>();
  #loadedAt = 0;
  #reloading: Promise<void> | null = null;

  constructor(
    private readonly store: BillingStore,
    private readonly clock: Clock,
    private readonly reloadMs = 5_000,
  ) {}

  async load(): Promise<void> {
    const all = await this.store.allTestClocks();
    this.#times.clear();
    for (const c of all) this.#times.set(scopeKey(c.scope), c.now);
    this.#loadedAt = Date.now();
  }

  /** The scope's time in epoch milliseconds: for hot paths, no Date made when no clock is set. */
  nowMs(scope: Scope): number {
    if (this.#times.size === 0 && Date.now() - this.#loadedAt <= this.reloadMs) {
      return this.clock.nowMs ? this.clock.nowMs() : this.clock.now().getTime();
    }
    return this.now(scope).getTime();
  }

  /** The scope's time. */
  now(scope: Scope): Date {
    if (Date.now() - this.#loadedAt > this.reloadMs && !this.#reloading) {
      this.#reloading = this.load()
        .catch(() => {}) // keep the last known clocks; the next call retries
        .finally(() => (this.#reloading = null));
    }
    const t = this.#times.get(scopeKey(scope));
    return t ? new Date(t) : this.clock.now();
  }

  /** Whether the scope runs on a test clock. */
  has(scope: Scope): boolean {
    return this.#times.has(scopeKey(scope));
  }

  async create(scope: Scope, input: z.input<typeof testClockSchema> = {}): Promise<{ now: Date }> {
    const { at } = parseInput(testClockSchema, input, 'test clock');
    const start = at ?? this.clock.now();
    if (!(await this.store.createTestClock(scope, start))) throw conflict('this scope already has a test clock');
    this.#times.set(scopeKey(scope), start);
    return { now: start };
  }

  async get(scope: Scope): Promise<{ now: Date }> {
    const now = await this.store.getTestClock(scope);
    if (!now) throw notFound('test clock of scope', `${scope.tenantId}/${scope.appId}`);
    this.#times.set(scopeKey(scope), now);
    return { now };
  }

  /** Moves the clock to `to`; used by the billing cycle, step by step. */
  async move(scope: Scope, to: Date): Promise<void> {
    const from = await this.store.getTestClock(scope);
    if (!from) throw notFound('test clock of scope', `${scope.tenantId}/${scope.appId}`);
    if (to < from) throw invalid(`a test clock only moves forward: it is at ${from.toISOString()}, asked for ${to.toISOString()}`);
    if (!(await this.store.moveTestClock(scope, from, to))) throw illegalState('the test clock moved meanwhile; retry');
    this.#times.set(scopeKey(scope), to);
  }

  async delete(scope: Scope): Promise<void> {
    if (!(await this.store.deleteTestClock(scope))) throw notFound('test clock of scope', `${scope.tenantId}/${scope.appId}`);
    this.#times.delete(scopeKey(scope));
  }
}
