import { z } from 'zod';
import { EVENT_TYPES, instant, notFound, requiredText } from '../../ledger';
import { apiKeyProcedure, router } from '../init';
import { idOf } from '../inputs';

/**
 * The key's scope's event log, newest first (kept 30 days by default): what changed, as
 * Stripe's events say it, with the object after the change and the fields it had before.
 */
export const eventsRouter = router({
  list: apiKeyProcedure
    .input(
      z
        .object({
          type: z.enum(EVENT_TYPES).optional(),
          /** Every type starting with it: `invoice.` */
          typePrefix: requiredText(60).optional(),
          objectId: requiredText(200).optional(),
          customerId: idOf('customer').optional(),
          createdFrom: instant.optional(),
          createdTo: instant.optional(),
          limit: z.number().int().min(1).max(100).default(20),
          cursor: idOf('event').optional(),
        })
        .strict()
        .default({ limit: 20 }),
    )
    .query(({ ctx, input }) => {
      const { limit, cursor, ...query } = input;
      return ctx.ledger.events.list(ctx.scope, query, { limit, ...(cursor ? { cursor } : {}) });
    }),
  get: apiKeyProcedure.input(z.object({ id: idOf('event') }).strict()).query(async ({ ctx, input }) => {
    const event = await ctx.ledger.events.get(ctx.scope, input.id);
    if (!event) throw notFound('event', input.id);
    return event;
  }),
});
