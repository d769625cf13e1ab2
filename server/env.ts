import { z } from 'zod';
import { API_KEY_PATTERN } from './auth/api-key-format';

/**
 * The environment, parsed once by a schema at start. A bad value stops the process with
 * a message that names the variable, rather than failing at the first request.
 */
const flag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');
const slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a lowercase slug');

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
