import { z } from 'zod';
import { MAX_BATCH, meterEventSchema } from '../../ledger';
import { apiKeyProcedure, router } from '../init';
import { idOf } from '../inputs';

export const usageRouter = router({
  /** Per feature of the customer's plan: used, limit, remaining and the current period. */
  summary: apiKeyProcedure
    .input(z.object({ customerId: idOf('customer') }))
    .query(({ ctx, input }) => ctx.ledger.entitlements.summary(ctx.scope, input.customerId)),
  /**
   * Meters events and answers once they are durable, one result per event (as
   * POST /api/meter does): accepted, duplicate, conflict or rejected with the reason.
   */
  record: apiKeyProcedure
    .input(z.object({ events: z.array(meterEventSchema).min(1).max(MAX_BATCH) }))
    .mutation(({ ctx, input }) => ctx.ledger.meter.meterDurable(ctx.scope, input.events)),
});
