import type { EntitlementCheck, Scope } from '../../ledger';

/**
 * What the engine may say about a check beyond its answer (see the report of issue 10:
 * a proposed engine change adds both to EntitlementCheck). Until it does, checks are
 * counted with `cache="unknown"` and the latency histogram stays empty.
 */
export type TimedCheck = EntitlementCheck & {
  /** `hit`: answered from the in-process cache; `miss`: the customer's entry was read first. */
  cache?: 'hit' | 'miss';
  /** Of a miss: milliseconds from the call to the answer (store or Redis reads included). */
  elapsedMs?: number;
};

export interface CheckRow {
  tenant: string;
  app: string;
  cache: string;
  reason: string;
  allowed: boolean;
  n: number;
}

type ByReason = Map<string, CheckRow>;
interface ScopeRows {
  tenant: string;
  app: string;
  /** cache → reason → row, one map for allowed answers and one for denied. */
  allowed: Map<string, ByReason>;
  denied: Map<string, ByReason>;
}

/**
 * Entitlement checks counted in plain numbers, read into the Prometheus counter when it is
 * scraped. A cache hit costs a few hundred nanoseconds; prom-client's `inc(labels)` hashes
 * its label object on every call, which would cost as much again. Here a check is two or
 * three Map lookups of interned strings (the reasons and cache words are constants).
 */
export class CheckTally {
  readonly #byScope: boolean;
  readonly #global: ScopeRows = { tenant: '', app: '', allowed: new Map(), denied: new Map() };
  readonly #tenants = new Map<string, Map<string, ScopeRows>>();

  /** `byScope`: keep tenant and app apart (LEDGER_METRICS_TENANT_LABELS=1). */
  constructor(byScope: boolean) {
    this.#byScope = byScope;
  }

  add(scope: Scope, check: TimedCheck): void {
    const rows = this.#byScope ? this.#rowsOf(scope) : this.#global;
    const result = check.result;
    const cache = check.cache ?? 'unknown';
    const byCache = result.allowed ? rows.allowed : rows.denied;
    let byReason = byCache.get(cache);
    if (byReason === undefined) byCache.set(cache, (byReason = new Map()));
    const row = byReason.get(result.reason);
    if (row !== undefined) row.n++;
    else byReason.set(result.reason, { tenant: rows.tenant, app: rows.app, cache, reason: result.reason, allowed: result.allowed, n: 1 });
  }

  *rows(): Iterable<CheckRow> {
    const scopes = this.#byScope ? [...this.#tenants.values()].flatMap((apps) => [...apps.values()]) : [this.#global];
    for (const s of scopes) {
      for (const byCache of [s.allowed, s.denied]) for (const byReason of byCache.values()) yield* byReason.values();
    }
  }

  #rowsOf(scope: Scope): ScopeRows {
    let apps = this.#tenants.get(scope.tenantId);
    if (apps === undefined) this.#tenants.set(scope.tenantId, (apps = new Map()));
    let rows = apps.get(scope.appId);
    if (rows === undefined) apps.set(scope.appId, (rows = { tenant: scope.tenantId, app: scope.appId, allowed: new Map(), denied: new Map() }));
    return rows;
  }
}
