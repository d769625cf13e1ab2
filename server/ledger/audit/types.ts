import type { Actor } from '../events/types';
import type { Scope } from '../types';

/** A field's value before and after a write (a creation: before is null). */
export interface FieldChange {
  before: unknown;
  after: unknown;
}

/**
 * One entry of the audit trail: who changed which entity, how, from where and when.
 * Entries are never updated nor deleted, except by the retention purge (by age only).
 */
export interface AuditEntry {
  /** `aud_…` (TypeID, time-ordered): the list's order and cursor. */
  id: string;
  /** The API key, the portal user, the provider, or the system (`billing`, `engine`). */
  actor: Actor;
  /** What was done, named as the event log names it (`invoice.paid`, `portal_member.removed`). */
  action: string;
  /** The entity's kind (`invoice`) and id (`inv_…`). */
  entityType: string;
  entityId: string;
  /** The fields the write changed, `{ field: { before, after } }`. */
  changes: Record<string, FieldChange>;
  requestId: string | null;
  ip: string | null;
  /** The event the entry was made from (null for writes the event log does not name). */
  eventId: string | null;
  createdAt: Date;
}

export interface AuditQuery {
  entityId?: string;
  entityType?: string;
  actorType?: Actor['type'];
  actorId?: string;
  action?: string;
  /** Half-open [from, to). */
  from?: Date;
  to?: Date;
}

/**
 * Where the trail is kept: append and read, and the retention's purge by age. There is
 * no update and no delete of one entry, by design (on PostgreSQL a trigger refuses them).
 */
export interface AuditStore {
  /** Joins the caller's transaction when there is one (the change's own). */
  append(scope: Scope, entries: readonly AuditEntry[]): Promise<void>;
  /** Newest first by id; `cursor` is the last entry's id of the previous page. */
  list(scope: Scope, query: AuditQuery, page: { limit: number; cursor?: string }): Promise<AuditEntry[]>;
  /**
   * Retention, across scopes: deletes up to `limit` entries created before `before`,
   * oldest first; how many went. The one delete path, and by age only.
   */
  purge(before: Date, limit: number): Promise<number>;
}
