import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql } from 'drizzle-orm';
import { withRequestId } from '@/server/http/request-id';
import { startBillingSchedule } from '@/server/billing-schedule';
import { createLedger, ManualClock, newId, silentLogger, type AuditStore, type CustomerId, type Ledger, type Scope, type WebhookDelivery } from '@/server/ledger';
import { createCaller } from '@/server/trpc/root';
import { codeOf, portalContext } from '../support/trpc';
import { uniqueScope } from '../support/stores';
import { auditFactories, type AuditedStores } from './stores';

/**
 * The audit trail on every back end: each write through the API, the portal, a provider
 * webhook or the billing schedule leaves one entry per entity it changed, with the actor,
 * the changed fields before and after, the request id, the IP and the time, committed in
 * the change's own transaction. audit.list filters and pages within the key's scope; on
 * PostgreSQL and PGlite a trigger refuses UPDATE, DELETE and TRUNCATE, except the
 * retention purge's delete of entries older than the retention.
 */
const T0 = new Date('2025-03-01T09:00:00.000Z');
const DAY = 86_400_000;
const VISA = '4242 4242 4242 4242';
const REQUIRES_ACTION = '4000 0025 0000 3155';

/** The database's own message of a failed query (drizzle wraps it as the cause). */
const databaseError = async (p: Promise<unknown>): Promise<string> => {
  const e = await p.then(
    () => null,
    (err: unknown) => err as Error & { cause?: Error },
  );
  if (!e) throw new Error('the statement was not refused');
  return `${e.message} ${e.cause?.message ?? ''}`;
};

