import { z } from 'zod';
import { cancelSchema, createSubscriptionSchema } from '../../ledger';
import { apiKeyProcedure, router } from '../init';
import { idOf, pageInput } from '../inputs';

export const subscriptionsRouter = router({
  create: apiKeyProcedure
    .input(createSubscriptionSchema.extend({ customerId: idOf('customer'), planId: idOf('plan') }))
    .mutation(({ ctx, input }) => ctx.ledger.subscriptions.create(ctx.scope, input)),
  get: apiKeyProcedure
    .input(z.object({ id: idOf('subscription') }))
    .query(({ ctx, input }) => ctx.ledger.subscriptions.get(ctx.scope, input.id)),
  listByCustomer: apiKeyProcedure
    .input(z.object({ customerId: idOf('customer'), page: pageInput }))
    .query(({ ctx, input }) => ctx.ledger.subscriptions.listByCustomer(ctx.scope, input.customerId, input.page)),
  cancel: apiKeyProcedure
    .input(cancelSchema.extend({ id: idOf('subscription') }))
    .mutation(({ ctx, input }) => ctx.ledger.subscriptions.cancel(ctx.scope, input.id, { at: input.at })),
  resume: apiKeyProcedure
    .input(z.object({ id: idOf('subscription') }))
    .mutation(({ ctx, input }) => ctx.ledger.subscriptions.resume(ctx.scope, input.id)),
});
