import { jsonError } from './errors';

/** 401 for a request without a valid API key (absent, malformed, unknown or revoked): nothing ran. */
export function unauthorized(): Response {
  return jsonError(401, 'unauthorized', 'a valid API key is required: Authorization: Bearer ldg_…', {
    headers: { 'www-authenticate': 'Bearer' },
  });
}
