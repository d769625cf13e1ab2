import { notFound } from './errors';
import { parseId, type Entity, type Id } from './ids';
import { pageSchema, toPage, type Page, type PageInput, type PageRequest } from './page';
import { parseInput } from './validate';

/**
 * The two reads every service makes the same way: one entity by an id from outside, and
 * a page of a list.
 */

/** Checks the id's prefix, loads the entity, or throws `not_found` naming it ("tax rate txr_…"). */
export async function findById<E extends Entity, T>(
  entity: E,
  id: string,
  load: (id: Id<E>) => Promise<T | null>,
  name = entityName(entity),
): Promise<T> {
  const parsed = parseId(entity, id);
  const found = await load(parsed);
  if (!found) throw notFound(name, parsed);
  return found;
}

/** Checks the page request, loads `limit + 1` rows, and makes the page. */
export async function pageOf<T extends { id: string }>(page: PageInput, load: (page: PageRequest) => Promise<T[]>): Promise<Page<T>> {
  const p = parseInput(pageSchema, page, 'page');
  return toPage(await load(p), p.limit);
}

/** "taxRate" → "tax rate", for messages. */
const entityName = (e: Entity) => e.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);
