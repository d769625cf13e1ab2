import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestContext } from './types';

/**
 * The request a change is made in (who, its id, the IP), carried across awaits so the
 * engine's services need no extra parameter: the API, the portal, the webhook routes and
 * the billing cycle run their work inside `withRequest`, and every event recorded meanwhile
 * says who made it.
 */
const current = new AsyncLocalStorage<RequestContext>();

export function withRequest<T>(request: RequestContext, fn: () => T): T {
  return current.run(request, fn);
}

export function currentRequest(): RequestContext | null {
  return current.getStore() ?? null;
}
