import { z } from 'zod';
import { requiredText } from './input';

/**
 * Lists are paged by an opaque cursor (the last id seen, or a plan's key; TypeIDs sort by
 * time). A cursor is compared with stored text, so it must be text PostgreSQL can hold.
 */
export const pageSchema = z.object({
  limit: z.number().int().min(1).max(100).default(20),
  cursor: requiredText(200).optional(),
});
export type PageInput = z.input<typeof pageSchema>;
export type PageRequest = z.output<typeof pageSchema>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Stores fetch `limit + 1` rows; the extra row tells whether there is a next page. The
 * cursor is the sort key of the last item (its id, unless the list sorts otherwise).
 */
export function toPage<T extends { id: string }>(
  rows: T[],
  limit: number,
  cursorOf: (item: T) => string = (item) => item.id,
): Page<T> {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? cursorOf(items[items.length - 1]!) : null };
}
