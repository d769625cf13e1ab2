import { LRUCache } from 'lru-cache';
import type { EngineContext } from '../context';
import { allLatestPlans } from '../plan/latest';
import type { Feature } from '../plan/types';
import { scopeKey, type CustomerId, type Scope } from '../types';

/**
 * What metering needs to know about a scope: which customers exist and which feature
 * keys are metered (and, for unique counts, which property they count). Both are cached
 * per scope: features for a few seconds (dropped at once when a plan changes in this
 * process), known customers until evicted or deleted (only a test clock's deletion
 * deletes customers: `forgetCustomers`, told by the test clocks here and, from another
 * instance, at their next reload). A customer read here also tells the engine its test
 * clock, so its events are judged at its time.
 */
const FEATURES_TTL_MS = 10_000;

export class MeterCatalog {
  readonly #features = new Map<string, { at: number; byKey: Map<string, Feature> }>();
  readonly #customers = new LRUCache<string, true>({ max: 100_000 });

  constructor(private readonly ctx: EngineContext) {}

  /** Metered features by key, from the latest version of every plan line (archived too). */
  async meteredFeatures(scope: Scope): Promise<Map<string, Feature>> {
    const k = scopeKey(scope);
    const hit = this.#features.get(k);
    const now = Date.now();
    if (hit && now - hit.at < FEATURES_TTL_MS) return hit.byKey;
    const byKey = new Map<string, Feature>();
    for (const plan of await allLatestPlans(this.ctx.store.plans, scope)) {
      for (const f of plan.features) if (f.kind === 'metered' && !byKey.has(f.key)) byKey.set(f.key, f);
    }
    this.#features.set(k, { at: now, byKey });
    return byKey;
  }

  /** The subset of `ids` that are customers of the scope. */
  async existingCustomers(scope: Scope, ids: Iterable<CustomerId>): Promise<Set<CustomerId>> {
    const prefix = scopeKey(scope) + '\u0000';
    const known = new Set<CustomerId>();
    const unknown: CustomerId[] = [];
    for (const id of ids) (this.#customers.has(prefix + id) ? known : (unknown.push(id), null))?.add(id);
    await Promise.all(
      unknown.map(async (id) => {
        const customer = await this.ctx.store.customers.get(scope, id);
        if (customer) {
          await this.ctx.customerSeen(scope, customer);
          this.#customers.set(prefix + id, true);
          known.add(id);
        }
      }),
    );
    return known;
  }

  forgetCustomers(scope: Scope, ids: Iterable<string>): void {
    const prefix = scopeKey(scope) + '\u0000';
    for (const id of ids) this.#customers.delete(prefix + id);
  }

  forgetFeatures(scope: Scope): void {
    this.#features.delete(scopeKey(scope));
  }
}
