import { describe, expect, it } from 'vitest';
import { EnvError, parseEnv } from '@/server/env';

describe('environment', () => {
  it('defaults: port 3000, embedded PGlite under .data/, demo data on', () => {
    const env = parseEnv({});
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.PGLITE_DATA_DIR).toBe('.data/pglite');
    expect(env.LEDGER_DEMO).toBe(true);
  });

  it('demo data is off by default on a PostgreSQL server', () => {
    expect(parseEnv({ DATABASE_URL: 'postgres://root@127.0.0.1/test' }).LEDGER_DEMO).toBe(false);
    expect(parseEnv({ DATABASE_URL: 'postgres://root@127.0.0.1/test', LEDGER_DEMO: '1' }).LEDGER_DEMO).toBe(true);
  });

  it.each([
    ['PORT', { PORT: 'eighty' }],
    ['PORT', { PORT: '70000' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
    ['LEDGER_DEMO', { LEDGER_DEMO: 'maybe' }],
    ['LEDGER_DEMO_API_KEY', { LEDGER_DEMO_API_KEY: 'secret' }],
    ['LEDGER_PORTAL_TENANT', { LEDGER_PORTAL_TENANT: 'Not A Slug' }],
    ['REDIS_URL', { REDIS_URL: 'localhost:6379' }],
    ['LEDGER_BILLING_INTERVAL_MS', { LEDGER_BILLING_INTERVAL_MS: '500' }],
    ['LEDGER_BILLING_INTERVAL_MS', { LEDGER_BILLING_INTERVAL_MS: '1m' }],
    ['LEDGER_BILLING_INTERVAL_MS', { LEDGER_BILLING_INTERVAL_MS: '-1' }],
    ['LEDGER_PAYMENT_PROVIDER', { LEDGER_PAYMENT_PROVIDER: 'paypal' }],
    ['LEDGER_PAYMENT_PROVIDER', { LEDGER_PAYMENT_PROVIDER: 'stripe' }], // without its keys
    ['STRIPE_SECRET_KEY', { STRIPE_SECRET_KEY: 'pk_test_123' }],
    ['STRIPE_SECRET_KEY', { STRIPE_WEBHOOK_SECRET: 'whsec_123' }], // half of Stripe's pair
    ['STRIPE_WEBHOOK_SECRET', { STRIPE_SECRET_KEY: 'sk_test_123' }],
  ])('a bad %s fails with a message naming it', (name, source) => {
    expect(() => parseEnv(source)).toThrow(EnvError);
    expect(() => parseEnv(source)).toThrow(new RegExp(`${name}:`));
  });

  it('the billing schedule runs every minute by default; 0 turns it off', () => {
    expect(parseEnv({}).LEDGER_BILLING_INTERVAL_MS).toBe(60_000);
    expect(parseEnv({ LEDGER_BILLING_INTERVAL_MS: '1000' }).LEDGER_BILLING_INTERVAL_MS).toBe(1000);
    expect(parseEnv({ LEDGER_BILLING_INTERVAL_MS: '0' }).LEDGER_BILLING_INTERVAL_MS).toBe(0);
  });

  it('an empty value counts as unset', () => {
    expect(parseEnv({ DATABASE_URL: '', PORT: '' }).PORT).toBe(3000);
  });
});
