import { z } from 'zod';
import { autoTopUpSchema, grantSchema, recurringGrantSchema, topUpSchema, createWalletSchema } from '../../ledger/wallet/types';
import { apiKeyProcedure, router } from '../init';
import { idOf, pageInput } from '../inputs';

/**
 * Prepaid credit wallets of the key's scope (server/ledger/wallet): one per customer and
 * currency, 1 credit = 1 minor unit. `create` is idempotent (the customer's wallet in
 * that currency, made on first ask); `topUp` issues a top-up invoice whose credits arrive
 * when it is paid; `grant` gives promotional credits; `balance` is the real-time balance
 * and the live grants in the order invoices use them; `ledger` pages every movement.
 */
const byId = z.object({ walletId: idOf('wallet') }).strict();

export const walletsRouter = router({
  create: apiKeyProcedure.input(createWalletSchema.strict()).mutation(({ ctx, input }) => ctx.ledger.wallets.create(ctx.scope, input)),
  get: apiKeyProcedure.input(byId).query(({ ctx, input }) => ctx.ledger.wallets.get(ctx.scope, input.walletId)),
  listByCustomer: apiKeyProcedure
    .input(z.object({ customerId: idOf('customer') }).strict())
    .query(({ ctx, input }) => ctx.ledger.wallets.listByCustomer(ctx.scope, input.customerId)),
  balance: apiKeyProcedure.input(byId).query(({ ctx, input }) => ctx.ledger.wallets.balance(ctx.scope, input.walletId)),
  ledger: apiKeyProcedure
    .input(byId.extend({ page: pageInput }))
    .query(({ ctx, input }) => ctx.ledger.wallets.ledger(ctx.scope, input.walletId, input.page)),
  grant: apiKeyProcedure.input(grantSchema.strict()).mutation(({ ctx, input }) => ctx.ledger.wallets.grant(ctx.scope, input)),
  topUp: apiKeyProcedure.input(topUpSchema.strict()).mutation(({ ctx, input }) => ctx.ledger.wallets.topUp(ctx.scope, input)),
  /** Automatic top-ups: `{ threshold, mode: 'fixed' | 'target', amount }`, or null to turn them off. */
  setAutoTopUp: apiKeyProcedure
    .input(byId.extend({ autoTopUp: autoTopUpSchema.nullable() }))
    .mutation(({ ctx, input }) => ctx.ledger.wallets.setAutoTopUp(ctx.scope, input.walletId, input.autoTopUp)),
  recurringGrants: router({
    add: apiKeyProcedure.input(recurringGrantSchema.strict()).mutation(({ ctx, input }) => ctx.ledger.wallets.addRecurringGrant(ctx.scope, input)),
    remove: apiKeyProcedure
      .input(byId.extend({ ruleId: idOf('walletGrant') }))
      .mutation(({ ctx, input }) => ctx.ledger.wallets.removeRecurringGrant(ctx.scope, input.walletId, input.ruleId)),
  }),
});
