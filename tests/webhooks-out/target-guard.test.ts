import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger } from '../../server/ledger/ledger';
import { createMemoryStore } from '../../server/ledger/store/memory';
import { createMemoryWebhookOutStore } from '../../server/ledger/store/memory-webhook-endpoints';
import { silentLogger } from '../../server/ledger/types';
import { checkEndpointUrl, isPrivateAddress, resolveTarget, targetGuardFromEnv } from '../../server/ledger/webhooks-out/target-guard';
import { uniqueScope } from '../support/stores';
import { startReceiver, type Receiver } from '../support/webhook-receiver';

/**
 * The SSRF guard: what a tenant's endpoint may not reach unless
 * LEDGER_WEBHOOKS_ALLOW_PRIVATE=1, checked when the endpoint is saved and again, after a
 * DNS lookup of every address, at each delivery.
 */
const STRICT = { allowHttp: false, allowPrivate: false };

describe('private addresses', () => {
  it.each([
    '127.0.0.1', '127.255.0.9', '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.1', '192.168.0.10', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
    '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:7f00:1', '64:ff9b::a00:1',
  ])('%s is refused', (ip) => expect(isPrivateAddress(ip)).toBe(true));

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:8.8.8.8'])('%s is public', (ip) => expect(isPrivateAddress(ip)).toBe(false));
});

describe('endpoint URLs', () => {
  it('https only, no credentials, no literal private address, no localhost', () => {
    for (const url of ['http://example.com/', 'https://127.0.0.1/', 'https://10.0.0.8/x', 'https://169.254.169.254/', 'https://[::1]:8443/', 'https://localhost/', 'https://api.localhost/', 'https://a:b@example.com/', 'file:///etc/passwd', 'gopher://x']) {
      expect(() => checkEndpointUrl(url, STRICT), url).toThrow(/refused|not a URL/);
    }
    expect(checkEndpointUrl('https://hooks.example.com/ledger?x=1', STRICT).hostname).toBe('hooks.example.com');
  });

  it('LEDGER_WEBHOOKS_ALLOW_PRIVATE=1 allows private targets and http; NODE_ENV=production alone allows neither', () => {
    expect(targetGuardFromEnv({ LEDGER_WEBHOOKS_ALLOW_PRIVATE: '1', NODE_ENV: 'production' })).toEqual({ allowHttp: true, allowPrivate: true });
    expect(targetGuardFromEnv({ NODE_ENV: 'production' })).toEqual({ allowHttp: false, allowPrivate: false });
    expect(targetGuardFromEnv({ NODE_ENV: 'development' })).toEqual({ allowHttp: true, allowPrivate: false });
    expect(() => checkEndpointUrl('http://127.0.0.1:3000/hook', targetGuardFromEnv({ LEDGER_WEBHOOKS_ALLOW_PRIVATE: '1' }))).not.toThrow();
  });

  it('at delivery, a host name is resolved and each of its addresses checked', async () => {
    // `localhost` is refused by name; a name of the machine resolving to loopback by its address.
    expect(await resolveTarget('https://localhost/', STRICT)).toMatchObject({ ok: false });
    expect(await resolveTarget('https://no-such-host.invalid/', STRICT)).toMatchObject({ ok: false, error: expect.stringContaining('could not be resolved') });
    expect(await resolveTarget('http://localhost:1/', { allowHttp: true, allowPrivate: true })).toMatchObject({ ok: true, address: expect.stringMatching(/^(127\.0\.0\.1|::1)$/) });
  });
});

describe('a delivery to a private target is refused without the flag', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  it('an endpoint saved where private targets were allowed is refused by a worker that does not allow them: nothing reaches it', async () => {
    const store = createMemoryStore();
    const webhooks = createMemoryWebhookOutStore(store.events);
    const open = await createLedger({ store, logger: silentLogger, webhooksOut: { store: webhooks, guard: { allowHttp: true, allowPrivate: true } } });
    const closed = await createLedger({ store, logger: silentLogger, webhooksOut: { store: webhooks, guard: { allowHttp: true, allowPrivate: false } } });
    const s = uniqueScope();
    const { endpoint } = await open.webhooksOut.create(s, { url: receiver.url('/private') });
    await open.customers.create(s, { email: 'a@example.com', name: 'A' });
    await closed.webhooksOut.runOnce();
    expect(receiver.of('/private')).toEqual([]);
    const [attempt] = (await closed.webhooksOut.attempts(s, endpoint.id)).items;
    expect(attempt).toMatchObject({ status: 'failed', responseCode: null, error: expect.stringContaining('loopback, private and link-local') });
  });
});
