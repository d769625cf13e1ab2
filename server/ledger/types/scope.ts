import { z } from 'zod';
import { invalid } from './errors';

/**
 * Every engine call runs inside a scope: one tenant (a Ledger customer company) and one
 * of its apps. The scope is the first, required parameter of every service method and
 * every store method; there is no default, so a call without one does not type-check.
 */
export interface Scope {
  readonly tenantId: string;
  readonly appId: string;
}

const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, "-" and "_", at most 63');

export const scopeSchema = z.object({ tenantId: slug, appId: slug });

export function scope(tenantId: string, appId: string): Scope {
  const r = scopeSchema.safeParse({ tenantId, appId });
  if (!r.success) {
    throw invalid(
      `invalid scope: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return Object.freeze(r.data);
}

/** A key prefix for caches and buffers; `\u0000` cannot appear in a slug. */
export const scopeKey = (s: Scope) => `${s.tenantId}\u0000${s.appId}`;
