import type { EngineContext } from '../context';
import { isLedgerError, LedgerError, type CouponId, type CustomerId, type Currency, type InvoiceId, type Scope } from '../types';
import type { Coupon } from './types';

/**
 * Carried-over amounts (`carryOver`, Lago's amount_cents_remaining). An amount-off coupon
 * that carries over is one balance per customer, not a fresh amount per invoice: each
 * invoice it discounts is discounted by at most what is left, and takes what it used from
 * the balance when it is finalized. A 100.00 coupon on a 30.00 invoice leaves 70.00 for
 * the next invoices, until it is used up or the duration ends (then the rest is lost).
 *
 * Drafts are discounted by the balance as it is when they are computed; the spend is
 * made at finalization, in the finalization's transaction, by one conditional write. Two
 * invoices finalized at once that both counted on the same 70.00 cannot both spend it:
 * the second one's write is refused, and its finalization is made again from a fresh
 * computation (retryWhenBalanceMoved), which sees what is left.
 *
 * The balance is per customer and coupon: applying the same code again, or on the
 * customer's next subscription, does not refill it. Voiding an invoice does: what it spent
 * goes back, once (giveBackCouponBalance).
 */

/** The coupon as it discounts the customer's next invoice: a carried-over amount is what is left of it. */
export async function couponForInvoice(ctx: EngineContext, scope: Scope, customerId: CustomerId, couponId: CouponId): Promise<Coupon | null> {
  const coupon = await ctx.store.coupons.get(scope, couponId);
  if (!coupon || !coupon.carryOver || coupon.amountOff === null) return coupon;
  const balance = await ctx.store.coupons.balance(scope, customerId, couponId);
  return balance ? { ...coupon, amountOff: balance.amountRemaining } : coupon;
}

/** What is left of a carried-over coupon for the customer; null for a coupon that does not carry over. */
export async function amountRemaining(ctx: EngineContext, scope: Scope, customerId: CustomerId, coupon: Coupon): Promise<number | null> {
  if (!coupon.carryOver || coupon.amountOff === null) return null;
  const balance = await ctx.store.coupons.balance(scope, customerId, coupon.id);
  return balance ? balance.amountRemaining : coupon.amountOff;
}

/** A finalization whose carried-over coupon amount was spent by another invoice meanwhile. */
export class CouponBalanceMoved extends LedgerError {
  readonly couponBalanceMoved = true;
  constructor(couponCode: string, invoiceId: string) {
    super('conflict', `what is left of coupon ${couponCode} changed while invoice ${invoiceId} was finalized; retry`);
  }
}

const isBalanceMoved = (e: unknown): boolean => isLedgerError(e) && (e as { couponBalanceMoved?: boolean }).couponBalanceMoved === true;

/**
 * Spends an invoice's discount from its carried-over coupon, in the caller's transaction
 * (the finalization's): a no-op for an invoice without such a coupon or discount. Throws
 * CouponBalanceMoved when less is left than the invoice counted on.
 */
export async function spendCouponBalance(
  ctx: EngineContext,
  scope: Scope,
  invoice: { id: InvoiceId; customerId: CustomerId; couponId: CouponId | null; discount: number; currency: Currency },
  at: Date,
): Promise<void> {
  if (!invoice.couponId || invoice.discount <= 0) return;
  const coupon = await ctx.store.coupons.get(scope, invoice.couponId);
  if (!coupon || !coupon.carryOver || coupon.amountOff === null) return;
  const spent = await ctx.store.coupons.spend(scope, {
    customerId: invoice.customerId,
    couponId: coupon.id,
    invoiceId: invoice.id,
    currency: coupon.currency,
    amount: invoice.discount,
    initial: coupon.amountOff,
    at,
  });
  if (!spent) throw new CouponBalanceMoved(coupon.code, invoice.id);
}

/**
 * Gives back what a voided invoice spent of its carried-over coupon amount, in the
 * caller's transaction (the void's), once (CouponBalanceStore.giveBack). What it gives
 * back discounts the next invoices as if the voided one had never spent it, until the
 * coupon's duration ends. Returns the amount.
 */
export async function giveBackCouponBalance(ctx: EngineContext, scope: Scope, invoice: { id: InvoiceId; couponId: CouponId | null; discount: number }, at: Date): Promise<number> {
  if (!invoice.couponId || invoice.discount <= 0) return 0; // only such an invoice spends
  return ctx.store.coupons.giveBack(scope, invoice.id, at);
}

/**
 * Runs a finalization again (recomputed from scratch) while its carried-over coupon
 * amount moved under it, at most `attempts` times in all: each refusal means another
 * invoice's spend succeeded, so it ends. Other errors pass through at once.
 */
export async function retryWhenBalanceMoved<T>(work: () => Promise<T>, attempts = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (e) {
      if (!isBalanceMoved(e) || attempt >= attempts) throw e;
    }
  }
}
