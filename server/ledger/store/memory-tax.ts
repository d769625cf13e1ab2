import type { TaxRateStore } from '../tax/store';
import { placeOf, type TaxRateRecord } from '../tax/types';
import { conflict, Dec, scopeKey, type Scope } from '../types';

/**
 * Tax rates in memory, per scope, copied on the way in and out. The one-active-rate rule
 * is checked here as the SQL store's partial unique index enforces it.
 */
export function createMemoryTaxRateStore(): TaxRateStore {
  const byScope = new Map<string, Map<string, TaxRateRecord>>();
  const rows = (scope: Scope) => {
    const k = scopeKey(scope);
    let m = byScope.get(k);
    if (!m) byScope.set(k, (m = new Map()));
    return m;
  };
  const copy = (r: TaxRateRecord): TaxRateRecord => structuredClone(r);

  const activeAt = (scope: Scope, country: string, region: string | null) =>
    [...rows(scope).values()].find((r) => r.active && r.country === country && r.region === region) ?? null;

  const alreadyActive = (r: TaxRateRecord) =>
    conflict(`an active tax rate for ${placeOf(r.country, r.region)} already exists: deactivate it first`);

  return {
    async insert(scope, rate) {
      if (rate.active && activeAt(scope, rate.country, rate.region)) throw alreadyActive(rate);
      if (rows(scope).has(rate.id)) throw conflict(`tax rate ${rate.id} already exists`);
      // One spelling per value ("20.00" is "20"), as the SQL store reads numerics back.
      rows(scope).set(rate.id, copy({ ...rate, percentage: new Dec(rate.percentage).toFixed() }));
    },
    async get(scope, id) {
      const r = rows(scope).get(id);
      return r ? copy(r) : null;
    },
    async list(scope, page, { country, includeInactive }) {
      return [...rows(scope).values()]
        .filter(
          (r) =>
            (includeInactive || r.active) &&
            (country === undefined || r.country === country) &&
            (!page.cursor || r.id > page.cursor),
        )
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .slice(0, page.limit + 1)
        .map(copy);
    },
    async update(scope, rate) {
      const current = rows(scope).get(rate.id);
      if (!current) return false;
      if (rate.active) {
        const other = activeAt(scope, current.country, current.region);
        if (other && other.id !== current.id) throw alreadyActive(current);
      }
      // As in the SQL store: only the fields that do not change what anyone pays.
      const { displayName, description, active, updatedAt } = rate;
      rows(scope).set(rate.id, copy({ ...current, displayName, description, active, updatedAt }));
      return true;
    },
    async findActive(scope, country, region) {
      const r = activeAt(scope, country, region);
      return r ? copy(r) : null;
    },
  };
}
