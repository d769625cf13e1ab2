import { z } from 'zod';
import { MAX_BATCH, meterEventSchema, type MeterEventInput } from '../../ledger';
import { markParsed } from '../../ledger/meter/event';
import { apiKeyProcedure, router } from '../init';
import { idOf } from '../inputs';

/**
 * The shapes `POST /api/meter` takes: one event, an array of up to 1,000, or
 * `{ events: [...] }`. Every event is checked by the same schema as the route's, and one
 * malformed event refuses the whole call (BAD_REQUEST naming `events.3.quantity`),
 * nothing written; an empty batch or one over 1,000 is refused the same way.
 */
export const usageBatchSchema = z.preprocess<unknown, z.ZodType<{ events: z.output<typeof meterEventSchema>[] }>, MeterEventInput | MeterEventInput[] | { events: MeterEventInput[] }>(
  (body) =>
    Array.isArray(body)
      ? { events: body }
      : body && typeof body === 'object' && Array.isArray((body as { events?: unknown }).events)
        ? body
        : body && typeof body === 'object'
          ? { events: [body] }
          : body,
  z.object(
    {
      events: z
        .array(meterEventSchema)
        .min(1, 'the batch is empty')
        .max(MAX_BATCH, `a batch holds at most ${MAX_BATCH} events`),
    },
    { error: 'expected an event, an array of events or { events: [...] }' },
  ),
);

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
    .input(usageBatchSchema)
    .mutation(({ ctx, input }) => ctx.ledger.meter.meterDurable(ctx.scope, input.events.map(markParsed))),
});
