import { z } from 'zod';
import { instant } from '../../ledger';
import { apiKeyProcedure, router } from '../init';

export const billingRouter = router({
  /**
   * Runs the billing cycle of the API key's scope now (or at an earlier `at`): renewals,
   * trial ends, scheduled cancellations, drafts past their grace, for the customers on no
   * test clock (a clock's customers move when it is advanced). Idempotent.
   * `{ periods, invoicesCreated, invoicesFinalized }`.
   */
  run: apiKeyProcedure
    .input(z.object({ at: instant.optional() }).default({}))
    .mutation(({ ctx, input }) => ctx.ledger.billing.run(ctx.scope, input.at)),
});
