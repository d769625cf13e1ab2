import { z } from 'zod';
import type { DatabaseLimits } from '../db/client';
import { API_KEY_PATTERN } from './auth/api-key-format';
import { paddleEnvironment } from './ledger/payment/paddle-env';

/**
 * The environment, parsed once by a schema at start. A bad value stops the process with
 * a message that names the variable, rather than failing at the first request.
 */
const flag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');
const slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a lowercase slug');

/** The database under failure: how long a request may wait for it (README, "Failures and limits"). */
const databaseLimitsShape = {
  LEDGER_DB_POOL_MAX: z.coerce.number().int().min(1).max(1000).default(10),
  LEDGER_DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(2_000),
  LEDGER_DB_QUEUE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(2_000),
  LEDGER_DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(2_147_483_647).default(15_000),
};

export const envSchema = z
  .object({
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL')
      .optional(),
    PGLITE_DATA_DIR: z.string().min(1).default('.data/pglite'),
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').optional(),
    LEDGER_DEMO: flag.optional(),
    LEDGER_DEMO_API_KEY: z.string().regex(API_KEY_PATTERN, 'an API key of the form ldg_test_<12>_<32>').optional(),
    LEDGER_PORTAL_TENANT: slug.default('demo'),
    LEDGER_PORTAL_APP: slug.default('portal'),
    /** How often the billing cycle runs for every scope with work due; 0 turns it off. */
    LEDGER_BILLING_INTERVAL_MS: z.coerce
      .number()
      .int()
      .max(2_147_483_647) // setInterval's limit
      .refine((ms) => ms === 0 || ms >= 1000, 'milliseconds, at least 1000, or 0 to turn the schedule off')
      .default(60_000),
    ...databaseLimitsShape,
    // The HTTP boundary.
    LEDGER_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(1024 ** 3).default(1024 * 1024),
    LEDGER_TRPC_MAX_BATCH: z.coerce.number().int().min(1).max(10_000).default(50),
    /** How many days the event log keeps events (events.list, outbound webhooks, audit). */
    LEDGER_EVENTS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    /** How many days the audit trail keeps its entries (audit.list); older ones are purged hourly. */
    LEDGER_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(365),
    /** How many days delivered (or abandoned) outbound webhook messages and their attempts are kept. */
    LEDGER_WEBHOOKS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    /** Requests (tRPC: calls) per API key per window; 0 turns the limit off. */
    LEDGER_RATE_LIMIT_PER_KEY: z.coerce.number().int().min(0).default(1_000),
    LEDGER_RATE_LIMIT_WINDOW_S: z.coerce.number().int().min(1).max(86_400).default(1),
    // Payments.
    /** The provider of scopes whose payment settings name none. */
    LEDGER_PAYMENT_PROVIDER: z.enum(['sandbox', 'stripe', 'paddle']).default('sandbox'),
    STRIPE_SECRET_KEY: z.string().regex(/^(sk|rk)_(test|live)_\S+$/, 'a Stripe secret key: sk_test_…, sk_live_… (or rk_…)').optional(),
    STRIPE_WEBHOOK_SECRET: z.string().regex(/^whsec_\S+$/, "the webhook endpoint's signing secret: whsec_…").optional(),
    /** Paddle Billing's API key: pdl_sdbx_apikey_… (sandbox) or pdl_live_apikey_… (production); checked against PADDLE_ENVIRONMENT below. */
    PADDLE_API_KEY: z.string().regex(/^\S+$/, 'a Paddle API key: pdl_sdbx_apikey_… or pdl_live_apikey_…').optional(),
    /** The notification destination's secret key (pdl_ntfset_…). */
    PADDLE_WEBHOOK_SECRET: z.string().regex(/^\S{16,}$/, "the notification destination's secret key: pdl_ntfset_…").optional(),
    /** Paddle's environment; by default the API key's prefix says, else sandbox. */
    PADDLE_ENVIRONMENT: z.enum(['sandbox', 'production']).optional(),
    /** The sandbox's webhook signing secret; the same on every instance (random per process when unset). */
    LEDGER_SANDBOX_WEBHOOK_SECRET: z.string().min(16, 'at least 16 characters').optional(),
    /** Signs the hosted pages' links (pay, add a card, confirm); the same on every instance (random per process when unset: links die at a restart). */
    LEDGER_HOSTED_SECRET: z.string().min(16, 'at least 16 characters').optional(),
    /** The app's public URL the hosted pages' links start with (default http://localhost:<PORT>). */
    LEDGER_PUBLIC_URL: z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'an http(s) URL such as https://billing.example.com').optional(),
    // Prometheus metrics (server/plugins/metrics, GET /api/metrics).
    /** The metrics plugin and GET /api/metrics; on by default, `0` turns both off (the route answers 404). */
    LEDGER_METRICS: flag.default(true),
    /** When set, GET /api/metrics requires `Authorization: Bearer <token>`. */
    LEDGER_METRICS_TOKEN: z.string().min(16, 'at least 16 characters').regex(/^\S+$/, 'no spaces').optional(),
    /** Label engine metrics with tenant and app (one series per scope: only for a bounded number of scopes). */
    LEDGER_METRICS_TENANT_LABELS: flag.default(false),
    // The portal's sign-in (server/auth/next-auth.ts).
    /** Signs and encrypts the portal's session cookies; the same on every instance. Required for the portal's sign-in with DATABASE_URL (the rest of the app runs without it); random per process on the embedded default. */
    AUTH_SECRET: z.string().min(32, 'at least 32 characters: `openssl rand -base64 33`').optional(),
    /** The app's public URL for sign-in links (default: LEDGER_PUBLIC_URL; else the request's host). */
    AUTH_URL: z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'an http(s) URL such as https://billing.example.com').optional(),
    /** Trust the request's Host / X-Forwarded-Host when no AUTH_URL or LEDGER_PUBLIC_URL says the public URL (default true). */
    AUTH_TRUST_HOST: flag.optional(),
    /** Sends the sign-in links: smtp(s)://user:pass@host:port. Without it, links go to the console and /dev/mailbox. */
    SMTP_URL: z.string().regex(/^smtps?:\/\/\S+$/, 'an smtp:// or smtps:// URL').optional(),
    EMAIL_FROM: z.string().min(3).default('Ledger <no-reply@localhost>'),
    AUTH_GITHUB_ID: z.string().min(1).optional(),
    AUTH_GITHUB_SECRET: z.string().min(1).optional(),
    AUTH_GOOGLE_ID: z.string().min(1).optional(),
    AUTH_GOOGLE_SECRET: z.string().min(1).optional(),
  })
  .superRefine((e, ctx) => {
    if (!!e.STRIPE_SECRET_KEY !== !!e.STRIPE_WEBHOOK_SECRET) {
      ctx.addIssue({ code: 'custom', path: [e.STRIPE_SECRET_KEY ? 'STRIPE_WEBHOOK_SECRET' : 'STRIPE_SECRET_KEY'], message: 'Stripe needs both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET' });
    }
    if (e.LEDGER_PAYMENT_PROVIDER === 'stripe' && !e.STRIPE_SECRET_KEY) {
      ctx.addIssue({ code: 'custom', path: ['LEDGER_PAYMENT_PROVIDER'], message: 'stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET' });
    }
    if (!!e.PADDLE_API_KEY !== !!e.PADDLE_WEBHOOK_SECRET) {
      ctx.addIssue({ code: 'custom', path: [e.PADDLE_API_KEY ? 'PADDLE_WEBHOOK_SECRET' : 'PADDLE_API_KEY'], message: 'Paddle needs both PADDLE_API_KEY and PADDLE_WEBHOOK_SECRET' });
    }
    if (e.PADDLE_API_KEY) {
      try {
        paddleEnvironment(e.PADDLE_API_KEY, e.PADDLE_ENVIRONMENT);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['PADDLE_API_KEY'], message: (err as Error).message });
      }
    }
    for (const p of ['GITHUB', 'GOOGLE'] as const) {
      if (!!e[`AUTH_${p}_ID`] !== !!e[`AUTH_${p}_SECRET`]) {
        ctx.addIssue({ code: 'custom', path: [e[`AUTH_${p}_ID`] ? `AUTH_${p}_SECRET` : `AUTH_${p}_ID`], message: `sign-in with ${p === 'GITHUB' ? 'GitHub' : 'Google'} needs both AUTH_${p}_ID and AUTH_${p}_SECRET` });
      }
    }
    if (e.LEDGER_PAYMENT_PROVIDER === 'paddle' && !e.PADDLE_API_KEY) {
      ctx.addIssue({ code: 'custom', path: ['LEDGER_PAYMENT_PROVIDER'], message: 'paddle needs PADDLE_API_KEY and PADDLE_WEBHOOK_SECRET' });
    }
  })
  .transform((e) => ({
    ...e,
    // Demo data is on by default on the embedded database, off on a real server.
    LEDGER_DEMO: e.LEDGER_DEMO ?? !e.DATABASE_URL,
  }));

export type Env = z.output<typeof envSchema>;

export class EnvError extends Error {
  override name = 'EnvError';
}

export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  // Empty strings count as unset, as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  const r = envSchema.safeParse(cleaned);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new EnvError(`Invalid environment:\n${lines.join('\n')}`);
}

/**
 * The database limits of an environment: of a parsed Env, or read from `process.env`
 * alone (for callers that open a database without the whole environment: scripts, tests).
 */
export function databaseLimits(source: Env | Record<string, string | undefined> = process.env): DatabaseLimits {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([k, v]) => k.startsWith('LEDGER_DB_') && v !== ''));
  const r = z.object(databaseLimitsShape).safeParse(cleaned);
  if (!r.success) throw new EnvError(`Invalid environment:\n${r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  return {
    poolMax: r.data.LEDGER_DB_POOL_MAX,
    connectTimeoutMs: r.data.LEDGER_DB_CONNECT_TIMEOUT_MS,
    queueTimeoutMs: r.data.LEDGER_DB_QUEUE_TIMEOUT_MS,
    statementTimeoutMs: r.data.LEDGER_DB_STATEMENT_TIMEOUT_MS,
  };
}
