import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/**
 * One id per API request: the caller's `x-request-id` when it is sane (a load balancer's
 * or the client's own, up to 128 characters of letters, digits and `-_.:`), otherwise a
 * new one. It is returned in the `x-request-id` header and in every error body, and it is
 * on every log line about the request, so a caller's report finds the log.
 *
 * Held in AsyncLocalStorage for the request's duration: tRPC's error formatter and
 * loggers deep in a call read it without threading it through every signature.
 */
const SANE = /^[A-Za-z0-9._:-]{1,128}$/;

export const REQUEST_ID_HEADER = 'x-request-id';

export function requestIdOf(req: Request): string {
  const given = req.headers.get(REQUEST_ID_HEADER);
  return given && SANE.test(given) ? given : `req_${randomUUID().replaceAll('-', '')}`;
}

const current = new AsyncLocalStorage<string>();

export function withRequestId<T>(id: string, fn: () => T): T {
  return current.run(id, fn);
}

/** The id of the request being served, if any. */
export function currentRequestId(): string | undefined {
  return current.getStore();
}
