import { openDatabase, type DatabaseHandle } from '../db/client';
import { createLedger, createPostgresStore, scope, type Ledger, type LedgerOptions, type Scope } from './ledger';
import { closeRateLimiter } from './http/rate-limit';
import { databaseLimits, parseEnv, type Env } from './env';

/**
 * The composition root: one engine built from the environment. Next.js bundles route
 * handlers, pages and instrumentation separately, so module state is not shared between
 * them; the runtime is memoized on globalThis, and as a *promise*, so two concurrent
 * first requests cannot open the embedded database twice.
 */
export interface Runtime {
  env: Env;
  database: DatabaseHandle;
  ledger: Ledger;
  /** The tenant and app whose plans the portal shows. */
  portalScope: Scope;
  close(): Promise<void>;
}

export async function createRuntime(env: Env): Promise<Runtime> {
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.PGLITE_DATA_DIR, limits: databaseLimits(env) });
  const ledger = await createLedger({
    store: createPostgresStore(database.db),
    ...(await paymentOptions(env)),
    // Redis: usage counters shared by every instance, and invalidations published to them.
    entitlements: env.REDIS_URL ? { redis: { url: env.REDIS_URL } } : {},
    // The hosted pages' signed links (app/pay, app/sandbox/…).
    hosted: { secret: env.LEDGER_HOSTED_SECRET, baseUrl: env.LEDGER_PUBLIC_URL ?? `http://localhost:${env.PORT}` },
  });
  let closed: Promise<void> | null = null;
  return {
    env,
    database,
    ledger,
    portalScope: scope(env.LEDGER_PORTAL_TENANT, env.LEDGER_PORTAL_APP),
    close: () =>
      (closed ??= (async () => {
        await ledger.shutdown();
        await closeRateLimiter(env);
        await database.close();
      })()),
  };
}

const KEY = Symbol.for('ledger.runtime');
type Holder = { [KEY]?: Promise<Runtime> };

export function getRuntime(): Promise<Runtime> {
  const g = globalThis as Holder;
  if (!g[KEY]) {
    g[KEY] = createRuntime(parseEnv()).catch((e) => {
      delete g[KEY]; // let a later call retry (e.g. the database was not up yet)
      throw e;
    });
  }
  return g[KEY];
}

/**
 * Payment providers from the environment: the built-in sandbox always (test scopes only),
 * Stripe when its keys are set, Paddle when its keys are set (each SDK is loaded only
 * then; both may be at once). A scope collects through the provider its payment settings
 * name, else LEDGER_PAYMENT_PROVIDER.
 */
async function paymentOptions(env: Env): Promise<Pick<LedgerOptions, 'providers' | 'defaultPaymentProvider' | 'sandbox'>> {
  const providers = [];
  if (env.STRIPE_SECRET_KEY && env.STRIPE_WEBHOOK_SECRET) {
    const { createStripeProvider } = await import('./ledger/payment/stripe');
    providers.push(createStripeProvider({ secretKey: env.STRIPE_SECRET_KEY, webhookSecret: env.STRIPE_WEBHOOK_SECRET }));
  }
  if (env.PADDLE_API_KEY && env.PADDLE_WEBHOOK_SECRET) {
    const { createPaddleProvider } = await import('./ledger/payment/paddle');
    providers.push(createPaddleProvider({ apiKey: env.PADDLE_API_KEY, webhookSecret: env.PADDLE_WEBHOOK_SECRET, ...(env.PADDLE_ENVIRONMENT ? { environment: env.PADDLE_ENVIRONMENT } : {}) }));
  }
  return {
    providers,
    defaultPaymentProvider: env.LEDGER_PAYMENT_PROVIDER,
    ...(env.LEDGER_SANDBOX_WEBHOOK_SECRET ? { sandbox: { webhookSecret: env.LEDGER_SANDBOX_WEBHOOK_SECRET } } : {}),
  };
}
