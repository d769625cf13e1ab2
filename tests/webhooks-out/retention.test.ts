import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger } from '../../server/ledger/ledger';
import { ManualClock, silentLogger } from '../../server/ledger/types';
import { DAY, T0 } from '../support/engine';
import { uniqueScope } from '../support/stores';
import { startReceiver, type Receiver } from '../support/webhook-receiver';
import { webhookStoreFactories, type WebhookStores } from '../support/webhook-stores';

/**
 * Retention of outbound messages: a settled message (delivered, or failed for good) and
 * its attempts are deleted once older than the retention; a pending one is kept however
 * old, so a retry is never lost to the purge.
 */
const ALLOW_LOCAL = { allowHttp: true, allowPrivate: true };

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());

describe.each(webhookStoreFactories())('outbound webhook retention on $name', (factory) => {
  let stores: WebhookStores;
  beforeAll(async () => {
    stores = await factory.open();
  });
  afterAll(() => stores.close());

  it('after 30 days the delivered and the abandoned messages go with their attempts; the one still retrying stays', async () => {
    const clock = new ManualClock(T0);
    const ledger = await createLedger({ store: stores.store, clock, logger: silentLogger, webhooksOut: { store: stores.webhooksOut, guard: ALLOW_LOCAL, retentionDays: 30 } });
    try {
      const s = uniqueScope();
      const tag = Math.random().toString(36).slice(2, 8);
      const paths = { ok: `/keep-ok-${tag}`, gone: `/keep-gone-${tag}`, failing: `/keep-failing-${tag}` };
      receiver.next(paths.gone, { status: 410 });
      receiver.always(paths.failing, { status: 503 });
      const endpoints = Object.fromEntries(
        await Promise.all(
          Object.entries(paths).map(async ([name, path]) => [name, (await ledger.webhooksOut.create(s, { url: receiver.url(path), eventTypes: ['customer.created'] })).endpoint.id] as const),
        ),
      ) as Record<keyof typeof paths, string>;
      await ledger.customers.create(s, { email: 'kept@example.com', name: 'Kept' });
      expect(await ledger.webhooksOut.runOnce()).toMatchObject({ attempted: 3, succeeded: 1, failed: 2 });

      const messageOf = async (endpointId: string) => {
        const [attempt] = (await ledger.webhooksOut.attempts(s, endpointId)).items;
        return ledger.webhooksOut.delivery(s, attempt!.deliveryId);
      };
      const ok = await messageOf(endpoints.ok);
      const gone = await messageOf(endpoints.gone);
      const failing = await messageOf(endpoints.failing);
      expect([ok.status, gone.status, failing.status]).toEqual(['succeeded', 'failed', 'pending']);

      // Within the retention nothing goes.
      clock.set(new Date(T0.getTime() + 29 * DAY));
      expect(await ledger.webhooksOut.purgeExpired()).toBe(0);

      clock.set(new Date(T0.getTime() + 31 * DAY));
      expect(await ledger.webhooksOut.purgeExpired()).toBe(2);
      await expect(ledger.webhooksOut.delivery(s, ok.id)).rejects.toMatchObject({ code: 'not_found' });
      await expect(ledger.webhooksOut.delivery(s, gone.id)).rejects.toMatchObject({ code: 'not_found' });
      expect((await ledger.webhooksOut.attempts(s, endpoints.ok)).items).toEqual([]);
      expect((await ledger.webhooksOut.attempts(s, endpoints.gone)).items).toEqual([]);
      // Still retrying (its next attempt is due): kept, with its attempt.
      expect(await ledger.webhooksOut.delivery(s, failing.id)).toMatchObject({ status: 'pending', attempts: 1 });
      expect((await ledger.webhooksOut.attempts(s, endpoints.failing)).items).toHaveLength(1);
      expect(await ledger.webhooksOut.purgeExpired()).toBe(0);
    } finally {
      await ledger.shutdown();
    }
  });
});
