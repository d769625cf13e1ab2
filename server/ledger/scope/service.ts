import { conflict, illegalState, scopeKey, scopeSchema, type Scope } from '../types';
import type { ScopeMode, ScopeStore } from './store';

/**
 * Scopes' modes, read from the store and remembered: a registered mode never changes, so
 * it is cached for good; an unregistered scope (live) is read again on the next ask, as
 * it may be registered meanwhile (its first API key). Only cold paths ask (test clocks,
 * customers created on one, the billing cycle of a scope), never metering or entitlements.
 */
export class ScopeModes {
  readonly #known = new Map<string, ScopeMode>();

  constructor(private readonly store: ScopeStore) {}

  async mode(scope: Scope): Promise<ScopeMode> {
    const k = scopeKey(scope);
    const known = this.#known.get(k);
    if (known) return known;
    const mode = await this.store.mode(scope);
    if (mode) this.#known.set(k, mode);
    return mode ?? 'live';
  }

  /**
   * Registers the scope as `live` or `test` (what an API key's creation does, for engine
   * users and tests without keys). A scope keeps the mode it was first registered with:
   * asking for the other one is a `conflict`.
   */
  async register(scope: Scope, mode: ScopeMode): Promise<ScopeMode> {
    scopeSchema.parse(scope);
    const got = await this.store.register(scope, mode);
    this.#known.set(scopeKey(scope), got);
    if (got !== mode) throw conflict(`the scope ${scope.tenantId}/${scope.appId} is ${got}; it cannot become ${mode}`);
    return got;
  }

  /** Throws `illegal_state` unless the scope is a test scope. */
  async requireTest(scope: Scope): Promise<void> {
    if ((await this.mode(scope)) !== 'test') {
      throw illegalState('test clocks exist only in test scopes; this scope is live (its keys start ldg_live_)');
    }
  }
}
