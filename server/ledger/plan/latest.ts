import type { Scope } from '../types';
import type { PlanStore } from './store';
import type { Plan } from './types';

/**
 * The latest version of every plan line of a scope, archived ones too, read a page of 100
 * at a time (a store page answers one more row than asked, to say another follows).
 */
export async function allLatestPlans(plans: Pick<PlanStore, 'listLatest'>, scope: Scope): Promise<Plan[]> {
  const all: Plan[] = [];
  let cursor: string | undefined;
  do {
    const rows = await plans.listLatest(scope, { limit: 100, ...(cursor ? { cursor } : {}) }, { includeArchived: true });
    all.push(...rows.slice(0, 100));
    cursor = rows.length > 100 ? rows[99]!.key : undefined;
  } while (cursor);
  return all;
}
