import { changedFields } from '../events/diff';
import type { Actor, LedgerEvent, RequestContext } from '../events/types';
import { newId } from '../types';
import type { AuditEntry, FieldChange } from './types';

/** A change made outside any request (a script, the engine's own reactions): the system's. */
export const ENGINE_ACTOR: Actor = { type: 'system', id: 'engine' };

/**
 * Event types that name a reading, not a write (a quota exceeded is seen by a check):
 * the audit trail is of writes only.
 */
const NOT_WRITES = new Set(['usage.quota_exceeded', 'usage.soft_limit_reached']);

/** `invoice.paid` → `invoice`, `payment_method.attached` → `payment_method`. */
export const entityTypeOf = (action: string): string => action.slice(0, action.lastIndexOf('.')) || action;

/**
 * The changed fields of an event: for an update, each field of `previous` with its value
 * before and after; for a creation (no `previous`), every field, before null; for a
 * deletion, every field as it was, after null. An update that changed no field but its
 * state (an event with nothing in `previous`) lists none.
 */
export function changesOf(data: Record<string, unknown>, previous: Record<string, unknown> | null, kind: 'creation' | 'deletion' | 'update'): Record<string, FieldChange> {
  const changes: Record<string, FieldChange> = {};
  if (previous) {
    for (const [field, before] of Object.entries(previous)) changes[field] = { before, after: data[field] ?? null };
  } else if (kind === 'creation') {
    for (const [field, after] of Object.entries(data)) changes[field] = { before: null, after };
  } else if (kind === 'deletion') {
    for (const [field, before] of Object.entries(data)) changes[field] = { before, after: null };
  }
  return changes;
}

/** What a write made outside the engine (the portal's members) hands the trail. */
export interface AuditInput {
  action: string;
  entityType?: string;
  entityId: string;
  /** The entity before (null: a creation) and after (null: a removal). */
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/** An entry for a write the event log does not name; the actor comes from the request. */
export function entryOf(input: AuditInput, request: RequestContext | null, at: Date): AuditEntry {
  const changes: Record<string, FieldChange> = {};
  if (input.before && input.after) {
    for (const [field, before] of Object.entries(changedFields(input.before, input.after) ?? {})) changes[field] = { before, after: input.after[field] ?? null };
  } else {
    for (const [field, value] of Object.entries(input.before ?? input.after ?? {})) {
      changes[field] = input.before ? { before: value, after: null } : { before: null, after: value };
    }
  }
  return {
    id: newId('audit'),
    actor: request?.actor ?? ENGINE_ACTOR,
    action: input.action,
    entityType: input.entityType ?? entityTypeOf(input.action),
    entityId: input.entityId,
    changes,
    requestId: request?.requestId ?? null,
    ip: request?.ip ?? null,
    eventId: null,
    createdAt: at,
  };
}

const kindOf = (type: string): 'creation' | 'deletion' | 'update' =>
  type.endsWith('.created') || type.endsWith('.attached') ? 'creation' : type.endsWith('.deleted') ? 'deletion' : 'update';

/** The entries of a change's events: one per event that names a write. */
export function entriesOf(events: readonly LedgerEvent[]): AuditEntry[] {
  return events
    .filter((e) => !NOT_WRITES.has(e.type))
    .map((e) => ({
      id: newId('audit'),
      actor: e.request?.actor ?? ENGINE_ACTOR,
      action: e.type,
      entityType: entityTypeOf(e.type),
      entityId: e.objectId,
      changes: changesOf(e.data, e.previous, kindOf(e.type)),
      requestId: e.request?.requestId ?? null,
      ip: e.request?.ip ?? null,
      eventId: e.id,
      createdAt: e.createdAt,
    }));
}
