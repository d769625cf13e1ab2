import { z } from 'zod';
import { paymentSettingsSchema } from '../../ledger';
import { apiKeyProcedure, router } from '../init';
import { idOf, pageInput } from '../inputs';

/**
 * Payments of the key's scope: read here; an invoice is paid with `invoices.pay`. And the scope's payment settings.
 * A list names exactly one of an invoice (its payments, attempt 1 first) or a customer
 * (paged, oldest first).
 */
export const paymentsRouter = router({
  list: apiKeyProcedure
    .input(
      z.union([
        z.object({ invoiceId: idOf('invoice') }).strict(),
        z.object({ customerId: idOf('customer'), page: pageInput }).strict(),
      ]),
    )
    .query(({ ctx, input }) =>
      'invoiceId' in input
        ? ctx.ledger.payments.list(ctx.scope, { invoiceId: input.invoiceId })
        : ctx.ledger.payments.list(ctx.scope, { customerId: input.customerId }, input.page),
    ),
  /** A payment: its state, amount, attempt, the provider's failure code or the URL to confirm at. */
  get: apiKeyProcedure.input(z.object({ id: idOf('payment') })).query(({ ctx, input }) => ctx.ledger.payments.get(ctx.scope, input.id)),
  /**
   * The scope's payment settings: `provider` (null: the deployment's default),
   * `collectionMethod`, `daysUntilDue`, `retrySchedule`, `finalPolicy` (the defaults until changed).
   */
  settings: apiKeyProcedure.query(({ ctx }) => ctx.ledger.payments.settings(ctx.scope)),
  /** Changes the settings given, keeps the others; a provider must be one this deployment configured. The settings after. */
  updateSettings: apiKeyProcedure.input(paymentSettingsSchema).mutation(({ ctx, input }) => ctx.ledger.payments.updateSettings(ctx.scope, input)),
});
