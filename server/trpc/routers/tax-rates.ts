import { z } from 'zod';
import { createTaxRateSchema, listTaxRatesSchema, updateTaxRateSchema } from '../../ledger/tax/types';
import { apiKeyProcedure, router } from '../init';
import { idOf } from '../inputs';

export const taxRatesRouter = router({
  create: apiKeyProcedure
    .input(createTaxRateSchema)
    .mutation(({ ctx, input }) => ctx.ledger.taxRates.create(ctx.scope, input)),
  get: apiKeyProcedure
    .input(z.object({ id: idOf('taxRate') }))
    .query(({ ctx, input }) => ctx.ledger.taxRates.get(ctx.scope, input.id)),
  list: apiKeyProcedure
    .input(listTaxRatesSchema.partial().default({}))
    .query(({ ctx, input }) => ctx.ledger.taxRates.list(ctx.scope, input)),
  /** Rename, describe, deactivate or reactivate; a new percentage is a new rate. */
  update: apiKeyProcedure
    .input(z.object({ id: idOf('taxRate'), patch: updateTaxRateSchema }))
    .mutation(({ ctx, input }) => ctx.ledger.taxRates.update(ctx.scope, input.id, input.patch)),
});
