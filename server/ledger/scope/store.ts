import type { RoundingMode, Scope } from '../types';

/**
 * Every scope is `live` or `test` (Stripe's modes); its API keys say which. Test clocks
 * exist only in test scopes. A scope nobody registered is live.
 */
export type ScopeMode = 'live' | 'test';
export const SCOPE_MODES = ['live', 'test'] as const;

/** What the engine needs to know of scopes: their mode (the `scopes` table). */
export interface ScopeStore {
  /** The scope's registered mode, or null when it was never registered (it is then live). */
  mode(scope: Scope): Promise<ScopeMode | null>;
  /**
   * Registers the scope with `mode` unless it is registered already; returns the mode it
   * has (the one given, or the one it had).
   */
  register(scope: Scope, mode: ScopeMode): Promise<ScopeMode>;
  /** The scope's billing settings as stored; null when it never set any (the defaults apply). */
  settings(scope: Scope): Promise<ScopeSettings | null>;
  /** Writes the scope's billing settings whole (upsert). Does not register the scope. */
  putSettings(scope: Scope, settings: ScopeSettings): Promise<void>;
}

/**
 * A scope's billing settings (scope_settings). `roundingMode`: how every invoice line's
 * exact amount becomes whole minor units (money.ts): `half_away_from_zero` (the default)
 * or `half_even`.
 */
export interface ScopeSettings {
  roundingMode: RoundingMode;
}
