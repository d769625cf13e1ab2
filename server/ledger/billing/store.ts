import type { CustomerId, PageRequest, Scope, TestClockId } from '../types';
import type { TestClock } from './test-clocks';

/**
 * Which customers a billing query is about: those on the test clock `testClockId`, or
 * (null) those on no clock. Omitted: every customer (a live scope has no clocks).
 */
export interface OnClock {
  testClockId: TestClockId | null;
}

/** Billing work due somewhere: the customers of a scope on no clock, or those of one clock. */
export interface DueWork {
  scope: Scope;
  /** Null: the scope's customers on no clock, due at the real time. Else one clock's, due at its time. */
  testClockId: TestClockId | null;
}

/**
 * What the billing cycle and test clocks need from storage beyond the domains' stores.
 */
export interface BillingStore {
  /**
   * The work for the billing cycle at `at`: a live subscription whose period has ended, a
   * subscription whose outbox still owes invoices, a draft invoice due for
   * finalization, an open invoice whose automatic retry is due (nextPaymentAttemptAt) or
   * a sent invoice whose due date came (dueAt, not yet past due), each judged at its customer's time (its test clock's, else `at`), and
   * grouped by scope and clock. The one query that is not made inside a scope: it is how
   * the scheduler learns what to run (each run is then scoped).
   */
  dueWork(at: Date, limit: number): Promise<DueWork[]>;

  // Test clocks (test scopes only), each with the customers created on it.
  /** Every clock of every scope and every customer on one (the engine keeps them in memory). */
  allTestClocks(): Promise<{ scope: Scope; clock: TestClock }[]>;
  allTestClockCustomers(): Promise<{ scope: Scope; customerId: CustomerId; testClockId: TestClockId }[]>;
  getTestClock(scope: Scope, id: TestClockId): Promise<TestClock | null>;
  /** Oldest first, `page.limit + 1` rows after `page.cursor`. */
  listTestClocks(scope: Scope, page: PageRequest): Promise<TestClock[]>;
  countTestClocks(scope: Scope): Promise<number>;
  countTestClockCustomers(scope: Scope, id: TestClockId): Promise<number>;
  insertTestClock(scope: Scope, clock: TestClock): Promise<void>;
  /**
   * Moves the clock forward to `to` (a clock never goes back: a clock already past `to`
   * stays where it is); returns it as it is now, or null when it does not exist.
   */
  moveTestClock(scope: Scope, id: TestClockId, to: Date, updatedAt: Date): Promise<TestClock | null>;
  /**
   * Deletes the clock, its customers and everything of theirs (subscriptions, invoices,
   * credit notes, usage), at once; returns the customers deleted, or null when there was
   * no such clock.
   */
  deleteTestClock(scope: Scope, id: TestClockId): Promise<CustomerId[] | null>;
}
