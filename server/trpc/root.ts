import { createCallerFactory, router } from './init';
import { customersRouter } from './routers/customers';
import { plansRouter } from './routers/plans';
import { subscriptionsRouter } from './routers/subscriptions';

export const appRouter = router({
  customers: customersRouter,
  plans: plansRouter,
  subscriptions: subscriptionsRouter,
});

export type AppRouter = typeof appRouter;

/** For tests and server code: call procedures without HTTP. */
export const createCaller = createCallerFactory(appRouter);
