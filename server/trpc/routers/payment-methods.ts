import { z } from 'zod';
import { apiKeyProcedure, router } from '../init';
import { idOf } from '../inputs';

const byId = z.object({ id: idOf('paymentMethod') }).strict();

/**
 * A customer's saved payment methods (brand, last 4, expiry; never a card number). New
 * ones are added through `customers.createSetupSession`'s hosted page. An id that is not
 * a method of the key's scope, or a detached one: NOT_FOUND, and nothing changes.
 */
export const paymentMethodsRouter = router({
  /** The customer's attached methods, oldest first; `isDefault` marks the one charged automatically. */
  list: apiKeyProcedure
    .input(z.object({ customerId: idOf('customer') }).strict())
    .query(({ ctx, input }) => ctx.ledger.paymentMethods.list(ctx.scope, input.customerId)),
  /** Makes the method its customer's one default; the method after. */
  setDefault: apiKeyProcedure.input(byId).mutation(({ ctx, input }) => ctx.ledger.paymentMethods.setDefault(ctx.scope, input.id)),
  /**
   * Detaches the method at the provider and here: no longer listed nor charged. Detaching
   * the default leaves the customer with none (Stripe's rule). The method, with `detachedAt`.
   */
  detach: apiKeyProcedure.input(byId).mutation(({ ctx, input }) => ctx.ledger.paymentMethods.detach(ctx.scope, input.id)),
});
