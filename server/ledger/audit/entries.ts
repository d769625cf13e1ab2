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
 * before and after; for a creation (no `previous`), every field, before null. An update
 * that changed no field but its state (an event with nothing in `previous`) lists none.
 */
export function changesOf(data: Record<string, unknown>, previous: Record<string, unknown> | null, isCreation: boolean): Record<string, FieldChange> {
  const changes: Record<string, FieldChange> = {};
  if (previous) {
    for (const [field, before] of Object.entries(previous)) changes[field] = { before, after: data[field] ?? null };
  } else if (isCreation) {
    for (const [field, after] of Object.entries(data)) changes[field] = { before: null, after };
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
      changes: changesOf(e.data, e.previous, e.type.endsWith('.created') || e.type.endsWith('.attached')),
      requestId: e.request?.requestId ?? null,
      ip: e.request?.ip ?? null,
      eventId: e.id,
      createdAt: e.createdAt,
    }));
}
