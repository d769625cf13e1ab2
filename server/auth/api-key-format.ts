/**
 * API keys look like `ldg_live_3k9x2m7q8w1z_<32 characters>` or `ldg_test_…`: the mode
 * of the scope the key opens (Stripe's `sk_live_`/`sk_test_`), a 12-character public
 * prefix (shown in lists, used to find the key) and a 32-character secret. 44 random
 * base62 characters in all. Keys made before modes existed (`ldg_<12>_<32>`) still work;
 * their scope's mode is whatever the scope was registered with (live when unregistered).
 */
export type ScopeMode = 'live' | 'test';
export const SCOPE_MODES = ['live', 'test'] as const;

export const API_KEY_PATTERN = /^ldg_(?:(live|test)_)?[0-9A-Za-z]{12}_[0-9A-Za-z]{32}$/;

export function splitApiKey(key: string): { prefix: string; mode: ScopeMode | null } | null {
  const m = API_KEY_PATTERN.exec(key);
  if (!m) return null;
  const mode = (m[1] as ScopeMode | undefined) ?? null;
  // Everything but the secret (and its separator): `ldg_test_3k9x2m7q8w1z`.
  return { prefix: key.slice(0, key.length - 33), mode };
}
