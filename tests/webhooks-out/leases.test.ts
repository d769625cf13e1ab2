import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLedger } from '../../server/ledger/ledger';
import { ManualClock, silentLogger } from '../../server/ledger/types';
import type { WebhookDelivery } from '../../server/ledger/webhooks-out/types';
import { T0 } from '../support/engine';
import { uniqueScope } from '../support/stores';
import { startReceiver, type Receiver } from '../support/webhook-receiver';
import { webhookStoreFactories, type WebhookStores } from '../support/webhook-stores';

/**
 * Leases on the messages a worker holds: the fan-out leases what it makes to its own
 * worker, which renews the lease while the message waits or is sent, so no other instance
 * sends it meanwhile; a lease that lapsed and was taken by another instance is not renewed.
 * A crash leaves the messages to others after one lease (crash.test.ts).
 */
const ALLOW_LOCAL = { allowHttp: true, allowPrivate: true };
const MIN = 60_000;

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());

describe.each(webhookStoreFactories())('outbound webhook leases on $name', (factory) => {
  let stores: WebhookStores;
  beforeAll(async () => {
    stores = await factory.open();
  });
  afterAll(() => stores.close());

  const message = (id: string, fields: Partial<WebhookDelivery>): WebhookDelivery => ({
    id,
    endpointId: 'we_lease',
    eventId: null,
    eventType: 'customer.created',
    payload: '{}',
    status: 'pending',
    attempts: 0,
    retryStep: 0,
    nextAttemptAt: T0,
    lockedUntil: null,
    lastAttemptAt: null,
    lastResponseCode: null,
    createdAt: T0,
    ...fields,
  });

  it('renewLeases extends a lease only while it is still pending under the lease the worker knows', async () => {
    const s = uniqueScope();
    const held = new Date(T0.getTime() + MIN);
    const theirs = new Date(T0.getTime() + 3 * MIN);
    const until = new Date(T0.getTime() + 2 * MIN);
    await stores.webhooksOut.insertDelivery(s, message('msg_held', { lockedUntil: held }));
    await stores.webhooksOut.insertDelivery(s, message('msg_taken', { lockedUntil: theirs }));
    await stores.webhooksOut.insertDelivery(s, message('msg_settled', { status: 'succeeded', nextAttemptAt: null, lockedUntil: held }));
    const renewed = await stores.webhooksOut.renewLeases(
      ['msg_held', 'msg_taken', 'msg_settled', 'msg_missing'].map((id) => ({ scope: s, id, lockedUntil: held })),
      until,
    );
    expect(renewed).toEqual([`${s.tenantId}|${s.appId}|msg_held`]);
    expect((await stores.webhooksOut.getDelivery(s, 'msg_held'))!.lockedUntil).toEqual(until);
    expect((await stores.webhooksOut.getDelivery(s, 'msg_taken'))!.lockedUntil).toEqual(theirs);
    expect((await stores.webhooksOut.getDelivery(s, 'msg_settled'))!.lockedUntil).toEqual(held);
  });

  it('two instances claiming due retries at once send each message once: claims skip what the other locked or leased', async () => {
    const clock = new ManualClock(T0);
    const options = { store: stores.webhooksOut, guard: ALLOW_LOCAL };
    const a = await createLedger({ store: stores.store, clock, logger: silentLogger, webhooksOut: options });
    const b = await createLedger({ store: stores.store, clock, logger: silentLogger, webhooksOut: options });
    try {
      const s = uniqueScope();
      const tag = Math.random().toString(36).slice(2, 8);
      const paths = [`/claims-a-${tag}`, `/claims-b-${tag}`];
      for (const path of paths) await a.webhooksOut.create(s, { url: receiver.url(path), eventTypes: ['customer.created'] });
      for (const path of paths) receiver.always(path, { status: 500 });
      for (let i = 0; i < 30; i++) await a.customers.create(s, { email: `c${i}@example.com`, name: `C${i}` });
      expect(await a.webhooksOut.runOnce()).toMatchObject({ made: 60, attempted: 60, failed: 60 });
      for (const path of paths) receiver.always(path, null);

      // 5 s later every message is due again, and both instances claim at once.
      clock.advance(5_000);
      const [ra, rb] = await Promise.all([a.webhooksOut.runOnce(), b.webhooksOut.runOnce()]);
      expect(ra.attempted + rb.attempted).toBe(60);
      for (const path of paths) {
        const ids = receiver.of(path).map((r) => r.headers['webhook-id']!);
        expect(ids).toHaveLength(60);
        // Each message twice: the failure, then one success (never a third send).
        expect(new Set(ids).size).toBe(30);
        expect([...new Set(ids)].every((id) => ids.filter((x) => x === id).length === 2)).toBe(true);
      }
    } finally {
      await b.shutdown();
      await a.shutdown();
    }
  });

  it('a message held while its endpoint stalls keeps its lease, so another instance sends nothing; then it is delivered once', async () => {
    const clock = new ManualClock(T0);
    // A short lease (renewed every 100 ms of real time) and an attempt that outlasts it.
    const options = { store: stores.webhooksOut, guard: ALLOW_LOCAL, leaseMs: 300, timeoutMs: 120_000 };
    const ledger = await createLedger({ store: stores.store, clock, logger: silentLogger, webhooksOut: options });
    const other = await createLedger({ store: stores.store, clock, logger: silentLogger, webhooksOut: options });
    try {
      const s = uniqueScope();
      const path = `/lease-${Math.random().toString(36).slice(2, 8)}`;
      const { endpoint } = await ledger.webhooksOut.create(s, { url: receiver.url(path), eventTypes: ['customer.created'] });
      receiver.always(path, { stall: true });
      await ledger.customers.create(s, { email: 'ada@example.com', name: 'Ada' });
      const pass = ledger.webhooksOut.runOnce();
      await vi.waitFor(() => expect(receiver.inFlight(path)).toBe(1), { timeout: 30_000 });
      const id = receiver.of(path)[0]!.headers['webhook-id']!;

      // Ten minutes later by the engine's clock, far beyond the first lease: renewed from now.
      clock.advance(10 * MIN);
      await vi.waitFor(async () => expect((await ledger.webhooksOut.delivery(s, id)).lockedUntil!.getTime()).toBeGreaterThan(clock.now().getTime()), { timeout: 30_000 });
      expect(await other.webhooksOut.runOnce()).toMatchObject({ dispatched: 0, attempted: 0 });

      receiver.always(path, null);
      receiver.release();
      expect(await pass).toMatchObject({ attempted: 1, succeeded: 1 });
      expect(receiver.of(path).map((r) => r.headers['webhook-id'])).toEqual([id]);
      expect(await ledger.webhooksOut.delivery(s, id)).toMatchObject({ status: 'succeeded', attempts: 1, lockedUntil: null });
      expect((await ledger.webhooksOut.attempts(s, endpoint.id)).items).toHaveLength(1);
    } finally {
      await other.shutdown();
      await ledger.shutdown();
    }
  });
});
