import { idSchema, pageSchema, type Entity } from '../ledger';

/**
 * The inputs every router shares. Every string at this boundary is one of the shared
 * schemas of server/ledger/types/input.ts (`text`, `requiredText`, `instant`, ids), so
 * text PostgreSQL cannot store is a 400 that names the field, never a 500.
 */

/** An entity id at the API boundary: a wrong prefix, or anything but a TypeID, is a 400 that names the field. */
export const idOf = (entity: Entity) => idSchema(entity);

export const pageInput = pageSchema.partial().default({});
