import { z } from 'zod';
import type { Ledger, Scope } from '../../ledger';
import { MAX_CREDITS, type Wallet, type WalletEntry, type WalletGrant } from '../../ledger/wallet/types';
import { canManageBilling } from '../../portal/session';
import { portalBillingProcedure, portalProcedure, router } from '../init';

/**
 * The /portal/credits page's procedures, mounted as `accountCredits`: the customer's
 * prepaid credit balance, the credits it is made of, its ledger, and buying more. Scope
 * and customer come from the session only. Reads are open to every role; a top-up to
 * owner and billing users.
 */

/** The currency of the wallet the portal shows: the one the customer is billed in. */
async function walletCurrency(ledger: Ledger, scope: Scope, customerId: string): Promise<string> {
  // The customer's currency (fixed by its first subscription: all its invoices are in it),
  // then its live subscription's, then a wallet it already has, then its latest invoice's.
  const customer = await ledger.customers.get(scope, customerId);
  if (customer.currency) return customer.currency;
  const live = await ledger.store.subscriptions.getLive(scope, customer.id);
  if (live) return live.currency;
  const [first] = await ledger.wallets.listByCustomer(scope, customerId);
  if (first) return first.currency;
  const [latest] = (await ledger.invoices.listByCustomer(scope, customerId, { limit: 1 })).items;
  return latest?.currency ?? 'USD';
}

const grantView = (g: WalletGrant) => ({
  id: g.id,
  description: g.description,
  source: g.source,
  remaining: g.remaining,
  amount: g.amount,
  expiresAt: g.expiresAt,
  featureKeys: g.featureKeys,
});

const entryView = (e: WalletEntry) => ({
  id: e.id,
  type: e.type,
  amount: e.amount,
  balanceAfter: e.balanceAfter,
  description: e.description,
  invoiceId: e.invoiceId,
  createdAt: e.createdAt,
});

/** The hosted page's path: the portal links within the app, whatever its public URL. */
function localPath(url: string): string {
  const u = new URL(url, 'http://app.invalid');
  return u.pathname + u.search;
}

/** What a top-up may be from the portal: whole minor units, 1.00 to 100,000.00 in a 2-decimal currency. */
const topUpInput = z
  .object({
    amount: z.number().int().min(100, 'at least 100 credits').max(Math.min(MAX_CREDITS, 10_000_000), 'at most 10,000,000 credits'),
    /** The form's own key (one per page shown): a form sent twice makes one top-up, charged once. */
    requestKey: z.string().uuid().optional(),
  })
  .strict();

export const accountCreditsRouter = router({
  /** The balance now, the live credits in the order invoices use them, the latest movements, and top-ups still to pay. */
  overview: portalProcedure.query(async ({ ctx }) => {
    const { scope } = ctx;
    const customerId = ctx.portal.customerId;
    const currency = await walletCurrency(ctx.ledger, scope, customerId);
    const wallet: Wallet | null = await ctx.ledger.wallets.forCustomer(scope, customerId, currency);
    const [balance, entries, invoices, methods] = await Promise.all([
      wallet ? ctx.ledger.wallets.balance(scope, wallet.id) : null,
      wallet ? ctx.ledger.wallets.ledger(scope, wallet.id, { limit: 20 }) : null,
      ctx.ledger.invoices.listPayable(scope, customerId),
      ctx.ledger.paymentMethods.list(scope, customerId),
    ]);
    const mayPay = canManageBilling(ctx.portal.role);
    const pending = await Promise.all(
      invoices
        .filter((i) => i.billingReason === 'wallet_top_up')
        .map(async (i) => ({
          id: i.id,
          number: i.number,
          amountDue: i.amountDue,
          payUrl: mayPay ? `${localPath(await ctx.ledger.hosted.invoiceUrl(scope, i.id))}?return=%2Fportal%2Fcredits` : null,
        })),
    );
    return {
      currency,
      balance: balance?.balance ?? 0,
      grants: (balance?.grants ?? []).map(grantView),
      entries: (entries?.items ?? []).map(entryView),
      nextCursor: entries?.nextCursor ?? null,
      autoTopUp: wallet?.autoTopUp ?? null,
      pendingTopUps: pending,
      hasDefaultCard: methods.some((m) => m.isDefault),
      canManageBilling: mayPay,
    };
  }),

  /** Older movements: the next page of the ledger after `cursor`. */
  ledger: portalProcedure.input(z.object({ cursor: z.string().max(100) }).strict()).query(async ({ ctx, input }) => {
    const currency = await walletCurrency(ctx.ledger, ctx.scope, ctx.portal.customerId);
    const wallet = await ctx.ledger.wallets.forCustomer(ctx.scope, ctx.portal.customerId, currency);
    if (!wallet) return { entries: [], nextCursor: null };
    const page = await ctx.ledger.wallets.ledger(ctx.scope, wallet.id, { limit: 20, cursor: input.cursor });
    return { entries: page.items.map(entryView), nextCursor: page.nextCursor };
  }),

  /**
   * Buys `amount` credits (minor units: 2500 = 25.00): a top-up invoice, charged at once to
   * the default card when there is one (`paid`), else to pay on the hosted page (`payUrl`,
   * which comes back to /portal/credits). The credits arrive when it is paid.
   */
  topUp: portalBillingProcedure.input(topUpInput).mutation(async ({ ctx, input }) => {
    const { scope } = ctx;
    const customerId = ctx.portal.customerId;
    const currency = await walletCurrency(ctx.ledger, scope, customerId);
    const { wallet } = await ctx.ledger.wallets.create(scope, { customerId, currency });
    const invoice = await ctx.ledger.wallets.topUp(scope, { walletId: wallet.id, amount: input.amount, ...(input.requestKey ? { idempotencyKey: `portal:${input.requestKey}` } : {}) });
    const paid = (await ctx.ledger.invoices.get(scope, invoice.id)).status === 'paid';
    const payUrl = paid ? null : `${localPath(await ctx.ledger.hosted.invoiceUrl(scope, invoice.id))}?return=%2Fportal%2Fcredits`;
    return { invoiceId: invoice.id, amount: input.amount, currency, paid, payUrl };
  }),
});
