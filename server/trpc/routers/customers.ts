import { z } from 'zod';
import { createCustomerSchema, requiredText, updateCustomerSchema } from '../../ledger';
import { apiKeyProcedure, router } from '../init';
import { idOf, pageInput } from '../inputs';

export const customersRouter = router({
  create: apiKeyProcedure
    .input(createCustomerSchema)
    .mutation(({ ctx, input }) => ctx.ledger.customers.create(ctx.scope, input)),
  get: apiKeyProcedure
    .input(z.object({ id: idOf('customer') }))
    .query(({ ctx, input }) => ctx.ledger.customers.get(ctx.scope, input.id)),
  getByExternalId: apiKeyProcedure
    .input(z.object({ externalId: requiredText(200) }))
    .query(({ ctx, input }) => ctx.ledger.customers.getByExternalId(ctx.scope, input.externalId)),
  list: apiKeyProcedure.input(pageInput).query(({ ctx, input }) => ctx.ledger.customers.list(ctx.scope, input)),
  update: apiKeyProcedure
    .input(z.object({ id: idOf('customer'), patch: updateCustomerSchema }))
    .mutation(({ ctx, input }) => ctx.ledger.customers.update(ctx.scope, input.id, input.patch)),
});
