/**
 * API keys look like `ldg_3k9x2m7q8w1z_<32 characters>`: `ldg_` + a 12-character public
 * prefix (shown in lists, used to find the key) + a 32-character secret. 44 random
 * base62 characters in all.
 */
export const API_KEY_PATTERN = /^ldg_[0-9A-Za-z]{12}_[0-9A-Za-z]{32}$/;

export function splitApiKey(key: string): { prefix: string } | null {
  if (!API_KEY_PATTERN.test(key)) return null;
  return { prefix: key.slice(0, 16) };
}
