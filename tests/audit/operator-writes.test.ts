import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '@/server/auth/api-keys';
import { createLedger, ManualClock, silentLogger, type Ledger, type Scope } from '@/server/ledger';
import { createCaller } from '@/server/trpc/root';
import { startReceiver, type Receiver } from '../support/webhook-receiver';
import { uniqueScope } from '../support/stores';
import { auditFactories, type AuditedStores } from './stores';

/**
 * The writes issue 10 left out of the trail: webhook endpoints (made, changed, secret
 * rotated, deleted, and disabled by the worker), test clocks (made, moved, deleted) and
 * API keys (made and revoked by the operator). Each is an event of the log and an audit
 * entry, committed with the write; secrets and key hashes appear in neither.
 */
const T0 = new Date('2025-03-01T09:00:00.000Z');
const ALLOW_LOCAL = { allowHttp: true, allowPrivate: true };

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());

describe.each(auditFactories())('writes outside the billing objects, audited on $name', (factory) => {
  let stores: AuditedStores;
  let ledger: Ledger;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    stores = await factory.open();
    ledger = await createLedger({ store: stores.store, audit: { store: stores.audit }, clock, logger: silentLogger, webhooksOut: { guard: ALLOW_LOCAL } });
  });
  afterAll(async () => {
    await ledger.shutdown();
    await stores.close();
  });

  const api = (s: Scope) => createCaller({ ledger, auth: { kind: 'api_key', scope: s, keyId: 'key_ops' }, ip: '203.0.113.5' });

  it('webhook endpoints: created, updated, secret rotated, deleted, each an event and an entry by the key; no secret in either', async () => {
    const s = uniqueScope();
    const { endpoint, secret } = await api(s).webhookEndpoints.create({ url: receiver.url('/audit-a'), eventTypes: ['invoice.paid'] });
    await api(s).webhookEndpoints.update({ id: endpoint.id, patch: { eventTypes: ['invoice.paid', 'invoice.finalized'], description: 'Finance' } });
    const rotated = await api(s).webhookEndpoints.rotateSecret({ id: endpoint.id });
    await api(s).webhookEndpoints.delete({ id: endpoint.id });

    const { items } = await api(s).audit.list({ entityId: endpoint.id });
    expect(items.map((e) => e.action)).toEqual([
      'webhook_endpoint.deleted',
      'webhook_endpoint.secret_rotated',
      'webhook_endpoint.updated',
      'webhook_endpoint.created',
    ]);
    expect(items.every((e) => e.actor.type === 'api_key' && e.actor.id === 'key_ops' && e.ip === '203.0.113.5')).toBe(true);
    const [, rotation, update] = items;
    expect(update!.changes).toEqual({
      description: { before: '', after: 'Finance' },
      eventTypes: { before: ['invoice.paid'], after: ['invoice.finalized', 'invoice.paid'] },
    });
    // The rotation shows when the old secret stops signing: 24 h after it.
    expect(rotation!.changes).toEqual({ previousSecretExpiresAt: { before: null, after: new Date(T0.getTime() + 86_400_000).toISOString() } });

    const events = (await api(s).events.list({ typePrefix: 'webhook_endpoint.' })).items;
    expect(events.map((e) => e.type)).toEqual(['webhook_endpoint.deleted', 'webhook_endpoint.secret_rotated', 'webhook_endpoint.updated', 'webhook_endpoint.created']);
    const everything = JSON.stringify([items, events]);
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(rotated.secret);
    expect(everything).not.toContain('whsec_');
  });

  it('an endpoint the worker disables (410 Gone): its event and entry are the system\'s, in the same transaction as the change', async () => {
    const s = uniqueScope();
    const hook = `/audit-gone-${Math.random().toString(36).slice(2, 8)}`;
    const { endpoint } = await ledger.webhooksOut.create(s, { url: receiver.url(hook), eventTypes: ['customer.created'] });
    receiver.next(hook, { status: 410 });
    await ledger.customers.create(s, { email: 'gone@example.com', name: 'Gone' });
    const report = await ledger.webhooksOut.runOnce();
    expect(report.failed).toBeGreaterThanOrEqual(1);
    expect(await ledger.webhooksOut.get(s, endpoint.id)).toMatchObject({ enabled: false, disabledReason: 'gone' });

    const { items } = await ledger.audit.list(s, { entityId: endpoint.id, action: 'webhook_endpoint.disabled' }, { limit: 10 });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ actor: { type: 'system', id: 'engine' }, changes: { enabled: { before: true, after: false }, disabledReason: { before: null, after: 'gone' } } });
    expect(items[0]!.eventId).not.toBeNull();
    const event = await ledger.events.get(s, items[0]!.eventId!);
    expect(event).toMatchObject({ type: 'webhook_endpoint.disabled', objectId: endpoint.id, previous: { enabled: true, disabledReason: null } });
  });

  it('test clocks: created, each step of an advance, deleted with its customers', async () => {
    const s = uniqueScope();
    await ledger.scopes.register(s, 'test');
    const tc = await api(s).testClocks.create({ at: T0, name: 'Rehearsal' });
    await ledger.customers.create(s, { email: 'rehearse@example.com', name: 'R', testClockId: tc.id });
    await api(s).testClocks.advance({ id: tc.id, to: new Date('2025-03-11T09:00:00.000Z') });
    const deleted = await api(s).testClocks.delete({ id: tc.id });
    expect(deleted.customersDeleted).toHaveLength(1);

    const { items } = await api(s).audit.list({ entityId: tc.id });
    expect(items.map((e) => e.action)).toEqual(['test_clock.deleted', 'test_clock.advanced', 'test_clock.created']);
    expect(items[1]!.changes.now).toEqual({ before: T0.toISOString(), after: '2025-03-11T09:00:00.000Z' });
    // A deletion lists the clock as it was, each field after null.
    expect(items[0]!.changes).toMatchObject({ name: { before: 'Rehearsal', after: null }, now: { before: '2025-03-11T09:00:00.000Z', after: null } });
    const event = await ledger.events.get(s, items[0]!.eventId!);
    expect(event).toMatchObject({ type: 'test_clock.deleted', data: { id: tc.id, customersDeleted: deleted.customersDeleted } });
    expect(items.every((e) => e.actor.id === 'key_ops')).toBe(true);
  });

  it.skipIf(factory.name === 'memory')('API keys made and revoked by the operator: entries with the prefix and mode, never the key or its hash', async () => {
    const s = uniqueScope();
    const key = await createApiKey(stores.db!, s, 'ci deploys', { mode: 'test' });
    expect(await revokeApiKey(stores.db!, s, key.id)).toBe(true);
    expect(await revokeApiKey(stores.db!, s, key.id)).toBe(false); // already revoked: no second entry

    const { items } = await ledger.audit.list(s, { entityId: key.id }, { limit: 10 });
    expect(items.map((e) => e.action)).toEqual(['api_key.revoked', 'api_key.created']);
    expect(items.every((e) => e.actor.type === 'system' && e.actor.id === 'operator')).toBe(true);
    expect(items[1]!.changes).toMatchObject({ name: { before: null, after: 'ci deploys' }, prefix: { before: null, after: key.prefix }, mode: { before: null, after: 'test' } });
    expect(Object.keys(items[0]!.changes)).toEqual(['revokedAt']);
    expect(JSON.stringify(items)).not.toContain(key.key);
  });
});
