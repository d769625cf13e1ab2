import { z } from 'zod';
import { testClockSchema } from '../../ledger';
import { apiKeyProcedure, router } from '../init';

/**
 * The API key's scope on a test clock: create it (the scope then lives at the clock's
 * time), advance it (running every billing cycle due on the way, in order), delete it
 * (back to real time). One clock per scope.
 */
export const testClocksRouter = router({
  create: apiKeyProcedure
    .input(testClockSchema.default({}))
    .mutation(({ ctx, input }) => ctx.ledger.testClocks.create(ctx.scope, input)),
  get: apiKeyProcedure.query(({ ctx }) => ctx.ledger.testClocks.get(ctx.scope)),
  /** `{ now, report }`: the clock's new time and what the cycles on the way did. */
  advance: apiKeyProcedure
    .input(z.object({ to: z.coerce.date() }))
    .mutation(({ ctx, input }) => ctx.ledger.billing.advanceClock(ctx.scope, input.to)),
  delete: apiKeyProcedure.mutation(({ ctx }) => ctx.ledger.testClocks.delete(ctx.scope)),
});
