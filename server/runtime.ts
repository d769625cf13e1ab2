import { randomBytes } from 'node:crypto';
import { openDatabase, type DatabaseHandle } from '../db/client';
import { createLedger, createPostgresAuditedStores, scope, type Ledger, type LedgerOptions, type Scope } from './ledger';
import { closeRateLimiter } from './http/rate-limit';
import { createMetricsPlugin, type MetricsPlugin } from './plugins/metrics/plugin';
import { recordDependencyError, recordWebhookDelivery } from './plugins/metrics/recorder';
import { registerPortalDeps } from './portal/database';
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
  /** The Prometheus metrics plugin behind GET /api/metrics; null with LEDGER_METRICS=0. */
  metrics: MetricsPlugin | null;
  /** The tenant and app whose plans the portal shows. */
  portalScope: Scope;
  /**
   * Signs and encrypts the portal's session cookies: AUTH_SECRET; on the embedded
   * default without it, random per process (sign-ins end at a restart). Null on a real
   * database without AUTH_SECRET: the portal's sign-in is off (server/auth/next-auth.ts).
   */
  authSecret: string | null;
  close(): Promise<void>;
}

export async function createRuntime(env: Env): Promise<Runtime> {
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.PGLITE_DATA_DIR, limits: databaseLimits(env) });
  const metrics = env.LEDGER_METRICS ? createMetricsPlugin({ tenantLabels: env.LEDGER_METRICS_TENANT_LABELS }) : null;
  // The audit trail's rows join the engine's transactions: one pair of stores on the database.
  const stores = createPostgresAuditedStores(database.db);
  const ledger = await createLedger({
    store: stores.store,
    audit: { store: stores.audit, retentionDays: env.LEDGER_AUDIT_RETENTION_DAYS },
    plugins: metrics ? [metrics] : [],
    ...(await paymentOptions(env)),
    // Redis: usage counters shared by every instance, and invalidations published to them.
    entitlements: env.REDIS_URL ? { redis: { url: env.REDIS_URL, onError: (kind) => recordDependencyError('redis', kind) } } : {},
    // The hosted pages' signed links (app/pay, app/sandbox/…).
    hosted: { secret: env.LEDGER_HOSTED_SECRET, baseUrl: env.LEDGER_PUBLIC_URL ?? `http://localhost:${env.PORT}` },
    events: { retentionDays: env.LEDGER_EVENTS_RETENTION_DAYS },
    // Outbound webhooks: endpoints and messages in the database, on the store's own
    // transactions (started by boot.ts).
    // Deliveries are counted by the metrics plugin (a no-op while metrics are off).
    webhooksOut: { onAttempt: recordWebhookDelivery, retentionDays: env.LEDGER_WEBHOOKS_RETENTION_DAYS },
  });
  if (metrics) {
    metrics.attach(ledger);
    metrics.installSink(); // requests, database and Redis errors, webhook deliveries (server/plugins/metrics/recorder.ts)
  }
  registerPortalDeps({ db: database.db, env, ledger });
  let closed: Promise<void> | null = null;
  // Decided (and said) when the portal's sign-in first needs it, not by every command
  // that builds a runtime (`npm run billing`, `npm run apikey`).
  let authSecret: string | null | undefined;
  return {
    env,
    database,
    ledger,
    metrics,
    portalScope: scope(env.LEDGER_PORTAL_TENANT, env.LEDGER_PORTAL_APP),
    get authSecret() {
      if (authSecret === undefined) authSecret = authSecretOf(env);
      return authSecret;
    },
    close: () =>
      (closed ??= (async () => {
        await ledger.shutdown();
        await closeRateLimiter(env);
        await database.close();
      })()),
  };
}

function authSecretOf(env: Env): string | null {
  if (env.AUTH_SECRET) return env.AUTH_SECRET;
  if (env.DATABASE_URL) {
    console.warn('[auth] AUTH_SECRET is not set: the portal sign-in is off on a real database (set it to the same value on every instance: `openssl rand -base64 33`)');
    return null;
  }
  console.log('[auth] AUTH_SECRET is not set: a random one for this process (portal sign-ins end at a restart)');
  return randomBytes(33).toString('base64');
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
