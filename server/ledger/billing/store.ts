import type { Scope } from '../types';

/**
 * What the billing cycle and test clocks need from storage beyond the domains' stores.
 */
export interface BillingStore {
  /**
   * The scopes with work for the billing cycle at `at` (or, for a scope with a test
   * clock, at the clock's time): a live subscription whose period has ended, a
   * subscription whose outbox still owes invoices, or a draft invoice due for
   * finalization. The one query that is not made
   * inside a scope: it is how the scheduler learns which scopes to run (each run is then
   * scoped).
   */
  dueScopes(at: Date, limit: number): Promise<Scope[]>;

  // Test clocks: at most one per scope; its time is the scope's time.
  /** Every clock (loaded at start: scopes with one live at its time). */
  allTestClocks(): Promise<{ scope: Scope; now: Date }[]>;
  getTestClock(scope: Scope): Promise<Date | null>;
  /** Creates the scope's clock at `at`; false when the scope has one. */
  createTestClock(scope: Scope, at: Date): Promise<boolean>;
  /** Moves the clock from `from` to `to` (never backwards); false if it is not at `from`. */
  moveTestClock(scope: Scope, from: Date, to: Date): Promise<boolean>;
  deleteTestClock(scope: Scope): Promise<boolean>;
}
