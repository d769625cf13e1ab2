import type { ScopeMode } from '../scope/store';
import { invalid } from '../types/errors';

/**
 * Paddle's two environments and the keys that serve them, apart from the adapter so the
 * environment's schema (server/env.ts) checks a key without loading the adapter.
 * Paddle's keys say their environment: `pdl_sdbx_apikey_…` (sandbox), `pdl_live_apikey_…`
 * (production); a legacy key (before May 2025, a plain string) does not.
 */
export type PaddleEnvironment = 'sandbox' | 'production';

/** The environment a key and the configuration agree on; `invalid` when they do not. */
export function paddleEnvironment(apiKey: string, environment?: PaddleEnvironment): PaddleEnvironment {
  const prefixed = /^pdl_(sdbx|live)_\S+$/.exec(apiKey);
  if (apiKey.startsWith('pdl_') && !prefixed) throw invalid('a Paddle API key starts with pdl_sdbx_ (sandbox) or pdl_live_ (production)');
  if (!prefixed && !/^\S{20,}$/.test(apiKey)) throw invalid('a Paddle API key is pdl_sdbx_…, pdl_live_…, or a legacy key of at least 20 characters');
  const fromKey: PaddleEnvironment | null = prefixed ? (prefixed[1] === 'live' ? 'production' : 'sandbox') : null;
  if (fromKey && environment && fromKey !== environment) throw invalid(`a ${fromKey} Paddle API key cannot serve the ${environment} environment`);
  return environment ?? fromKey ?? 'sandbox';
}

/** The scope mode an environment serves. */
export const paddleMode = (environment: PaddleEnvironment): ScopeMode => (environment === 'production' ? 'live' : 'test');
