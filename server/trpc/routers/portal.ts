import { z } from 'zod';
import { defaultMerchantName, isLedgerError, notFound, numberedPageSchema, type Invoice, type Ledger, type Scope, type Subscription } from '../../ledger';
import { upcomingInvoice } from '../../ledger/invoice/upcoming';
import { pricesIn } from '../../ledger/plan/currency-prices';
import { canManageBilling, type PortalContext } from '../../portal/session';
import { invoiceDetail, invoicePageView, isPayable } from '../../portal/views/invoices';
import { overviewView, type UpcomingInvoice } from '../../portal/views/overview';
import { portalProcedure, router } from '../init';

/**
 * The portal's reads, mounted as `account` (the sign-in work owns `portal`). Scope and
 * customer come from the session (ctx.portal) only: no input names a customer, and an
 * invoice of any other customer is NOT_FOUND, exactly as one that does not exist.
 */

/**
 * The next invoice of a live subscription, from its preview (the engine's upcoming
 * invoice, as `invoices.preview` answers it); none when its period end bills nothing at all.
 */
async function nextInvoice(ledger: Ledger, scope: Scope, sub: Subscription): Promise<UpcomingInvoice | null> {
  const { invoice, billsNothing } = await upcomingInvoice(ledger, scope, sub);
  return billsNothing ? null : { issueAt: invoice.issueAt, total: invoice.total, currency: invoice.currency };
}

/** With no live subscription: the one that ended last, to say it ended (a customer has a handful). */
async function lastEnded(ledger: Ledger, scope: Scope, customerId: string): Promise<Subscription | null> {
  const { items } = await ledger.subscriptions.listByCustomer(scope, customerId, { limit: 100 });
  return [...items].sort((a, b) => (b.endedAt?.getTime() ?? 0) - (a.endedAt?.getTime() ?? 0))[0] ?? null;
}

/** The customer's invoice, or NOT_FOUND when it is another customer's (of this scope or any other). */
async function ownInvoice(ledger: Ledger, portal: PortalContext, id: string): Promise<Invoice> {
  const inv = await ledger.invoices.get(portal.scope, id).catch((e: unknown) => {
    // A malformed id names no invoice either: the page shows its not-found.
    if (isLedgerError(e) && e.code === 'invalid') throw notFound('invoice', id);
    throw e;
  });
  if (inv.customerId !== portal.customerId) throw notFound('invoice', id);
  return inv;
}

const invoicesRouter = router({
  /**
   * A page (1-based) of the customer's invoices, newest first: number, date, period, total,
   * amount due, status; with the page count and total for the page numbers. The engine
   * reads that page only; a page past the end is the last.
   */
  list: portalProcedure
    .input(numberedPageSchema.strict().default({ page: 1, perPage: 20 }))
    .query(async ({ ctx, input }) => invoicePageView(await ctx.ledger.invoices.pageByCustomer(ctx.scope, ctx.portal.customerId, input))),
  /**
   * One invoice: lines, discount, tax, credit notes, payments, the PDF's URL, and for an
   * open invoice the hosted pay page's URL when the user may pay (owner, billing).
   */
  get: portalProcedure.input(z.object({ id: z.string().max(200) }).strict()).query(async ({ ctx, input }) => {
    const inv = await ownInvoice(ctx.ledger, ctx.portal, input.id);
    const [creditNotes, payments, payUrl] = await Promise.all([
      ctx.ledger.invoices.listCreditNotes(ctx.scope, inv.id),
      ctx.ledger.payments.list(ctx.scope, { invoiceId: inv.id }, { limit: 100 }),
      isPayable(inv) && canManageBilling(ctx.portal.role) ? ctx.ledger.hosted.invoiceUrl(ctx.scope, inv.id) : Promise.resolve(null),
    ]);
    return invoiceDetail({ invoice: inv, creditNotes, payments: payments.items, payUrl: payUrl && `${localPath(payUrl)}?return=${encodeURIComponent(`/portal/invoices/${inv.id}`)}` });
  }),
});

/** The hosted page's path: the portal links within the app, whatever its public URL. */
function localPath(url: string): string {
  const u = new URL(url, 'http://app.invalid');
  return u.pathname + u.search;
}

export const accountRouter = router({
  /** Who is signed in, for the portal's header: the customer's name, the role, the way back. */
  profile: portalProcedure.query(async ({ ctx }) => {
    const [customer, mode] = await Promise.all([ctx.ledger.customers.get(ctx.scope, ctx.portal.customerId), ctx.ledger.scopes.mode(ctx.scope)]);
    return {
      /** Who bills the customer (the scope's tenant, as the hosted pages name it). */
      merchant: defaultMerchantName(ctx.scope),
      testMode: mode === 'test',
      customer: { name: customer.name, email: customer.email },
      email: ctx.portal.email,
      role: ctx.portal.role,
      canManageBilling: canManageBilling(ctx.portal.role),
      returnUrl: ctx.portal.returnUrl,
      expiresAt: ctx.portal.expiresAt,
    };
  }),
  /**
   * The overview: the plan and its status (trial days left, a cancellation scheduled), the
   * next invoice's date and amount (its preview), what is owed and the invoice to pay
   * first, the default payment method, and alerts (a limit reached, 80 % of one used,
   * past due), and the three latest invoices.
   */
  overview: portalProcedure.query(async ({ ctx }) => {
    const { ledger, scope } = ctx;
    const customerId = ctx.portal.customerId;
    // Of the invoices, only what the page shows: those asking for money (what is owed,
    // the one to pay first) and the three latest.
    const [customer, usage, payable, recent, methods] = await Promise.all([
      ledger.customers.get(scope, customerId),
      ledger.entitlements.summary(scope, customerId),
      ledger.invoices.listPayable(scope, customerId),
      ledger.invoices.pageByCustomer(scope, customerId, { page: 1, perPage: 3 }),
      ledger.paymentMethods.list(scope, customerId),
    ]);
    // The live subscription, else the one that ended last (to say it ended).
    const live = usage.subscriptionId ? await ledger.subscriptions.get(scope, usage.subscriptionId) : null;
    const sub = live ?? (await lastEnded(ledger, scope, customerId));
    const [plan, upcoming] = await Promise.all([
      sub ? ledger.plans.get(scope, sub.planId).then((p) => pricesIn(p, sub.currency)) : null,
      // An ended subscription has no next invoice (the view shows none for it either).
      live && live.status !== 'canceled' ? nextInvoice(ledger, scope, live) : null,
    ]);
    const view = overviewView({ now: ledger.now(scope, customerId), customer, subscription: sub, plan, upcoming, usage, invoices: payable, methods });
    const mayPay = canManageBilling(ctx.portal.role);
    // The pay button of a past-due or open invoice: the hosted pay page, for those who may pay.
    // With the way back to the overview (the pay page checks it is a path of this app).
    const payUrl = view.toPay && mayPay ? `${localPath(await ledger.hosted.invoiceUrl(scope, view.toPay.id))}?return=%2Fportal` : null;
    // The three latest invoices (the page shows them under the plan).
    return { ...view, canManageBilling: mayPay, toPay: view.toPay && { ...view.toPay, payUrl }, recentInvoices: invoicePageView(recent) };
  }),
  invoices: invoicesRouter,
});
