import type { EventStore, LedgerEvent } from '../events/types';
import { scopeKey, type Scope } from '../types';
import {
  endpointKey,
  receives,
  type ClaimedDelivery,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEndpointRecord,
  type WebhookOutStore,
} from '../webhooks-out/types';

interface ScopeRows {
  scope: Scope;
  endpoints: Map<string, WebhookEndpointRecord>;
  deliveries: Map<string, WebhookDelivery>;
  attempts: WebhookAttempt[];
  /** Events already fanned out (the memory log has no dispatched_at column). */
  dispatched: Set<string>;
}

/**
 * Outbound webhooks in memory (tests, and engines built without a database). The event
 * log is read through its own interface, per scope that has endpoints: an event of a
 * scope with none has nowhere to go, and an endpoint only takes events made after it.
 */
export function createMemoryWebhookOutStore(events: EventStore): WebhookOutStore {
  const scopes = new Map<string, ScopeRows>();
  const rowsOf = (scope: Scope): ScopeRows => {
    const k = scopeKey(scope);
    let r = scopes.get(k);
    if (!r) scopes.set(k, (r = { scope, endpoints: new Map(), deliveries: new Map(), attempts: [], dispatched: new Set() }));
    return r;
  };
  const copy = <T>(v: T): T => structuredClone(v);

  return {
    async insertEndpoint(scope, e) {
      rowsOf(scope).endpoints.set(e.id, copy(e));
    },
    async getEndpoint(scope, id) {
      const e = scopes.get(scopeKey(scope))?.endpoints.get(id);
      return e ? copy(e) : null;
    },
    async listEndpoints(scope) {
      return [...(scopes.get(scopeKey(scope))?.endpoints.values() ?? [])].sort((a, b) => (a.id < b.id ? -1 : 1)).map(copy);
    },
    async updateEndpoint(scope, e) {
      const r = scopes.get(scopeKey(scope));
      if (!r?.endpoints.has(e.id)) return false;
      r.endpoints.set(e.id, copy(e));
      return true;
    },
    async deleteEndpoint(scope, id) {
      const r = scopes.get(scopeKey(scope));
      if (!r?.endpoints.delete(id)) return false;
      for (const [k, d] of r.deliveries) if (d.endpointId === id) r.deliveries.delete(k);
      r.attempts = r.attempts.filter((a) => a.endpointId !== id);
      return true;
    },
    async disableEndpoint(scope, id, reason, at) {
      const e = scopes.get(scopeKey(scope))?.endpoints.get(id);
      if (!e?.enabled) return false;
      Object.assign(e, { enabled: false, disabledReason: reason, updatedAt: at });
      return true;
    },
    async fanOut(limit, at, makeDelivery) {
      let eventCount = 0;
      let deliveryCount = 0;
      const leased: ClaimedDelivery[] = [];
      for (const r of scopes.values()) {
        if (eventCount >= limit) break;
        if (r.endpoints.size === 0) continue;
        const fresh: LedgerEvent[] = (await events.list(r.scope, {}, { limit: 1_000_000 })).filter((e) => !r.dispatched.has(e.id)).reverse();
        for (const event of fresh.slice(0, limit - eventCount)) {
          for (const endpoint of r.endpoints.values()) {
            if (!endpoint.enabled || !receives(endpoint, event)) continue;
            const d = makeDelivery(event, endpoint, r.scope);
            r.deliveries.set(d.id, d);
            deliveryCount++;
            if (d.lockedUntil) leased.push({ scope: r.scope, delivery: copy(d), endpoint: copy(endpoint) });
          }
          r.dispatched.add(event.id);
          eventCount++;
        }
      }
      void at;
      return { events: eventCount, deliveries: deliveryCount, leased };
    },
    async insertDelivery(scope, d) {
      rowsOf(scope).deliveries.set(d.id, copy(d));
    },
    async getDelivery(scope, id) {
      const d = scopes.get(scopeKey(scope))?.deliveries.get(id);
      return d ? copy(d) : null;
    },
    async claimDue(at, leaseUntil, limit, perEndpoint, skip) {
      const skipped = new Set(skip);
      const due: ClaimedDelivery[] = [];
      for (const r of scopes.values()) {
        for (const d of r.deliveries.values()) {
          const endpoint = r.endpoints.get(d.endpointId);
          if (d.status !== 'pending' || !d.nextAttemptAt || d.nextAttemptAt > at || (d.lockedUntil && d.lockedUntil > at)) continue;
          if (!endpoint?.enabled || skipped.has(endpointKey(r.scope, d.endpointId))) continue;
          due.push({ scope: r.scope, delivery: d, endpoint });
        }
      }
      due.sort((a, b) => a.delivery.nextAttemptAt!.getTime() - b.delivery.nextAttemptAt!.getTime() || (a.delivery.id < b.delivery.id ? -1 : 1));
      const taken = new Map<string, number>();
      const claimed: ClaimedDelivery[] = [];
      for (const c of due) {
        if (claimed.length >= limit) break;
        const k = endpointKey(c.scope, c.endpoint.id);
        const n = taken.get(k) ?? 0;
        if (n >= perEndpoint) continue;
        taken.set(k, n + 1);
        c.delivery.lockedUntil = leaseUntil;
        claimed.push({ scope: c.scope, delivery: copy(c.delivery), endpoint: copy(c.endpoint) });
      }
      return claimed;
    },
    async recordAttempts(batch) {
      for (const { scope, outcome } of batch) {
        const { attempt, delivery, failingSince } = outcome;
        const r = rowsOf(scope);
        r.attempts.push(copy(attempt));
        const d = r.deliveries.get(attempt.deliveryId);
        if (d) Object.assign(d, delivery, { attempts: d.attempts + 1, lastAttemptAt: attempt.attemptedAt, lockedUntil: null });
        const e = r.endpoints.get(attempt.endpointId);
        if (e) e.failingSince = failingSince;
      }
    },
    async renewLeases(held, until) {
      const renewed: string[] = [];
      for (const h of held) {
        const d = scopes.get(scopeKey(h.scope))?.deliveries.get(h.id);
        if (d?.status !== 'pending' || d.lockedUntil?.getTime() !== h.lockedUntil.getTime()) continue;
        d.lockedUntil = until;
        renewed.push(`${h.scope.tenantId}|${h.scope.appId}|${h.id}`);
      }
      return renewed;
    },
    async purge(before, limit) {
      let n = 0;
      for (const r of scopes.values()) {
        for (const [k, d] of r.deliveries) {
          if (n >= limit) return n;
          if (d.status === 'pending' || d.createdAt >= before) continue;
          r.deliveries.delete(k);
          r.attempts = r.attempts.filter((a) => a.deliveryId !== d.id);
          n++;
        }
      }
      return n;
    },
    async nextDueAt() {
      let soonest: Date | null = null;
      for (const r of scopes.values()) {
        for (const d of r.deliveries.values()) {
          if (d.status === 'pending' && d.nextAttemptAt && (!soonest || d.nextAttemptAt < soonest)) soonest = d.nextAttemptAt;
        }
      }
      return soonest;
    },
    async listAttempts(scope, endpointId, page) {
      return (scopes.get(scopeKey(scope))?.attempts ?? [])
        .filter((a) => a.endpointId === endpointId && (!page.cursor || a.id < page.cursor))
        .sort((a, b) => (a.id < b.id ? 1 : -1))
        .slice(0, page.limit)
        .map(copy);
    },
    async requeue(scope, which, at) {
      const r = scopes.get(scopeKey(scope));
      if (!r) return 0;
      let n = 0;
      for (const d of r.deliveries.values()) {
        const hit = 'deliveryId' in which ? d.id === which.deliveryId : d.endpointId === which.endpointId && d.status === 'failed' && d.createdAt >= which.failedSince;
        if (!hit) continue;
        Object.assign(d, { status: 'pending', retryStep: 0, nextAttemptAt: at, lockedUntil: null });
        n++;
      }
      return n;
    },
  };
}
