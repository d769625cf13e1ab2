import { z } from 'zod';
import { apiKeyProcedure, router } from '../init';
import { idOf } from '../inputs';

const featureKey = z.string().min(1).max(63);

export const entitlementsRouter = router({
  /** May the customer use the feature now? `{ allowed, limit, used, remaining, reason }`. */
  check: apiKeyProcedure
    .input(z.object({ customerId: idOf('customer'), featureKey }))
    .query(({ ctx, input }) => ctx.ledger.entitled(ctx.scope, input.customerId, input.featureKey)),
});
