import type { z } from 'zod';
import { invalid } from './errors';

/**
 * Parses input at an engine boundary. A failure becomes one `invalid` error that names
 * every offending field ("features.0.price.tiers: …"; the message shows the first ten, the
 * error's issues list them all), and nothing has been changed. The shared schemas
 * (`./input.ts`) quote at most a short prefix of a rejected value, so neither echoes it whole.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({
    path: i.path.map(String).join('.') || '(root)',
    message: i.message,
  }));
  const shown = issues.slice(0, 10).map((i) => `${i.path}: ${i.message}`).join('; ');
  const more = issues.length > 10 ? ` (and ${issues.length - 10} more)` : '';
  throw invalid(`invalid ${what}: ${shown}${more}`, issues);
}