describe.each(auditFactories())('audit trail on $name', (factory) => {
  let stores: AuditedStores;
  let ledger: Ledger;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    stores = await factory.open();
    ledger = await createLedger({ store: stores.store, audit: { store: stores.audit, retentionDays: 30 }, clock, logger: silentLogger });
  });
  afterAll(async () => {
    await ledger.shutdown();
    await stores.close();
  });

  const api = (s: Scope, ip: string | null = null, keyId = 'key_acme') => createCaller({ ledger, auth: { kind: 'api_key', scope: s, keyId }, ip });

  it('a change through the API: actor, action, entity, the changed fields before and after, request id, IP and time', async () => {
    const s = uniqueScope();
    const c = await withRequestId('req-7', () => api(s, '203.0.113.9').customers.create({ email: 'ada@example.com', name: 'Ada' }));
    await withRequestId('req-8', () => api(s, '198.51.100.4').customers.update({ id: c.id, patch: { name: 'Ada Lovelace', taxId: 'GB123' } }));

    const { items, nextCursor } = await api(s).audit.list({ entityId: c.id });
    expect(nextCursor).toBeNull();
    expect(items.map((e) => e.action)).toEqual(['customer.updated', 'customer.created']);
    const [updated, created] = items;
    expect(updated).toMatchObject({
      actor: { type: 'api_key', id: 'key_acme' },
      entityType: 'customer',
      entityId: c.id,
      requestId: 'req-8',
      ip: '198.51.100.4',
      createdAt: T0,
    });
    // Only what changed (updatedAt is noise), each with its value before and after.
    expect(updated!.changes).toEqual({ name: { before: 'Ada', after: 'Ada Lovelace' }, taxId: { before: null, after: 'GB123' } });
    // A creation: every field, before null.
    expect(created).toMatchObject({ requestId: 'req-7', ip: '203.0.113.9', changes: { email: { before: null, after: 'ada@example.com' }, name: { before: null, after: 'Ada' } } });
    // Made from the event the change recorded, in the same transaction.
    const [event] = (await ledger.events.list(s, { type: 'customer.updated', objectId: c.id }, { limit: 1 })).items;
    expect(updated!.eventId).toBe(event!.id);
  });

  it('in the change\'s transaction: a change that fails after its write leaves no entry; an entry that cannot be written undoes the change', async () => {
    const s = uniqueScope();
    const before = (await api(s).audit.list()).items.length;
    const c = { id: newId('customer'), externalId: 'x-1', email: 'x@example.com', name: 'X', country: null, region: null, address: null, taxStatus: 'taxable' as const, taxId: null, metadata: {}, testClockId: null, collectionMethod: null, daysUntilDue: null, currency: null, timeZone: null, createdAt: T0, updatedAt: T0 };
    await expect(
      ledger.events.atomic(s, async (record) => {
        await stores.store.customers.insert(s, c);
        record({ type: 'customer.created', object: c });
        throw new Error('failed after the write');
      }),
    ).rejects.toThrow('failed after the write');
    expect((await api(s).audit.list()).items).toHaveLength(before);
    if (factory.name !== 'memory') expect(await stores.store.customers.get(s, c.id)).toBeNull();

    // An audit store that refuses: the change it would record is refused with it.
    const refusing: AuditStore = { ...stores.audit, append: async () => Promise.reject(new Error('audit_log unavailable')) };
    const strict = await createLedger({ store: stores.store, audit: { store: refusing }, clock, logger: silentLogger });
    try {
      await expect(strict.customers.create(s, { email: 'gone@example.com', name: 'Gone', externalId: 'gone-1' })).rejects.toThrow('audit_log unavailable');
      if (factory.name !== 'memory') {
        // Rolled back with the entry (the memory store applies writes as they come).
        expect(await ledger.customers.list(s, { limit: 10 })).toMatchObject({ items: [] });
        expect((await ledger.events.list(s, {}, { limit: 10 })).items).toEqual([]);
      }
    } finally {
      await strict.shutdown();
    }
  });

  it('a portal user\'s change names the user', async () => {
    const s = uniqueScope();
    const c = await api(s).customers.create({ email: 'q@example.com', name: 'Q' });
    const portal = createCaller({ ledger, auth: { kind: 'portal', scope: s, portal: portalContext(s, c.id as CustomerId, 'billing') }, ip: '192.0.2.77' });
    await portal.accountBilling.updateDetails({ name: 'Q Ltd' });
    const [entry] = (await api(s).audit.list({ entityId: c.id, action: 'customer.updated' })).items;
    expect(entry).toMatchObject({ actor: { type: 'portal_user', id: `usr_${c.id}`, email: `${c.id}@example.com` }, ip: '192.0.2.77', changes: { name: { before: 'Q', after: 'Q Ltd' } } });
  });

  /** A test scope's customer with `card` and an open invoice of 49.00 (sent, so nothing is charged at once). */
  async function openInvoice(card: string) {
    const s = uniqueScope();
    await ledger.scopes.register(s, 'test');
    const plan = await ledger.plans.create(s, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const customer = await ledger.customers.create(s, { email: 'ada@example.com', name: 'Ada', collectionMethod: 'send_invoice' });
    const method = await ledger.payments.sandbox.attachCard(s, customer.id, { number: card, expMonth: 12, expYear: 2030 });
    const sub = await ledger.subscriptions.create(s, { customerId: customer.id, planId: plan.id });
    const [invoice] = (await ledger.invoices.listByCustomer(s, customer.id)).items;
    return { s, customer, method, sub, invoice: invoice! };
  }

  it('a provider webhook\'s change names the provider', async () => {
    const { s, invoice } = await openInvoice(REQUIRES_ACTION);
    const { payment } = await ledger.collectPayment(s, invoice.id);
    expect(payment!.status).toBe('requires_action');
    const d: WebhookDelivery = await ledger.payments.sandbox.confirm(s, payment!.id);
    await ledger.webhooks.receive('sandbox', d.body, d.headers);
    await ledger.webhooks.whenIdle();

    const [succeeded] = (await api(s).audit.list({ entityId: payment!.id, action: 'payment.succeeded' })).items;
    expect(succeeded).toMatchObject({ actor: { type: 'provider', id: 'sandbox' }, entityType: 'payment', changes: { status: { before: 'requires_action', after: 'succeeded' } } });
    const [paid] = (await api(s).audit.list({ entityId: invoice.id, action: 'invoice.paid' })).items;
    expect(paid).toMatchObject({ actor: { type: 'provider', id: 'sandbox' }, changes: { status: { before: 'open', after: 'paid' } } });
    // The provider's entries are listed by their actor.
    expect((await api(s).audit.list({ actorType: 'provider', actorId: 'sandbox' })).items.map((e) => e.action).sort()).toEqual(['invoice.paid', 'payment.succeeded']);
  });

  it('payment methods, payment settings, refunds: writes without an event before have entries now', async () => {
    const { s, customer, method, invoice } = await openInvoice(VISA);
    const other = await ledger.payments.sandbox.attachCard(s, customer.id, { number: '5555 5555 5555 4444', expMonth: 1, expYear: 2031 });
    // The one that is not the default becomes it; the other is detached.
    const [made, dropped] = (await ledger.paymentMethods.list(s, customer.id)).sort((a, b) => Number(a.isDefault) - Number(b.isDefault));
    await ledger.paymentMethods.setDefault(s, made!.id);
    await ledger.paymentMethods.detach(s, dropped!.id);
    await ledger.payments.updateSettings(s, { daysUntilDue: 14 });
    await ledger.collectPayment(s, invoice.id);
    await ledger.refunds.creditNote(s, invoice.id, { amount: 1000, reason: 'billing_error', refund: true });

    const actions = (await api(s).audit.list({ limit: 100 })).items.map((e) => e.action);
    for (const a of ['payment_method.attached', 'payment_method.updated', 'payment_method.detached', 'payment_settings.updated', 'credit_note.created', 'refund.created', 'refund.updated']) expect(actions).toContain(a);
    const [note] = (await api(s).audit.list({ action: 'credit_note.created' })).items;
    expect(note!.changes).toMatchObject({ invoiceId: { before: null, after: invoice.id }, amount: { before: null, after: 1000 }, reason: { before: null, after: 'billing_error' } });
    const [attached] = (await api(s).audit.list({ entityId: other.id, action: 'payment_method.attached' })).items;
    expect(attached!.changes).toMatchObject({ last4: { before: null, after: '4444' } });
    const [defaulted] = (await api(s).audit.list({ entityId: made!.id, action: 'payment_method.updated' })).items;
    expect(defaulted!.changes).toEqual({ isDefault: { before: false, after: true } });
    expect([method.id, other.id]).toContain(made!.id);
    const [detached] = (await api(s).audit.list({ entityId: dropped!.id, action: 'payment_method.detached' })).items;
    expect(detached!.changes).toMatchObject({ detachedAt: { before: null, after: T0.toISOString() } });
    const [settings] = (await api(s).audit.list({ entityType: 'payment_settings' })).items;
    expect(settings).toMatchObject({ entityId: `${s.tenantId}/${s.appId}`, changes: { daysUntilDue: { after: 14 } } });
    const [refund] = (await api(s).audit.list({ action: 'refund.updated' })).items;
    expect(refund!.changes).toMatchObject({ status: { before: 'pending', after: 'succeeded' } });
    // No request around these engine calls: the system's.
    expect(refund!.actor).toEqual({ type: 'system', id: 'engine' });
  });

  it('audit.list filters by entity, actor, action and time, pages newest first, and shows another scope nothing', async () => {
    const s = uniqueScope();
    const t1 = clock.now();
    const a = await api(s).customers.create({ email: 'a@example.com', name: 'A' });
    const b = await api(s).customers.create({ email: 'b@example.com', name: 'B' });
    clock.advance(60_000);
    const t2 = clock.now();
    const c = await api(s).customers.create({ email: 'c@example.com', name: 'C' });
    await api(s, null, 'key_ops').customers.update({ id: a.id, patch: { name: 'A2' } });

    const all = await api(s).audit.list();
    expect(all.items.map((e) => [e.action, e.entityId])).toEqual([
      ['customer.updated', a.id],
      ['customer.created', c.id],
      ['customer.created', b.id],
      ['customer.created', a.id],
    ]);
    expect((await api(s).audit.list({ actorType: 'api_key', actorId: 'key_ops' })).items.map((e) => e.entityId)).toEqual([a.id]);
    expect((await api(s).audit.list({ action: 'customer.created' })).items).toHaveLength(3);
    expect((await api(s).audit.list({ entityType: 'customer', entityId: b.id })).items).toHaveLength(1);
    expect((await api(s).audit.list({ entityType: 'invoice' })).items).toEqual([]);
    expect((await api(s).audit.list({ from: t1, to: t2 })).items.map((e) => e.entityId)).toEqual([b.id, a.id]);
    expect((await api(s).audit.list({ from: t2 })).items).toHaveLength(2);

    const first = await api(s).audit.list({ limit: 3 });
    expect(first.items.map((e) => e.id)).toEqual(all.items.slice(0, 3).map((e) => e.id));
    const second = await api(s).audit.list({ limit: 3, cursor: first.nextCursor! });
    expect(second).toEqual({ items: [all.items[3]], nextCursor: null });

    expect((await api(uniqueScope()).audit.list()).items).toEqual([]);
    expect((await api({ tenantId: s.tenantId, appId: 'another-app' } as Scope).audit.list({ entityId: a.id })).items).toEqual([]);
    expect(await codeOf(api(s).audit.list({ cursor: 'evt_01h455vb4pex5vsknk084sn02q' as never }))).toBe('BAD_REQUEST');
    expect(await codeOf(api(s).audit.list({ actorType: 'robot' as never }))).toBe('BAD_REQUEST');
    const portal = createCaller({ ledger, auth: { kind: 'portal', scope: s, portal: portalContext(s, a.id as CustomerId) } });
    expect(await codeOf(portal.audit.list())).toBe('UNAUTHORIZED');
  });

  it('retention: the purge deletes only entries older than the retention (30 days here)', async () => {
    const s = uniqueScope();
    const c = await api(s).customers.create({ email: 'old@example.com', name: 'Old' });
    clock.advance(30 * DAY - 1000);
    await api(s).customers.update({ id: c.id, patch: { name: 'Recent' } });
    clock.advance(2000); // the creation is 30 days and 1 s old; the update 1 s
    expect(await ledger.audit.purgeExpired()).toBeGreaterThanOrEqual(1);
    expect((await api(s).audit.list()).items.map((e) => e.action)).toEqual(['customer.updated']);
    expect(await ledger.audit.purgeExpired()).toBe(0);
  });

  it.runIf(factory.name !== 'postgres')('the billing schedule\'s changes name the system', async () => {
    const s = uniqueScope();
    const plan = await ledger.plans.create(s, { key: 'basic', name: 'Basic', currency: 'USD', interval: { unit: 'month' }, basePrice: 1000 });
    const customer = await ledger.customers.create(s, { email: 'r@example.com', name: 'R', collectionMethod: 'send_invoice' });
    const sub = await ledger.subscriptions.create(s, { customerId: customer.id, planId: plan.id });
    clock.advance(32 * DAY);
    const schedule = startBillingSchedule({ ledger }, 5, silentLogger);
    try {
      await vi.waitFor(async () => expect((await api(s).audit.list({ entityId: sub.id, action: 'subscription.renewed' })).items).toHaveLength(1), { timeout: 30_000, interval: 50 });
    } finally {
      await schedule.stop();
    }
    const [renewed] = (await api(s).audit.list({ entityId: sub.id, action: 'subscription.renewed' })).items;
    expect(renewed).toMatchObject({ actor: { type: 'system', id: 'billing_schedule' }, requestId: null, ip: null, changes: { currentPeriodStart: { before: sub.currentPeriodStart.toISOString() } } });
    expect((await api(s).audit.list({ actorType: 'system', actorId: 'billing_schedule', action: 'invoice.created' })).items.length).toBeGreaterThanOrEqual(1);
  });

  it.runIf(factory.name !== 'memory')('the database refuses UPDATE, DELETE and TRUNCATE of audit_log; the purge\'s cutoff lets only older rows go', async () => {
    const db = stores.db!;
    const s = uniqueScope();
    const c = await api(s).customers.create({ email: 'raw@example.com', name: 'Raw' });
    const where = sql`tenant_id = ${s.tenantId} and app_id = ${s.appId}`;
    expect(await databaseError(db.execute(sql`update audit_log set action = 'customer.deleted' where ${where}`))).toMatch(/append-only: UPDATE refused/);
    expect(await databaseError(db.execute(sql`delete from audit_log where ${where}`))).toMatch(/append-only: DELETE refused/);
    // A cutoff before the entry (as the purge sets it) does not let a recent row go.
    expect(
      await databaseError(
        db.transaction(async (tx) => {
          await tx.execute(sql`select set_config('ledger.audit_purge_before', ${new Date(T0.getTime() - DAY).toISOString()}, true)`);
          await tx.execute(sql`delete from audit_log where ${where}`);
        }),
      ),
    ).toMatch(/append-only: DELETE refused/);
    // TRUNCATE, in a transaction rolled back whatever happens (the server is shared).
    const rollback = new Error('rollback');
    const truncated = await db
      .transaction(async (tx) => {
        await tx.execute(sql`truncate audit_log`);
        throw rollback;
      })
      .catch((e: unknown) => e);
    expect(truncated).not.toBe(rollback);
    expect(`${(truncated as Error).message} ${((truncated as Error).cause as Error | undefined)?.message ?? ''}`).toMatch(/append-only: TRUNCATE refused/);
    expect((await api(s).audit.list({ entityId: c.id })).items.map((e) => e.action)).toEqual(['customer.created']);
  });
});
