import type { EventLog } from '../events/log';
import { currentRequest } from '../events/request-context';
import type { Clock, Scope } from '../types';
import { entriesOf, entryOf, type AuditInput } from './entries';
import type { AuditEntry, AuditQuery, AuditStore } from './types';

export const DEFAULT_AUDIT_RETENTION_DAYS = 365;

export interface AuditOptions {
  /** Where entries are kept (createPostgresAuditStore; in memory when omitted). */
  store?: AuditStore;
  /** How many days entries are kept (default 365); the billing schedule purges older ones hourly. */
  retentionDays?: number;
}

/**
 * The audit trail: an append-only record of every write, made from the events each
 * change records and written in the change's own transaction (EventLog.withinTransaction),
 * so a change is never stored without its entry, nor an entry without its change. The
 * actor, request id and IP come from the request the change was made in (withRequest);
 * a change made outside any request is the system's (`engine`).
 */
export class AuditTrail {
  constructor(
    events: EventLog,
    private readonly store: AuditStore,
    private readonly clock: Clock,
    readonly retentionDays: number = DEFAULT_AUDIT_RETENTION_DAYS,
  ) {
    events.withinTransaction(async (scope, recorded) => {
      const entries = entriesOf(recorded);
      if (entries.length) await this.store.append(scope, entries);
    });
  }

  /**
   * Records a write the event log does not name (the portal's members), with the current
   * request's actor. Call it inside the write's transaction when there is one.
   */
  async record(scope: Scope, inputs: readonly AuditInput[]): Promise<void> {
    const at = this.clock.now();
    await this.store.append(scope, inputs.map((i) => entryOf(i, currentRequest(), at)));
  }

  /** Newest first; `nextCursor` is null on the last page. */
  async list(scope: Scope, query: AuditQuery, page: { limit: number; cursor?: string }): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    const rows = await this.store.list(scope, query, { limit: page.limit + 1, ...(page.cursor ? { cursor: page.cursor } : {}) });
    const items = rows.slice(0, page.limit);
    return { items, nextCursor: rows.length > page.limit ? items[items.length - 1]!.id : null };
  }

  /** Deletes every scope's entries older than the retention, in batches; how many went. */
  async purgeExpired(batch = 1_000): Promise<number> {
    const before = new Date(this.clock.now().getTime() - this.retentionDays * 86_400_000);
    let total = 0;
    for (;;) {
      const n = await this.store.purge(before, batch);
      total += n;
      if (n < batch) return total;
    }
  }
}
