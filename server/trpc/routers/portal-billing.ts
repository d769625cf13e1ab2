import { z } from 'zod';
import { invalid, notFound, text, updateCustomerSchema, type Customer, type Ledger, type PaymentMethod } from '../../ledger';
import { portalDeps } from '../../portal/database';
import { canManageBilling, type PortalContext } from '../../portal/session';
import { portalBillingProcedure, portalProcedure, router } from '../init';
import { idOf } from '../inputs';

/**
 * The /portal/billing page's procedures, mounted as `accountBilling`: the customer's
 * billing details (name, email, address, country, region, tax id) and saved payment
 * methods. Scope and customer come from the session (ctx.portal) only; a method id is
 * always checked to be this customer's. Reads are open to every role; writes to owner
 * and billing only. An edit of the details changes future invoices only: a finalized
 * invoice keeps the snapshot it was issued with.
 */

/** What a portal user may edit: the engine's own schema, narrowed to the billing fields (tax status and collection stay the merchant's). */
const detailsInput = updateCustomerSchema.pick({ name: true, email: true, address: true, country: true, region: true, taxId: true }).strict();

const byId = z.object({ id: idOf('paymentMethod') }).strict();

/** An origin (scheme and host) only: where the provider's page sends the customer back, on this app. */
const origin = text(200).pipe(z.url({ protocol: /^https?$/, error: 'an http(s) origin' })).transform((u) => new URL(u).origin);

function detailsOf(c: Customer) {
  return { name: c.name, email: c.email, address: c.address, country: c.country, region: c.region, taxId: c.taxId, taxStatus: c.taxStatus };
}

/** A card as the page shows it: never the provider's ids. Expired: its last month has passed (at the customer's time). */
function methodCard(m: PaymentMethod, now: Date) {
  const y = now.getUTCFullYear();
  const mo = now.getUTCMonth() + 1;
  return { id: m.id, brand: m.brand, last4: m.last4, expMonth: m.expMonth, expYear: m.expYear, isDefault: m.isDefault, expired: m.expYear < y || (m.expYear === y && m.expMonth < mo) };
}

/** One of this customer's attached methods; another customer's (or scope's) id: NOT_FOUND, as an unknown one. */
async function ownMethod(ledger: Ledger, portal: PortalContext, id: string): Promise<PaymentMethod> {
  const m = await ledger.paymentMethods.get(portal.scope, id);
  if (m.customerId !== portal.customerId) throw notFound('payment method', id);
  return m;
}

/** The app's public URL: LEDGER_PUBLIC_URL when set, else the request's origin (the server action passes it). */
function publicBase(ledger: Ledger, requestOrigin: string | undefined): string {
  let configured: string | undefined;
  try {
    configured = portalDeps(ledger).env.LEDGER_PUBLIC_URL;
  } catch {
    configured = undefined; // an engine built without the runtime (tests)
  }
  const base = configured ?? requestOrigin;
  // The caller's to give (a bad request), not a bug: say what is missing.
  if (!base) throw invalid('the app\'s public URL is unknown: pass origin, or set LEDGER_PUBLIC_URL', [{ path: 'origin', message: 'required when LEDGER_PUBLIC_URL is not set' }]);
  return base.replace(/\/+$/, '');
}

export const accountBillingRouter = router({
  /** The customer's billing details as invoices will print them, and whether this user may edit them. */
  details: portalProcedure.query(async ({ ctx }) => {
    const c = await ctx.ledger.customers.get(ctx.scope, ctx.portal.customerId);
    return { ...detailsOf(c), canManageBilling: canManageBilling(ctx.portal.role) };
  }),

  /** Edits the details (future invoices only). Bad input (a country that is no ISO code, text too long): BAD_REQUEST, nothing changed. */
  updateDetails: portalBillingProcedure.input(detailsInput).mutation(async ({ ctx, input }) => {
    const c = await ctx.ledger.customers.update(ctx.scope, ctx.portal.customerId, input);
    return detailsOf(c);
  }),

  /** Saved cards, oldest first: brand, last 4, expiry, the default, and whether expired. */
  methods: portalProcedure.query(async ({ ctx }) => {
    const list = await ctx.ledger.paymentMethods.list(ctx.scope, ctx.portal.customerId);
    const now = ctx.ledger.now(ctx.scope, ctx.portal.customerId);
    return { methods: list.map((m) => methodCard(m, now)), canManageBilling: canManageBilling(ctx.portal.role) };
  }),

  /** Makes one of the customer's cards the default (the one charged automatically). */
  setDefault: portalBillingProcedure.input(byId).mutation(async ({ ctx, input }) => {
    const m = await ownMethod(ctx.ledger, ctx.portal, input.id);
    const done = await ctx.ledger.paymentMethods.setDefault(ctx.scope, m.id);
    return methodCard(done, ctx.ledger.now(ctx.scope, ctx.portal.customerId));
  }),

  /** Removes (detaches) one of the customer's cards; removing the default leaves none (Stripe's rule). */
  remove: portalBillingProcedure.input(byId).mutation(async ({ ctx, input }) => {
    const m = await ownMethod(ctx.ledger, ctx.portal, input.id);
    await ctx.ledger.paymentMethods.detach(ctx.scope, m.id);
    return { id: m.id, removed: true as const };
  }),

  /**
   * The provider's hosted add-a-card page: `{ url }`. The customer comes back to
   * /portal/billing?card=added (or ?card=canceled) on LEDGER_PUBLIC_URL, else on `origin`
   * (the request's, which the page's server action passes; ignored when the env says).
   */
  addCard: portalBillingProcedure.input(z.object({ origin: origin.optional() }).strict().optional()).mutation(async ({ ctx, input }) => {
    const base = publicBase(ctx.ledger, input?.origin);
    return ctx.ledger.paymentMethods.createSetupSession(ctx.scope, {
      customerId: ctx.portal.customerId,
      successUrl: `${base}/portal/billing?card=added`,
      cancelUrl: `${base}/portal/billing?card=canceled`,
    });
  }),
});
