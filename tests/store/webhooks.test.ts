import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newInboxRecord, type WebhookEventRecord } from '../../server/ledger/payment/events';
import type { ProviderEvent } from '../../server/ledger/payment/provider';
import { AT } from '../support/builders';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * The webhook inbox part of the Store contract, for every store: an event stored once by
 * (provider, event id), pending until processed, claimed by one processor at a time,
 * completed with its outcome and scope, or failed and tried again later. The inbox is
 * deployment-wide (no scope), so every test uses event ids of its own.
 */
const later = (ms: number) => new Date(AT.getTime() + ms);
let n = 0;
const evtId = () => `evt_${process.pid}_${Date.now()}_${++n}`;

function record(provider = 'sandbox', id = evtId(), receivedAt = AT): WebhookEventRecord {
  const event: ProviderEvent = { id, type: 'payment.succeeded', providerType: 'payment_intent.succeeded', mode: 'test', providerPaymentId: 'sandbox_pay_1', metadata: { ledger_tenant: 't' } };
  return newInboxRecord(provider, event, 'payment_intent.succeeded', `{"id":"${id}"}`, receivedAt);
}

describe.each(storeFactories())('$name store: webhook inbox', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  const inbox = () => store().payments;

  it('stores an event once by (provider, event id); the same id at another provider is another event', async () => {
    const r = record();
    expect(await inbox().insertWebhookEvent(r)).toBe(true);
    expect(await inbox().insertWebhookEvent({ ...r, payload: 'a replay' })).toBe(false);
    expect(await inbox().insertWebhookEvent({ ...r, provider: 'stripe' })).toBe(true);
    expect(await inbox().getWebhookEvent('sandbox', r.eventId)).toEqual(r);
    expect(await inbox().getWebhookEvent('paddle', r.eventId)).toBeNull();
    for (const provider of ['sandbox', 'stripe']) {
      await inbox().claimWebhookEvent(provider, r.eventId, AT, later(1));
      await inbox().completeWebhookEvent(provider, r.eventId, { processedAt: AT, outcome: 'ignored', note: null, scope: null });
    }
  });

  it('pending until processed; one claim at a time, until its lease ends; completed with its outcome and scope', async () => {
    const r = record('sandbox', evtId(), new Date(Date.now() + 3_600_000)); // received "later" than other tests' rows
    await inbox().insertWebhookEvent(r);
    const pendingIds = async (now: Date) => (await inbox().listPendingWebhookEvents(now, 10_000)).map((e) => e.eventId);
    expect(await pendingIds(AT)).toContain(r.eventId);

    const claimed = await inbox().claimWebhookEvent('sandbox', r.eventId, AT, later(60_000));
    expect(claimed).toMatchObject({ attempts: 1, lockedUntil: later(60_000) });
    expect(await inbox().claimWebhookEvent('sandbox', r.eventId, later(1), later(60_001))).toBeNull();
    expect(await pendingIds(later(1))).not.toContain(r.eventId);

    // The holder died: once its lease ends, another processor takes it (attempt 2).
    expect(await pendingIds(later(60_000))).toContain(r.eventId);
    expect(await inbox().claimWebhookEvent('sandbox', r.eventId, later(60_000), later(120_000))).toMatchObject({ attempts: 2 });

    const s = uniqueScope();
    await inbox().completeWebhookEvent('sandbox', r.eventId, { processedAt: later(61_000), outcome: 'applied', note: 'paid', scope: s });
    expect(await inbox().getWebhookEvent('sandbox', r.eventId)).toMatchObject({
      processedAt: later(61_000),
      outcome: 'applied',
      note: 'paid',
      scope: s,
      attempts: 2,
      lockedUntil: null,
      lastError: null,
    });
    expect(await pendingIds(later(200_000))).not.toContain(r.eventId);
    expect(await inbox().claimWebhookEvent('sandbox', r.eventId, later(200_000), later(260_000))).toBeNull();
  });

  it('a failed try keeps it pending with the error, taken again once its retry time passed', async () => {
    const r = record();
    await inbox().insertWebhookEvent(r);
    await inbox().claimWebhookEvent('sandbox', r.eventId, AT, later(60_000));
    await inbox().failWebhookEvent('sandbox', r.eventId, 'database hiccup', later(30_000));
    expect(await inbox().getWebhookEvent('sandbox', r.eventId)).toMatchObject({ processedAt: null, lastError: 'database hiccup', attempts: 1, lockedUntil: later(30_000) });
    expect(await inbox().claimWebhookEvent('sandbox', r.eventId, later(29_999), later(90_000))).toBeNull();
    expect(await inbox().claimWebhookEvent('sandbox', r.eventId, later(30_000), later(90_000))).toMatchObject({ attempts: 2 });
    await inbox().completeWebhookEvent('sandbox', r.eventId, { processedAt: later(31_000), outcome: 'ignored', note: 'unknown object', scope: null });
    expect(await inbox().getWebhookEvent('sandbox', r.eventId)).toMatchObject({ outcome: 'ignored', scope: null, lastError: null });
  });

  it('pending events come oldest first, at most `limit`', async () => {
    const a = record('sandbox', evtId(), new Date('1999-01-01T00:00:02Z'));
    const b = record('sandbox', evtId(), new Date('1999-01-01T00:00:01Z'));
    await inbox().insertWebhookEvent(a);
    await inbox().insertWebhookEvent(b);
    const first = await inbox().listPendingWebhookEvents(AT, 2);
    expect(first.length).toBeLessThanOrEqual(2);
    const ids = (await inbox().listPendingWebhookEvents(AT, 10_000)).map((e) => e.eventId);
    expect(ids.indexOf(b.eventId)).toBeLessThan(ids.indexOf(a.eventId));
    for (let i = 1; i < first.length; i++) expect(first[i]!.receivedAt.getTime()).toBeGreaterThanOrEqual(first[i - 1]!.receivedAt.getTime());
    for (const r of [a, b]) {
      await inbox().claimWebhookEvent('sandbox', r.eventId, AT, later(1));
      await inbox().completeWebhookEvent('sandbox', r.eventId, { processedAt: AT, outcome: 'ignored', note: null, scope: null });
    }
  });
});
