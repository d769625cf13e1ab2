import { z } from 'zod';
import { createPlanSchema, listPlansSchema, requiredText, updatePlanSchema } from '../../ledger';
import { apiKeyProcedure, router } from '../init';
import { idOf } from '../inputs';

export const plansRouter = router({
  create: apiKeyProcedure.input(createPlanSchema).mutation(({ ctx, input }) => ctx.ledger.plans.create(ctx.scope, input)),
  get: apiKeyProcedure
    .input(z.object({ id: idOf('plan') }))
    .query(({ ctx, input }) => ctx.ledger.plans.get(ctx.scope, input.id)),
  getByKey: apiKeyProcedure
    .input(z.object({ key: requiredText(63) }))
    .query(({ ctx, input }) => ctx.ledger.plans.getByKey(ctx.scope, input.key)),
  list: apiKeyProcedure
    .input(listPlansSchema.partial().default({}))
    .query(({ ctx, input }) => ctx.ledger.plans.list(ctx.scope, input)),
  /** Price changes create a new version (a new id); the result says which. */
  update: apiKeyProcedure
    .input(z.object({ id: idOf('plan'), patch: updatePlanSchema }))
    .mutation(({ ctx, input }) => ctx.ledger.plans.update(ctx.scope, input.id, input.patch)),
  archive: apiKeyProcedure
    .input(z.object({ id: idOf('plan') }))
    .mutation(({ ctx, input }) => ctx.ledger.plans.archive(ctx.scope, input.id)),
});
