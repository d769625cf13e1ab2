import { z } from 'zod';
import { cancelSchema, changePlanSchema, changeSeatsSchema, createSubscriptionSchema, requiredText } from '../../ledger';
import { apiKeyProcedure, router } from '../init';
import { idOf, pageInput } from '../inputs';

const byId = z.object({ id: idOf('subscription') });
const planChange = changePlanSchema.extend({ id: idOf('subscription'), planId: idOf('plan') });

export const subscriptionsRouter = router({
  /** With seats, a trial override, a coupon code and price overrides; the first period is invoiced. */
  create: apiKeyProcedure
    .input(createSubscriptionSchema.extend({ customerId: idOf('customer'), planId: idOf('plan') }))
    .mutation(({ ctx, input }) => ctx.ledger.subscriptions.create(ctx.scope, input)),
  get: apiKeyProcedure.input(byId).query(({ ctx, input }) => ctx.ledger.subscriptions.get(ctx.scope, input.id)),
  listByCustomer: apiKeyProcedure
    .input(z.object({ customerId: idOf('customer'), page: pageInput }))
    .query(({ ctx, input }) => ctx.ledger.subscriptions.listByCustomer(ctx.scope, input.customerId, input.page)),
  /** `at: 'now'` (with `prorate`, the unused fees are credited) or `'period_end'`. */
  cancel: apiKeyProcedure
    .input(cancelSchema.extend({ id: idOf('subscription') }))
    .mutation(({ ctx, input: { id, ...cancel } }) => ctx.ledger.subscriptions.cancel(ctx.scope, id, cancel)),
  resume: apiKeyProcedure.input(byId).mutation(({ ctx, input }) => ctx.ledger.subscriptions.resume(ctx.scope, input.id)),
  /**
   * When: the current plan's changeRules (default: upgrades at once, downgrades at the
   * period end), unless `upgradeAt`/`downgradeAt` say. How the rest of the period is
   * billed: `prorationBehavior` (`always_invoice` by default, `create_prorations`, `none`).
   */
  changePlan: apiKeyProcedure
    .input(planChange)
    .mutation(({ ctx, input: { id, ...change } }) => ctx.ledger.subscriptions.changePlan(ctx.scope, id, change)),
  /** What changePlan would do now: `{ effective, upgrade, invoice, prorationsBilled }`; nothing is stored. */
  previewChange: apiKeyProcedure
    .input(planChange)
    .query(({ ctx, input: { id, ...change } }) => ctx.ledger.subscriptions.previewChange(ctx.scope, id, change)),
  /** Seats now, the licensed fees prorated for the rest of the period (`prorationBehavior` as changePlan). */
  changeSeats: apiKeyProcedure
    .input(changeSeatsSchema.extend({ id: idOf('subscription') }))
    .mutation(({ ctx, input: { id, ...seats } }) => ctx.ledger.subscriptions.changeSeats(ctx.scope, id, seats)),
  /** Ends a trial now: the first paid period starts and is invoiced. */
  endTrial: apiKeyProcedure.input(byId).mutation(({ ctx, input }) => ctx.ledger.subscriptions.endTrial(ctx.scope, input.id)),
  /** Redeems a coupon code on the subscription (replacing its coupon, if any). */
  applyCoupon: apiKeyProcedure
    .input(z.object({ id: idOf('subscription'), code: requiredText(100) }))
    .mutation(({ ctx, input }) => ctx.ledger.subscriptions.applyCoupon(ctx.scope, input.id, input.code)),
});
