import { z } from 'zod';
import { createTestClockSchema, instant } from '../../ledger';
import { apiKeyProcedure, router } from '../init';
import { idOf, pageInput } from '../inputs';

const byId = z.object({ id: idOf('testClock') });

/**
 * Test clocks of the API key's scope, which must be a test scope (`ldg_test_…` keys;
 * in a live scope every procedure is a 412 `illegal_state`). A clock is a frozen time
 * for the customers created on it (`customers.create({ testClockId })`); advancing it
 * runs those customers' billing at every instant something falls due on the way, in
 * order, and nobody else's. Deleting it deletes its customers and everything of theirs.
 */
export const testClocksRouter = router({
  /** `{ id, name, now, createdAt, updatedAt }`: a new clock at `at` (default: now). */
  create: apiKeyProcedure
    .input(createTestClockSchema.optional())
    .mutation(({ ctx, input }) => ctx.ledger.testClocks.create(ctx.scope, input ?? {})),
  get: apiKeyProcedure.input(byId).query(({ ctx, input }) => ctx.ledger.testClocks.get(ctx.scope, input.id)),
  list: apiKeyProcedure.input(pageInput).query(({ ctx, input }) => ctx.ledger.testClocks.list(ctx.scope, input)),
  /**
   * `{ clock, now, report }`: the clock at `to` and what the cycles on the way did. One
   * advance moves at most 2 years ahead and passes at most 50 period ends of the clock's subscriptions (else a 400).
   */
  advance: apiKeyProcedure
    .input(z.object({ id: idOf('testClock'), to: instant }))
    .mutation(({ ctx, input }) => ctx.ledger.billing.advanceClock(ctx.scope, input)),
  /** `{ id, deleted: true, customersDeleted }`: the clock, its customers and their objects are gone. */
  delete: apiKeyProcedure.input(byId).mutation(({ ctx, input }) => ctx.ledger.testClocks.delete(ctx.scope, input.id)),
});
