import { z } from 'zod';
import { apiKeyProcedure, router } from '../init';

export const billingRouter = router({
  /**
   * Runs the billing cycle of the API key's scope now (or at an earlier `at`): renewals,
   * trial ends, scheduled cancellations, drafts past their grace. Idempotent.
   * `{ periods, invoicesCreated, invoicesFinalized }`.
   */
  run: apiKeyProcedure
    .input(z.object({ at: z.coerce.date().optional() }).default({}))
    .mutation(({ ctx, input }) => ctx.ledger.billing.run(ctx.scope, input.at)),
});
