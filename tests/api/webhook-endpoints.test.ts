import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, scope, silentLogger, type Ledger } from '@/server/ledger';
import { createCaller } from '@/server/trpc/root';
import { startReceiver, type Receiver } from '../support/webhook-receiver';
import { codeOf } from '../support/trpc';

/**
 * webhookEndpoints.* through the real router: the secret answered by create and
 * rotateSecret only, the key's scope only, inputs checked (400s), the SSRF guard's
 * refusals as 400s, attempts paged, replays.
 */
let ledger: Ledger;
let strict: Ledger;
let receiver: Receiver;
const acme = scope('acme', 'billing');
const globex = scope('globex', 'billing');
const api = (s = acme, l = () => ledger) => createCaller({ ledger: l(), auth: { kind: 'api_key', scope: s, keyId: 'key_acme' }, ip: null });

beforeAll(async () => {
  receiver = await startReceiver();
  ledger = await createLedger({ logger: silentLogger, webhooksOut: { guard: { allowHttp: true, allowPrivate: true } } });
  strict = await createLedger({ logger: silentLogger, webhooksOut: { guard: { allowHttp: false, allowPrivate: false } } });
});
afterAll(() => receiver.close());

describe('webhookEndpoints procedures', () => {
  it('create answers the secret once; list and get never; update, rotate, delete; another scope sees nothing', async () => {
    const created = await api().webhookEndpoints.create({ url: receiver.url('/api-a'), description: 'Orders', eventTypes: ['invoice.paid', 'customer.created'] });
    expect(created.secret).toMatch(/^whsec_/);
    expect(created.endpoint).toMatchObject({ id: expect.stringMatching(/^we_/), url: receiver.url('/api-a'), eventTypes: ['customer.created', 'invoice.paid'], enabled: true });
    const id = created.endpoint.id;
    expect(JSON.stringify(await api().webhookEndpoints.list())).not.toContain('whsec_');
    expect(JSON.stringify(await api().webhookEndpoints.get({ id }))).not.toContain('whsec_');
    expect(await api().webhookEndpoints.update({ id, patch: { eventTypes: null, enabled: false } })).toMatchObject({ eventTypes: null, enabled: false, disabledReason: 'manual' });
    const rotated = await api().webhookEndpoints.rotateSecret({ id });
    expect(rotated.secret).not.toBe(created.secret);
    expect(await codeOf(api(globex).webhookEndpoints.get({ id }))).toBe('NOT_FOUND');
    expect(await codeOf(api(globex).webhookEndpoints.delete({ id }))).toBe('NOT_FOUND');
    expect(await api(globex).webhookEndpoints.list()).toEqual([]);
    expect(await api().webhookEndpoints.delete({ id })).toEqual({ id, deleted: true });
    expect(await codeOf(api().webhookEndpoints.get({ id }))).toBe('NOT_FOUND');
  });

  it('bad input is a 400: not a URL, an unknown event type, an id of another kind', async () => {
    expect(await codeOf(api().webhookEndpoints.create({ url: 'not a url' }))).toBe('BAD_REQUEST');
    expect(await codeOf(api().webhookEndpoints.create({ url: 'ftp://example.com/x' }))).toBe('BAD_REQUEST');
    expect(await codeOf(api().webhookEndpoints.create({ url: 'https://example.com/x', eventTypes: ['invoice.exploded' as never] }))).toBe('BAD_REQUEST');
    expect(await codeOf(api().webhookEndpoints.get({ id: 'cst_01h455vb4pex5vsknk084sn02q' }))).toBe('BAD_REQUEST');
  });

  it('the SSRF guard (no LEDGER_WEBHOOKS_ALLOW_PRIVATE): http, loopback, private and link-local targets are 400s', async () => {
    const refused = ['http://example.com/hook', 'https://127.0.0.1/hook', 'https://10.1.2.3/hook', 'https://169.254.169.254/latest/meta-data', 'https://[::1]/hook', 'https://[fe80::1]/hook', 'https://[::ffff:127.0.0.1]/hook', 'https://localhost/hook', 'https://192.168.1.1/hook', 'https://user:pw@example.com/hook'];
    for (const url of refused) expect(await codeOf(api(acme, () => strict).webhookEndpoints.create({ url })), url).toBe('BAD_REQUEST');
    expect((await api(acme, () => strict).webhookEndpoints.create({ url: 'https://hooks.example.com/ledger' })).endpoint.url).toBe('https://hooks.example.com/ledger');
  });

  it('sendTest, attempts paged, replay and replayFailed', async () => {
    const { endpoint, secret } = await api().webhookEndpoints.create({ url: receiver.url('/api-b') });
    receiver.secrets('/api-b', secret);
    const test = await api().webhookEndpoints.sendTest({ id: endpoint.id });
    expect(test.attempt).toMatchObject({ status: 'succeeded', responseCode: 200 });
    expect(receiver.of('/api-b')[0]!.verifiedWith).toEqual([true]);
    await api().webhookEndpoints.sendTest({ id: endpoint.id });
    const page = await api().webhookEndpoints.attempts({ endpointId: endpoint.id, limit: 1 });
    expect(page.items).toHaveLength(1);
    const next = await api().webhookEndpoints.attempts({ endpointId: endpoint.id, limit: 1, cursor: page.nextCursor! });
    expect(next.items[0]!.deliveryId).toBe(test.delivery.id);
    expect(await api().webhookEndpoints.replay({ deliveryId: test.delivery.id })).toMatchObject({ id: test.delivery.id, status: 'pending' });
    expect(await codeOf(api(globex).webhookEndpoints.replay({ deliveryId: test.delivery.id }))).toBe('NOT_FOUND');
    expect(await api().webhookEndpoints.replayFailed({ endpointId: endpoint.id, since: new Date(0) })).toEqual({ replayed: 0 });
  });
});
