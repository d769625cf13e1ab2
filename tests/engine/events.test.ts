import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withRequest } from '../../server/ledger/events/request-context';
import type { EventType } from '../../server/ledger/events/types';
import { createLedger } from '../../server/ledger/ledger';
import { ManualClock, silentLogger, type Scope } from '../../server/ledger/types';
import { DAY, T0 } from '../support/engine';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * The event log as the services write it: each change a hook names leaves one event,
 * named like Stripe's, with the object after the change and the fields it had before,
 * and the request that made it. Written in the change's transaction (tests/store/events).
 */
const VISA = '4242424242424242';
const DECLINED = '4000000000000002';

describe.each(storeFactories())('events written by the engine on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function setup() {
    const ledger = await createLedger({ store: store(), clock: new ManualClock(T0), logger: silentLogger });
    const scope = uniqueScope();
    await ledger.scopes.register(scope, 'test');
    const types = async (s: Scope = scope) => (await ledger.events.list(s, {}, { limit: 100 })).items.map((e) => e.type).reverse();
    return { ledger, scope, types };
  }

  it('customers: created, then updated with the fields as they were; the request says who', async () => {
    const { ledger, scope, types } = await setup();
    const c = await withRequest({ actor: { type: 'api_key', id: 'key_abc' }, requestId: 'req-1', ip: '198.51.100.7' }, () =>
      ledger.customers.create(scope, { email: 'ada@example.com', name: 'Ada' }),
    );
    await ledger.customers.update(scope, c.id, { name: 'Ada Lovelace', taxId: 'GB123' });
    expect(await types()).toEqual(['customer.created', 'customer.updated']);
    const [updated, created] = (await ledger.events.list(scope, { objectId: c.id }, { limit: 10 })).items;
    expect(created).toMatchObject({ customerId: c.id, data: { id: c.id, name: 'Ada', createdAt: T0.toISOString() }, previous: null, request: { actor: { type: 'api_key', id: 'key_abc' }, requestId: 'req-1', ip: '198.51.100.7' } });
    expect(updated).toMatchObject({ data: { name: 'Ada Lovelace', taxId: 'GB123' }, previous: { name: 'Ada', taxId: null }, request: null });
    expect(await ledger.events.get(scope, created!.id)).toEqual(created);
    // Another scope sees none of it.
    expect(await types(uniqueScope())).toEqual([]);
  });

  it('a refused change writes no event', async () => {
    const { ledger, scope, types } = await setup();
    const c = await ledger.customers.create(scope, { email: 'ada@example.com', name: 'Ada', externalId: 'ext-1' });
    await expect(ledger.customers.create(scope, { email: 'b@example.com', name: 'B', externalId: 'ext-1' })).rejects.toMatchObject({ code: 'conflict' });
    await expect(ledger.customers.update(scope, c.id, { email: 'not an email' })).rejects.toMatchObject({ code: 'invalid' });
    expect(await types()).toEqual(['customer.created']);
  });

  it('plans: created, updated (a new version: previous names what changed), archived', async () => {
    const { ledger, scope, types } = await setup();
    const v1 = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const v2 = await ledger.plans.update(scope, v1.id, { basePrice: 5900 });
    await ledger.plans.archive(scope, v2.id);
    expect(await types()).toEqual(['plan.created', 'plan.updated', 'plan.archived']);
    const [archived, updated] = (await ledger.events.list(scope, {}, { limit: 10 })).items;
    expect(updated).toMatchObject({ objectId: v2.id, customerId: null, data: { basePrice: 5900, version: 2 }, previous: { id: v1.id, basePrice: 4900 } });
    expect(archived).toMatchObject({ data: { status: 'archived' }, previous: { status: 'active' } });
  });

  it('subscriptions and payments: created, paid, renewed, a declined renewal, canceled; the outbox never shows', async () => {
    const { ledger, scope, types } = await setup();
    const plan = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const clock = await ledger.testClocks.create(scope, { at: T0 });
    const c = await ledger.customers.create(scope, { email: 'ada@example.com', name: 'Ada', testClockId: clock.id });
    await ledger.payments.sandbox.attachCard(scope, c.id, { number: VISA, expMonth: 12, expYear: 2030 });
    const sub = await ledger.subscriptions.create(scope, { customerId: c.id, planId: plan.id });
    const subEvents = async () => (await ledger.events.list(scope, { objectId: sub.id }, { limit: 50 })).items.reverse();
    expect((await subEvents()).map((e) => e.type)).toEqual(['subscription.created']);
    expect((await subEvents())[0]!.data).not.toHaveProperty('outbox');
    expect(await types()).toContain('payment.succeeded');
    // The first invoice: created, finalized, then paid by the card, each once, in that order.
    const [first] = (await ledger.invoices.listByCustomer(scope, c.id)).items;
    const invoiceEvents = async (id: string) => (await ledger.events.list(scope, { objectId: id }, { limit: 50 })).items.reverse();
    expect((await invoiceEvents(first!.id)).map((e) => e.type)).toEqual(['invoice.created', 'invoice.finalized', 'invoice.paid']);
    const [, finalized, paid] = await invoiceEvents(first!.id);
    expect(finalized).toMatchObject({ customerId: c.id, data: { number: first!.number, status: 'open', total: 4900 }, previous: { status: 'draft', number: null } });
    expect(paid).toMatchObject({ data: { status: 'paid', amountDue: 0 }, previous: { status: 'open', amountDue: 4900 } });

    // The card now declines: the renewal's charge fails.
    const declining = await ledger.payments.sandbox.attachCard(scope, c.id, { number: DECLINED, expMonth: 12, expYear: 2030 });
    await ledger.paymentMethods.setDefault(scope, declining.id);
    await ledger.billing.advanceClock(scope, { id: clock.id, to: new Date(T0.getTime() + 32 * DAY) });
    const renewed = (await subEvents()).find((e) => e.type === 'subscription.renewed')!;
    expect(renewed.previous).toMatchObject({ currentPeriodStart: T0.toISOString() });
    const all = await types();
    expect(all.filter((t) => t === 'payment.failed').length).toBeGreaterThanOrEqual(1);
    expect(all).toContain('invoice.payment_failed');
    const [failed] = (await ledger.events.list(scope, { type: 'invoice.payment_failed' }, { limit: 1 })).items;
    expect(failed).toMatchObject({ customerId: c.id, data: { amountDue: 4900, lastPayment: { failureCode: 'card_declined' } } });
    // The renewal invoice: past due once, at its first failure.
    expect((await ledger.events.list(scope, { type: 'invoice.past_due' }, { limit: 10 })).items.map((e) => e.objectId)).toEqual([failed!.objectId]);
    // Dunning made it past_due: an update whose previous status was active.
    expect((await subEvents()).some((e) => e.type === 'subscription.updated' && e.data.status === 'past_due' && e.previous?.status === 'active')).toBe(true);

    await ledger.invoices.void(scope, failed!.objectId, { reason: 'goodwill' });
    expect((await invoiceEvents(failed!.objectId)).at(-1)).toMatchObject({ type: 'invoice.voided', data: { status: 'void', voidReason: 'goodwill' }, previous: { status: 'open' } });
    await ledger.subscriptions.cancel(scope, sub.id, { at: 'now' });
    const last = (await subEvents()).at(-1)!;
    expect(last).toMatchObject({ type: 'subscription.canceled' satisfies EventType, data: { status: 'canceled' } });
  });

  it('retention: purgeExpired drops what is older than retentionDays (31 days > 30), keeps the rest', async () => {
    // In 1970: nothing else on a shared database is that old but other purge tests' rows (1971).
    const clock = new ManualClock(new Date(Date.UTC(1970, 0, 5)));
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger, events: { retentionDays: 30 } });
    const scope = uniqueScope();
    const old = await ledger.customers.create(scope, { email: 'old@example.com', name: 'Old' });
    clock.set(new Date(Date.UTC(1970, 0, 6)));
    const young = await ledger.customers.create(scope, { email: 'young@example.com', name: 'Young' });
    clock.set(new Date(Date.UTC(1970, 0, 5) + 31 * DAY));
    // (Another file's purge, on a shared database, may have taken it first: the state is what counts.)
    await ledger.events.purgeExpired(1);
    expect((await ledger.events.list(scope, {}, { limit: 10 })).items.map((e) => e.objectId)).toEqual([young.id]);
    expect(old.id).not.toBe(young.id);
  });
});
