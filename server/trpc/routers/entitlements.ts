import { z } from 'zod';
import { requiredText } from '../../ledger';
import { consumeSchema } from '../../ledger/entitlement/consume';
import { apiKeyProcedure, router } from '../init';
import { idOf } from '../inputs';

/** Any storable key: one no plan has answers `feature_not_in_plan`, not an error. */
const featureKey = requiredText(63);

export const entitlementsRouter = router({
  /** May the customer use the feature now? `{ allowed, limit, used, remaining, reason }`. */
  check: apiKeyProcedure
    .input(z.object({ customerId: idOf('customer'), featureKey }))
    .query(({ ctx, input }) => ctx.ledger.entitled(ctx.scope, input.customerId, input.featureKey)),
  /**
   * Checks a metered limit and records the usage in one atomic step:
   * `{ allowed, limit, used, remaining, reason, recorded, replayed }`. The same
   * idempotency key again answers the first answer and records nothing.
   */
  consume: apiKeyProcedure
    .input(consumeSchema)
    .mutation(({ ctx, input }) => ctx.ledger.entitlements.consume(ctx.scope, input)),
});
