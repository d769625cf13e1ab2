import { z } from 'zod';
import { requiredText } from '../../ledger';
import { apiKeyProcedure, router } from '../init';
import { idOf } from '../inputs';

/** Any storable key: one no plan has answers `feature_not_in_plan`, not an error. */
const featureKey = requiredText(63);

export const entitlementsRouter = router({
  /** May the customer use the feature now? `{ allowed, limit, used, remaining, reason }`. */
  check: apiKeyProcedure
    .input(z.object({ customerId: idOf('customer'), featureKey }))
    .query(({ ctx, input }) => ctx.ledger.entitled(ctx.scope, input.customerId, input.featureKey)),
});
