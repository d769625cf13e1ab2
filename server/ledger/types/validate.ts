import type { z } from 'zod';
import { invalid } from './errors';

/**
 * Parses input at an engine boundary. A failure becomes one `invalid` error that names
 * every offending field ("features.0.price.tiers: …"), and nothing has been changed.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({
    path: i.path.map(String).join('.') || '(root)',
    message: i.message,
  }));
  throw invalid(`invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
}
