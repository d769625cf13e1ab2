import { afterEach, describe, expect, it } from 'vitest';
import { parseEnv } from '@/server/env';
import { scope } from '@/server/ledger';
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

describe('Paddle from the environment', () => {
  const paddle = { PADDLE_API_KEY: 'pdl_sdbx_apikey_01abc_def', PADDLE_WEBHOOK_SECRET: 'pdl_ntfset_01abc_secret' };

  it('both Paddle variables or neither; LEDGER_PAYMENT_PROVIDER=paddle needs them; a key of the other environment is refused at start', () => {
    expect(() => parseEnv({ ...base, PADDLE_API_KEY: paddle.PADDLE_API_KEY })).toThrow(/PADDLE_WEBHOOK_SECRET: Paddle needs both/);
    expect(() => parseEnv({ ...base, PADDLE_WEBHOOK_SECRET: paddle.PADDLE_WEBHOOK_SECRET })).toThrow(/PADDLE_API_KEY: Paddle needs both/);
    expect(() => parseEnv({ ...base, LEDGER_PAYMENT_PROVIDER: 'paddle' })).toThrow(/LEDGER_PAYMENT_PROVIDER: paddle needs PADDLE_API_KEY/);
    expect(() => parseEnv({ ...base, ...paddle, PADDLE_ENVIRONMENT: 'production' })).toThrow(/PADDLE_API_KEY: a sandbox Paddle API key cannot serve the production environment/);
    expect(() => parseEnv({ ...base, ...paddle, PADDLE_ENVIRONMENT: 'staging' })).toThrow(/PADDLE_ENVIRONMENT/);
    expect(() => parseEnv({ ...base, ...paddle, PADDLE_API_KEY: 'pdl_test_x' })).toThrow(/PADDLE_API_KEY/);
    expect(parseEnv({ ...base, ...paddle })).toMatchObject({ PADDLE_API_KEY: paddle.PADDLE_API_KEY, LEDGER_PAYMENT_PROVIDER: 'sandbox' });
  });

  it('with both Paddle variables: Paddle is registered (a test scope may name it), and an unsigned delivery to it fails its signature check (invalid), nothing stored', async () => {
    rt = await createRuntime(parseEnv({ ...base, ...paddle, LEDGER_PAYMENT_PROVIDER: 'paddle' }));
    const body = JSON.stringify({ event_id: 'evt_paddle_1', event_type: 'transaction.completed', data: {} });
    await expect(rt.ledger.webhooks.receive('paddle', body, {})).rejects.toMatchObject({ code: 'invalid' });
    await expect(rt.ledger.webhooks.receive('paddle', body, { 'paddle-signature': `ts=${Math.floor(Date.now() / 1000)};h1=00` })).rejects.toMatchObject({ code: 'invalid' });
    expect(await rt.ledger.webhooks.event('paddle', 'evt_paddle_1')).toBeNull();
    const test = scope('env-paddle', 'app');
    await rt.ledger.scopes.register(test, 'test');
    expect((await rt.ledger.payments.providerFor(test)).name).toBe('paddle'); // LEDGER_PAYMENT_PROVIDER
    // A sandbox key serves no live scope.
    const live = scope('env-paddle-live', 'app');
    await rt.ledger.scopes.register(live, 'live');
    await expect(rt.ledger.payments.providerFor(live)).rejects.toMatchObject({ code: 'illegal_state' });
  });

  it('Stripe and Paddle at once: each scope collects through the one its settings name', async () => {
    rt = await createRuntime(parseEnv({ ...base, ...paddle, STRIPE_SECRET_KEY: 'sk_test_123', STRIPE_WEBHOOK_SECRET: 'whsec_123' }));
    const onStripe = scope('env-both', 'stripe');
    const onPaddle = scope('env-both', 'paddle');
    for (const s of [onStripe, onPaddle]) await rt.ledger.scopes.register(s, 'test');
    await rt.ledger.payments.updateSettings(onStripe, { provider: 'stripe' });
    await rt.ledger.payments.updateSettings(onPaddle, { provider: 'paddle' });
    expect((await rt.ledger.payments.providerFor(onStripe)).name).toBe('stripe');
    expect((await rt.ledger.payments.providerFor(onPaddle)).name).toBe('paddle');
    expect(rt.ledger.webhooks.has('stripe') && rt.ledger.webhooks.has('paddle')).toBe(true);
  });
});
