import { afterEach, describe, expect, it } from 'vitest';
import { parseEnv } from '@/server/env';
import { createRuntime, type Runtime } from '@/server/runtime';

/**
 * Payment providers come from the environment: the sandbox always (the default), Stripe
 * when both of its keys are set; a delivery to /api/webhooks/stripe then reaches Stripe's
 * signature check instead of "not configured".
 */
let rt: Runtime | null = null;
afterEach(async () => {
  await rt?.close();
  rt = null;
});

const base = { PGLITE_DATA_DIR: 'memory://', LEDGER_DEMO: '0', LEDGER_BILLING_INTERVAL_MS: '0' };

describe('payment providers from the environment', () => {
  it('without Stripe keys: the sandbox is the default, and Stripe is not configured (not_found)', async () => {
    const env = parseEnv(base);
    expect(env.LEDGER_PAYMENT_PROVIDER).toBe('sandbox');
    rt = await createRuntime(env);
    await expect(rt.ledger.webhooks.receive('stripe', '{}', {})).rejects.toMatchObject({ code: 'not_found' });
  });

  it("with both Stripe keys: Stripe is registered, and an unsigned delivery fails its signature check (invalid), nothing stored", async () => {
    rt = await createRuntime(parseEnv({ ...base, STRIPE_SECRET_KEY: 'sk_test_123', STRIPE_WEBHOOK_SECRET: 'whsec_123', LEDGER_PAYMENT_PROVIDER: 'stripe' }));
    await expect(rt.ledger.webhooks.receive('stripe', '{"id":"evt_1"}', {})).rejects.toMatchObject({ code: 'invalid' });
    expect(await rt.ledger.webhooks.event('stripe', 'evt_1')).toBeNull();
  });
});
