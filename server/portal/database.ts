import type { Database } from '../../db/client';
import type { Env } from '../env';
import type { Ledger } from '../ledger';

/**
 * The portal's tables live in the app's database, beside the engine's; tRPC's context
 * carries only the engine. The runtime registers its database and environment here for
 * its engine, so a procedure finds those of the engine it was called with (and a test's
 * runtime its own, not the process's).
 */
export interface PortalDeps {
  db: Database;
  env: Env;
  ledger: Ledger;
}

// On globalThis, as the runtime: Next.js bundles route handlers and pages separately, and
// each bundle has its own copy of this module.
const KEY = Symbol.for('ledger.portal.deps');
const registry: WeakMap<Ledger, PortalDeps> = ((globalThis as { [KEY]?: WeakMap<Ledger, PortalDeps> })[KEY] ??= new WeakMap());

export function registerPortalDeps(deps: PortalDeps): void {
  registry.set(deps.ledger, deps);
}

export function portalDeps(ledger: Ledger): PortalDeps {
  const d = registry.get(ledger);
  if (!d) throw new Error('the portal needs the app database: this engine was not built by createRuntime');
  return d;
}

/** The app's public URL, without a trailing slash: LEDGER_PUBLIC_URL, else http://localhost:PORT. */
export const publicUrlOf = (env: Env): string => (env.LEDGER_PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, '');
