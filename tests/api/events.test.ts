import { beforeAll, describe, expect, it } from 'vitest';
import { createLedger, scope, silentLogger, type CustomerId, type Ledger } from '@/server/ledger';
import { withRequestId } from '@/server/http/request-id';
import { createCaller } from '@/server/trpc/root';
import { codeOf, portalContext } from '../support/trpc';

/**
 * events.list and events.get through the real router: the key's scope only, filtered and
 * paged, and each event names who made the change (the API key or the portal user), the
 * request id and the forwarded IP.
 */
let ledger: Ledger;
const acme = scope('acme', 'billing');
const globex = scope('globex', 'billing');
const api = (s = acme, ip: string | null = null) => createCaller({ ledger, auth: { kind: 'api_key', scope: s, keyId: 'key_acme' }, ip });

beforeAll(async () => {
  ledger = await createLedger({ logger: silentLogger });
});

describe('events procedures', () => {
  it('list newest first with filters and a cursor; get one; another scope sees none', async () => {
    const a = await withRequestId('req-42', () => api(acme, '203.0.113.5').customers.create({ email: 'a@example.com', name: 'A' }));
    const b = await api().customers.create({ email: 'b@example.com', name: 'B' });
    await api().customers.update({ id: a.id, patch: { name: 'A2' } });

    const all = await api().events.list({ customerId: a.id });
    expect(all.items.map((e) => e.type)).toEqual(['customer.updated', 'customer.created']);
    const created = all.items[1]!;
    expect(created).toMatchObject({ objectId: a.id, request: { actor: { type: 'api_key', id: 'key_acme' }, requestId: 'req-42', ip: '203.0.113.5' } });
    expect(all.items[0]).toMatchObject({ previous: { name: 'A' }, data: { name: 'A2' } });

    const first = await api().events.list({ type: 'customer.created', limit: 1 });
    expect(first.items.map((e) => e.objectId)).toEqual([b.id]);
    const second = await api().events.list({ type: 'customer.created', limit: 1, cursor: first.nextCursor! });
    expect(second.items.map((e) => e.objectId)).toEqual([a.id]);
    expect((await api().events.list({ typePrefix: 'customer.' })).items).toHaveLength(3);

    expect(await api().events.get({ id: created.id })).toEqual(created);
    expect(await codeOf(api(globex).events.get({ id: created.id }))).toBe('NOT_FOUND');
    expect((await api(globex).events.list()).items).toEqual([]);
  });

  it('bad input is a 400 naming the field; nothing but an API key may read', async () => {
    expect(await codeOf(api().events.list({ type: 'invoice.exploded' as never }))).toBe('BAD_REQUEST');
    expect(await codeOf(api().events.list({ cursor: 'cst_01h455vb4pex5vsknk084sn02q' as never }))).toBe('BAD_REQUEST');
    expect(await codeOf(api().events.get({ id: 'nope' }))).toBe('BAD_REQUEST');
    const c = await api().customers.create({ email: 'p@example.com', name: 'P' });
    const portal = createCaller({ ledger, auth: { kind: 'portal', scope: acme, portal: portalContext(acme, c.id as CustomerId) } });
    expect(await codeOf(portal.events.list())).toBe('UNAUTHORIZED');
  });

  it('a portal user\'s change names the user', async () => {
    const c = await api().customers.create({ email: 'q@example.com', name: 'Q' });
    const portal = createCaller({ ledger, auth: { kind: 'portal', scope: acme, portal: portalContext(acme, c.id as CustomerId, 'billing') } });
    await portal.accountBilling.updateDetails({ name: 'Q Ltd' });
    const [updated] = (await api().events.list({ customerId: c.id, type: 'customer.updated' })).items;
    expect(updated).toMatchObject({ data: { name: 'Q Ltd' }, request: { actor: { type: 'portal_user', id: `usr_${c.id}`, email: `${c.id}@example.com` } } });
  });
});
