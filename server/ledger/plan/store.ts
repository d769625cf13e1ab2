import type { PageRequest, PlanId, Scope } from '../types';
import type { Plan } from './types';

export interface PlanStore {
  /** Throws `conflict` when the key already exists in the scope. */
  insert(scope: Scope, plan: Plan): Promise<void>;
  /**
   * Atomically: the version `previous` stops being the latest, and `next` (same key,
   * version + 1) is inserted as the latest. Throws `conflict` if `previous` is no longer
   * the latest (a concurrent update won).
   */
  insertVersion(scope: Scope, previous: Plan, next: Plan): Promise<void>;
  get(scope: Scope, id: PlanId): Promise<Plan | null>;
  getLatestByKey(scope: Scope, key: string): Promise<Plan | null>;
  /** The latest version of each plan line, ordered by key; the page cursor is a key. */
  listLatest(scope: Scope, page: PageRequest, opts: { includeArchived: boolean }): Promise<Plan[]>;
  /** Updates fields that do not change prices (name, description, metadata). */
  updateInPlace(scope: Scope, plan: Plan): Promise<boolean>;
  /** Marks every version of the plan line archived. */
  archive(scope: Scope, key: string, at: Date): Promise<void>;
}
