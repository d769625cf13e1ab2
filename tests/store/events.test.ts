import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventLog } from '../../server/ledger/events/log';
import { withRequest } from '../../server/ledger/events/request-context';
import type { LedgerEvent } from '../../server/ledger/events/types';
import { ManualClock, conflict, newId, silentLogger, type CustomerId, type Scope } from '../../server/ledger/types';
import { AT } from '../support/builders';
import { otherAppOf, storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * The event log's part of the Store contract, for every store: append, get, newest-first
 * lists with filters and a cursor, purge, all within the scope; and `atomic`: a change's
 * writes and its events commit together or not at all (memory applies as it goes).
 */
const later = (ms: number) => new Date(AT.getTime() + ms);

function event(overrides: Partial<LedgerEvent> = {}): LedgerEvent {
  return {
    id: newId('event'),
    type: 'customer.created',
    objectId: newId('customer'),
    customerId: null,
    data: { name: 'Acme' },
    previous: null,
    request: null,
    createdAt: AT,
    ...overrides,
  };
}

describe.each(storeFactories())('event log on the $name store', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let s: Scope;
  beforeEach(() => {
    s = uniqueScope();
  });

  it('append then get: the event as written, JSON and request included; another app of the tenant sees nothing', async () => {
    const e = event({
      type: 'invoice.paid',
      customerId: 'cst_x',
      data: { id: 'inv_1', total: 1234, lines: [{ amount: 1234 }], paidAt: '2025-01-15T10:00:00.000Z' },
      previous: { status: 'open' },
      request: { actor: { type: 'api_key', id: 'key_1' }, requestId: 'req-1', ip: '203.0.113.9' },
    });
    await store().events.append(s, [e]);
    expect(await store().events.get(s, e.id)).toEqual(e);
    expect(await store().events.get(otherAppOf(s), e.id)).toBeNull();
    expect(await store().events.list(otherAppOf(s), {}, { limit: 10 })).toEqual([]);
  });

  it('lists newest first, filtered by type, type prefix, object, customer and time, paged by cursor', async () => {
    const made: LedgerEvent[] = [];
    for (let i = 0; i < 5; i++) {
      const e = event({
        type: i % 2 ? 'invoice.paid' : 'invoice.created',
        objectId: i < 2 ? 'inv_a' : 'inv_b',
        customerId: i < 3 ? 'cst_1' : 'cst_2',
        createdAt: later(i * 1000),
      });
      await store().events.append(s, [e]);
      made.push(e);
      // TypeIDs order by the millisecond they were made in: one per ms at least.
      await new Promise((r) => setTimeout(r, 2));
    }
    const ids = (l: LedgerEvent[]) => l.map((e) => e.id);
    expect(ids(await store().events.list(s, {}, { limit: 10 }))).toEqual(ids([...made].reverse()));
    expect(ids(await store().events.list(s, { type: 'invoice.paid' }, { limit: 10 }))).toEqual([made[3]!.id, made[1]!.id]);
    expect(ids(await store().events.list(s, { typePrefix: 'invoice.' }, { limit: 10 }))).toHaveLength(5);
    expect(await store().events.list(s, { typePrefix: 'invoice_' }, { limit: 10 })).toEqual([]);
    expect(ids(await store().events.list(s, { objectId: 'inv_a' }, { limit: 10 }))).toEqual([made[1]!.id, made[0]!.id]);
    expect(ids(await store().events.list(s, { customerId: 'cst_2' }, { limit: 10 }))).toEqual([made[4]!.id, made[3]!.id]);
    expect(ids(await store().events.list(s, { createdFrom: later(1000), createdTo: later(3000) }, { limit: 10 }))).toEqual([made[2]!.id, made[1]!.id]);
    const first = await store().events.list(s, {}, { limit: 2 });
    expect(ids(first)).toEqual([made[4]!.id, made[3]!.id]);
    expect(ids(await store().events.list(s, {}, { limit: 2, cursor: first[1]!.id }))).toEqual([made[2]!.id, made[1]!.id]);
  });

  it('purge drops events created before the time, oldest first up to the limit, in every scope, and only those', async () => {
    // Far in the past, so a shared database's other tests' events are not among them.
    const ancient = (days: number) => new Date(Date.UTC(1971, 0, 1) + days * 86_400_000);
    const otherScope = otherAppOf(s);
    const a = event({ createdAt: ancient(1) });
    const b = event({ createdAt: ancient(2) });
    const c = event({ createdAt: ancient(3) });
    const kept = event({ createdAt: ancient(40) });
    await store().events.append(s, [b, kept]);
    await store().events.append(otherScope, [a, c]);
    // A shared database may hold other files' old rows (older ones come first): counts
    // are exact on the stores this file has to itself.
    const own = factory.name !== 'postgres';
    const first = await store().events.purge(ancient(30), 2);
    if (own) {
      expect(first).toBe(2);
      expect(await store().events.get(otherScope, a.id)).toBeNull();
      expect(await store().events.get(s, b.id)).toBeNull();
      expect(await store().events.get(otherScope, c.id)).toEqual(c);
    }
    while ((await store().events.purge(ancient(30), 100)) > 0);
    for (const gone of [a, b, c]) expect(await store().events.get(gone === b ? s : otherScope, gone.id)).toBeNull();
    expect(await store().events.get(s, kept.id)).toEqual(kept);
  });

  it('EventLog.atomic: the change and its events commit together; with the request that made them', async () => {
    const log = new EventLog(store(), new ManualClock(AT), silentLogger);
    const committed: string[] = [];
    log.onCommitted((_s, events) => committed.push(...events.map((e) => e.type)));
    const customer = { id: newId('customer'), externalId: null, email: 'a@example.com', name: 'A', country: null, region: null, address: null, taxStatus: 'taxable' as const, taxId: null, metadata: {}, testClockId: null, collectionMethod: null, daysUntilDue: null, currency: null, timeZone: null, createdAt: AT, updatedAt: AT };
    await withRequest({ actor: { type: 'portal_user', id: 'usr_1', email: 'a@example.com' }, requestId: 'r-9', ip: null }, () =>
      log.atomic(s, async (record) => {
        await store().customers.insert(s, customer);
        record({ type: 'customer.created', object: customer });
      }),
    );
    const [e] = (await log.list(s, {}, { limit: 10 })).items;
    expect(e).toMatchObject({ type: 'customer.created', objectId: customer.id, customerId: customer.id, previous: null, request: { actor: { type: 'portal_user', id: 'usr_1' }, requestId: 'r-9' } });
    expect(e!.data).toEqual(JSON.parse(JSON.stringify(customer)));
    expect(committed).toEqual(['customer.created']);
  });

  it('EventLog.atomic: a write that fails after another rolls both back (memory: keeps the write), and no event is written', async () => {
    const log = new EventLog(store(), new ManualClock(AT), silentLogger);
    const committed: string[] = [];
    log.onCommitted((_s, events) => committed.push(...events.map((e) => e.type)));
    const customer = { id: newId('customer'), externalId: 'ext-1', email: 'a@example.com', name: 'A', country: null, region: null, address: null, taxStatus: 'taxable' as const, taxId: null, metadata: {}, testClockId: null, collectionMethod: null, daysUntilDue: null, currency: null, timeZone: null, createdAt: AT, updatedAt: AT };
    await expect(
      log.atomic(s, async (record) => {
        await store().customers.insert(s, customer);
        record({ type: 'customer.created', object: customer });
        throw conflict('something after the write failed');
      }),
    ).rejects.toThrow('something after the write failed');
    if (factory.name !== 'memory') expect(await store().customers.get(s, customer.id)).toBeNull();
    expect((await log.list(s, {}, { limit: 10 })).items).toEqual([]);
    expect(committed).toEqual([]);
  });

  it('EventLog.atomic: concurrent changes each keep their own transaction', async () => {
    const log = new EventLog(store(), new ManualClock(AT), silentLogger);
    const make = (i: number) => ({ id: newId('customer'), externalId: `c-${i}`, email: `${i}@example.com`, name: `C${i}`, country: null, region: null, address: null, taxStatus: 'taxable' as const, taxId: null, metadata: {}, testClockId: null, collectionMethod: null, daysUntilDue: null, currency: null, timeZone: null, createdAt: AT, updatedAt: AT });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        log.atomic(s, async (record) => {
          const c = make(i);
          await store().customers.insert(s, c);
          record({ type: 'customer.created', object: c });
          if (i % 2) throw conflict(`odd ${i}`);
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    const listed = (await log.list(s, {}, { limit: 20 })).items;
    expect(listed.map((e) => e.data.externalId).sort()).toEqual(['c-0', 'c-2', 'c-4', 'c-6']);
    // The failed ones' customers: rolled back (the memory store applies writes as they come).
    const stored = await Promise.all(listed.map((e) => store().customers.get(s, e.objectId as CustomerId)));
    expect(stored.every(Boolean)).toBe(true);
    if (factory.name !== 'memory') expect((await store().customers.list(s, { limit: 20 })).length).toBe(4);
  });
});
