import { z } from 'zod';
import { ID_PREFIXES, isId, pageSchema, type Entity } from '../ledger';

/** An entity id at the API boundary: a wrong prefix is a 400 that names the field. */
export const idOf = (entity: Entity) =>
  z.string().refine((v) => isId(entity, v), { message: `expected a valid ${entity} id (${ID_PREFIXES[entity]}_…)` });

export const pageInput = pageSchema.partial().default({});
