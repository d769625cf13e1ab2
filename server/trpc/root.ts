import { createCallerFactory, router } from './init';
import { auditRouter } from './routers/audit';
import { billingRouter } from './routers/billing';
import { couponsRouter } from './routers/coupons';
import { customersRouter } from './routers/customers';
import { entitlementsRouter } from './routers/entitlements';
import { eventsRouter } from './routers/events';
import { invoicesRouter } from './routers/invoices';
import { paymentMethodsRouter } from './routers/payment-methods';
import { paymentsRouter } from './routers/payments';
import { plansRouter } from './routers/plans';
import { portalAccessRouter } from './routers/portal-access';
import { accountRouter } from './routers/portal';
import { accountPlansRouter } from './routers/portal-plans';
import { accountBillingRouter } from './routers/portal-billing';
import { accountUsageRouter } from './routers/portal-usage';
import { accountCreditsRouter } from './routers/portal-credits';
import { refundsRouter } from './routers/refunds';
import { settingsRouter } from './routers/settings';
import { subscriptionsRouter } from './routers/subscriptions';
import { taxRatesRouter } from './routers/tax-rates';
import { testClocksRouter } from './routers/test-clocks';
import { usageRouter } from './routers/usage';
import { walletsRouter } from './routers/wallets';
import { webhookEndpointsRouter } from './routers/webhook-endpoints';

export const appRouter = router({
  customers: customersRouter,
  plans: plansRouter,
  subscriptions: subscriptionsRouter,
  entitlements: entitlementsRouter,
  usage: usageRouter,
  coupons: couponsRouter,
  taxRates: taxRatesRouter,
  invoices: invoicesRouter,
  payments: paymentsRouter,
  paymentMethods: paymentMethodsRouter,
  refunds: refundsRouter,
  testClocks: testClocksRouter,
  billing: billingRouter,
  events: eventsRouter,
  audit: auditRouter,
  webhookEndpoints: webhookEndpointsRouter,
  wallets: walletsRouter,
  // The scope's billing settings (settings.get, settings.update: the rounding mode).
  settings: settingsRouter,
  // The portal's sign-in and access (portal.createSession, portal.me, portal.members.*).
  portal: portalAccessRouter,
  // The portal's pages' reads (account.overview, account.invoices.list/get): the session's customer only.
  account: accountRouter,
  accountPlans: accountPlansRouter,
  accountBilling: accountBillingRouter,
  accountUsage: accountUsageRouter,
  accountCredits: accountCreditsRouter,
});

export type AppRouter = typeof appRouter;

/** For tests and server code: call procedures without HTTP. */
export const createCaller = createCallerFactory(appRouter);
