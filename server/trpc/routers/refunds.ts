import { z } from 'zod';
import { apiKeyProcedure, router } from '../init';
import { idOf } from '../inputs';

/**
 * Refunds of the key's scope, made by `invoices.creditNotes.create` with `refund: true`:
 * read them by invoice or payment, and send a pending one again (the provider did not
 * answer) with its own idempotency key, so it is refunded once.
 */
export const refundsRouter = router({
  list: apiKeyProcedure
    .input(z.union([z.object({ invoiceId: idOf('invoice') }).strict(), z.object({ paymentId: idOf('payment') }).strict()]))
    .query(({ ctx, input }) => ctx.ledger.refunds.list(ctx.scope, input)),
  get: apiKeyProcedure.input(z.object({ id: idOf('refund') })).query(({ ctx, input }) => ctx.ledger.refunds.get(ctx.scope, input.id)),
  retry: apiKeyProcedure.input(z.object({ id: idOf('refund') })).mutation(({ ctx, input }) => ctx.ledger.refunds.retry(ctx.scope, input.id)),
});
