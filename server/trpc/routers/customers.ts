import { z } from 'zod';
import { createCustomerSchema, requiredText, text, updateCustomerSchema } from '../../ledger';
import { apiKeyProcedure, router } from '../init';
import { idOf, pageInput } from '../inputs';

const httpUrl = text(2000).pipe(z.url({ protocol: /^https?$/, error: 'an http(s) URL' }));

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
  /**
   * `{ url }`: a hosted set-up of a new payment method for the customer, through the
   * scope's provider (Stripe: Checkout in setup mode; the sandbox: its add-a-card page,
   * valid 1 hour). The customer comes back to `successUrl`, or `cancelUrl` if they give up.
   */
  createSetupSession: apiKeyProcedure
    .input(z.object({ customerId: idOf('customer'), successUrl: httpUrl, cancelUrl: httpUrl }).strict())
    .mutation(({ ctx, input }) => ctx.ledger.paymentMethods.createSetupSession(ctx.scope, input)),
});
