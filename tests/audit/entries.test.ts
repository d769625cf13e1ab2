import { describe, expect, it } from 'vitest';
import { ENGINE_ACTOR, entriesOf, entryOf, newId, type LedgerEvent } from '@/server/ledger';
import { changesOf, entityTypeOf } from '@/server/ledger/audit/entries';

/** How an event becomes an audit entry: the entity from the type, the changes from `previous` and `data`. */
const AT = new Date('2025-03-01T09:00:00.000Z');
const event = (over: Partial<LedgerEvent>): LedgerEvent => ({
  id: newId('event'),
  type: 'customer.updated',
  objectId: 'cst_1',
  customerId: 'cst_1',
  data: { id: 'cst_1', name: 'Ada Lovelace', email: 'ada@example.com' },
  previous: { name: 'Ada' },
  request: { actor: { type: 'api_key', id: 'key_1' }, requestId: 'req-1', ip: '203.0.113.9' },
  createdAt: AT,
  ...over,
});

describe('audit entries from events', () => {
  it('an update lists each changed field with its value before and after; a creation every field, before null', () => {
    expect(changesOf({ name: 'B', plan: 'pro', seats: 3 }, { name: 'A', seats: 1 }, 'update')).toEqual({ name: { before: 'A', after: 'B' }, seats: { before: 1, after: 3 } });
    expect(changesOf({ id: 'x', name: 'A' }, null, 'creation')).toEqual({ id: { before: null, after: 'x' }, name: { before: null, after: 'A' } });
    // A field the update removed reads as null after.
    expect(changesOf({ id: 'x' }, { memo: 'old' }, 'update')).toEqual({ memo: { before: 'old', after: null } });
    expect(changesOf({ id: 'x' }, null, 'update')).toEqual({});
    // A deletion: every field as it was, after null.
    expect(changesOf({ id: 'x', name: 'A' }, null, 'deletion')).toEqual({ id: { before: 'x', after: null }, name: { before: 'A', after: null } });
  });

  it('entity type from the action; actor, request id, IP, time and event id from the event', () => {
    expect(entityTypeOf('payment_method.detached')).toBe('payment_method');
    const e = event({});
    const [entry] = entriesOf([e]);
    expect(entry).toMatchObject({ action: 'customer.updated', entityType: 'customer', entityId: 'cst_1', actor: { type: 'api_key', id: 'key_1' }, requestId: 'req-1', ip: '203.0.113.9', eventId: e.id, createdAt: AT });
    expect(entry!.id).toMatch(/^aud_/);
    expect(entry!.changes).toEqual({ name: { before: 'Ada', after: 'Ada Lovelace' } });
  });

  it('a change outside any request is the engine\'s; readings (quota events) are not writes and have no entry', () => {
    const entries = entriesOf([event({ request: null }), event({ type: 'usage.quota_exceeded' }), event({ type: 'usage.soft_limit_reached' })]);
    expect(entries).toHaveLength(1);
    const [entry] = entries;
    expect(entriesOf([event({ type: 'usage.quota_exceeded' })])).toEqual([]);
    expect(entry!.actor).toEqual(ENGINE_ACTOR);
  });

  it('a write outside the engine: a removal lists what was, an addition what is, a change only what differs', () => {
    const req = { actor: { type: 'portal_user' as const, id: 'usr_1', email: 'o@example.com' }, requestId: 'r', ip: null };
    expect(entryOf({ action: 'portal_member.removed', entityId: 'cst_1/usr_2', before: { role: 'billing' }, after: null }, req, AT)).toMatchObject({
      entityType: 'portal_member',
      actor: req.actor,
      changes: { role: { before: 'billing', after: null } },
    });
    expect(entryOf({ action: 'portal_member.added', entityId: 'm', before: null, after: { role: 'member' } }, null, AT).changes).toEqual({ role: { before: null, after: 'member' } });
    expect(entryOf({ action: 'portal_member.updated', entityId: 'm', before: { role: 'member', email: 'a' }, after: { role: 'owner', email: 'a' } }, null, AT).changes).toEqual({ role: { before: 'member', after: 'owner' } });
  });
});
