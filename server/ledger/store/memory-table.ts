import { scopeKey, type PageRequest, type Scope } from '../types';

/**
 * An in-memory store for tests and embedding. Rows are kept per scope and copied on
 * the way in and out, so callers never share objects with the store.
 */
export class ScopedTable<T extends { id: string }> {
  readonly #byScope = new Map<string, { scope: Scope; rows: Map<string, T> }>();

  rows(scope: Scope): Map<string, T> {
    const k = scopeKey(scope);
    let m = this.#byScope.get(k);
    if (!m) this.#byScope.set(k, (m = { scope, rows: new Map() }));
    return m.rows;
  }
  /** Every row of every scope (for the billing scheduler's search of due scopes). */
  *all(): Iterable<[Scope, T]> {
    for (const { scope, rows } of this.#byScope.values()) for (const row of rows.values()) yield [scope, row];
  }
  get(scope: Scope, id: string): T | null {
    const row = this.rows(scope).get(id);
    return row ? structuredClone(row) : null;
  }
  put(scope: Scope, row: T): void {
    this.rows(scope).set(row.id, structuredClone(row));
  }
  /** Deletes the scope's rows that match; returns how many. */
  delete(scope: Scope, pred: (row: T) => boolean): number {
    const rows = this.rows(scope);
    let n = 0;
    for (const [id, row] of rows) if (pred(row) && rows.delete(id)) n++;
    return n;
  }
  find(scope: Scope, pred: (row: T) => boolean): T[] {
    return [...this.rows(scope).values()].filter(pred).map((r) => structuredClone(r));
  }
  /** Newest first by id (TypeIDs sort by the time they were made), after `cursor`, at most `limit`. */
  newestFirst(scope: Scope, page: { limit: number; cursor?: string }, pred: (row: T) => boolean = () => true): T[] {
    return this.find(scope, (r) => pred(r) && (!page.cursor || r.id < page.cursor))
      .sort((a, b) => (a.id < b.id ? 1 : -1))
      .slice(0, page.limit);
  }
  page(scope: Scope, page: PageRequest, pred: (row: T) => boolean = () => true): T[] {
    return this.find(scope, (r) => pred(r) && (!page.cursor || r.id > page.cursor))
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, page.limit + 1);
  }
}

