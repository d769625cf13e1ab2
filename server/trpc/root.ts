import { createCallerFactory, router } from './init';
import { couponsRouter } from './routers/coupons';
import { customersRouter } from './routers/customers';
import { entitlementsRouter } from './routers/entitlements';
import { plansRouter } from './routers/plans';
import { subscriptionsRouter } from './routers/subscriptions';
import { taxRatesRouter } from './routers/tax-rates';
import { usageRouter } from './routers/usage';

export const appRouter = router({
  customers: customersRouter,
  plans: plansRouter,
  subscriptions: subscriptionsRouter,
  entitlements: entitlementsRouter,
  usage: usageRouter,
  coupons: couponsRouter,
  taxRates: taxRatesRouter,
});

export type AppRouter = typeof appRouter;

/** For tests and server code: call procedures without HTTP. */
export const createCaller = createCallerFactory(appRouter);
