import { z } from 'zod';
import { createCouponSchema, updateCouponSchema } from '../../ledger/coupon/types';
import { requiredText } from '../../ledger/types';
import { apiKeyProcedure, router } from '../init';
import { idOf, pageInput } from '../inputs';

export const couponsRouter = router({
  /**
   * New terms (createCouponSchema): `durationInMonths` (repeating, counted in months from
   * the redemption, instead of `durationPeriods`) and `carryOver` (an amount-off coupon's
   * unused part discounts the next invoices).
   */
  create: apiKeyProcedure
    .input(createCouponSchema)
    .mutation(({ ctx, input }) => ctx.ledger.coupons.create(ctx.scope, input)),
  get: apiKeyProcedure
    .input(z.object({ id: idOf('coupon') }))
    .query(({ ctx, input }) => ctx.ledger.coupons.get(ctx.scope, input.id)),
  /** Case-insensitive. */
  getByCode: apiKeyProcedure
    .input(z.object({ code: requiredText(100) }))
    .query(({ ctx, input }) => ctx.ledger.coupons.getByCode(ctx.scope, input.code)),
  list: apiKeyProcedure.input(pageInput).query(({ ctx, input }) => ctx.ledger.coupons.list(ctx.scope, input)),
  /** Name, metadata, expiresAt and maxRedemptions; never the discount terms. */
  update: apiKeyProcedure
    .input(z.object({ id: idOf('coupon'), patch: updateCouponSchema }))
    .mutation(({ ctx, input }) => ctx.ledger.coupons.update(ctx.scope, input.id, input.patch)),
  archive: apiKeyProcedure
    .input(z.object({ id: idOf('coupon') }))
    .mutation(({ ctx, input }) => ctx.ledger.coupons.archive(ctx.scope, input.id)),
  /**
   * A subscription's coupon as it stands, or null: invoices discounted and left, the end
   * of a durationInMonths window, what is left of a carried-over amount.
   */
  redemption: apiKeyProcedure
    .input(z.object({ subscriptionId: idOf('subscription') }))
    .query(({ ctx, input }) => ctx.ledger.coupons.redemption(ctx.scope, input.subscriptionId)),
  /** Redeems a code on a subscription (as subscriptions.applyCoupon); returns the subscription. */
  redeem: apiKeyProcedure
    .input(z.object({ subscriptionId: idOf('subscription'), code: requiredText(100) }))
    .mutation(({ ctx, input }) => ctx.ledger.subscriptions.applyCoupon(ctx.scope, input.subscriptionId, input.code)),
});
