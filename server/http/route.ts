import { recordHttpRequest } from '../plugins/metrics/recorder';
import { errorResponse, jsonError } from './errors';
import { REQUEST_ID_HEADER, requestIdOf, withRequestId } from './request-id';

/**
 * Every `/api` route handler is wrapped once here: a request id for the request (in the
 * response's `x-request-id` header and in error bodies), one error boundary, so no
 * failure — the runtime not starting, the key lookup, the handler itself — becomes
 * Next.js's empty 500, and the request's duration recorded for the metrics plugin under
 * `where` (the route's name in the code, never its URL: the label stays bounded). The
 * duration ends when the handler returns its Response: a streamed body's time is not in it.
 */
export function apiRoute<A extends unknown[]>(where: string, handler: (req: Request, ...rest: A) => Promise<Response> | Response) {
  return (req: Request, ...rest: A): Promise<Response> => {
    const id = requestIdOf(req);
    return withRequestId(id, async () => {
      const started = performance.now();
      let res: Response;
      try {
        res = await handler(req, ...rest);
      } catch (e) {
        res = errorResponse(e, `${req.method} ${new URL(req.url).pathname}`);
      }
      recordHttpRequest(where, req.method, res.status, (performance.now() - started) / 1000);
      return withHeader(res, REQUEST_ID_HEADER, id);
    });
  };
}

function withHeader(res: Response, name: string, value: string): Response {
  try {
    res.headers.set(name, value);
    return res;
  } catch {
    // A response with immutable headers (a fetch result handed on): copy it.
    const copy = new Response(res.body, res);
    copy.headers.set(name, value);
    return copy;
  }
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

/**
 * The handlers of the methods a route does not serve: 405 with `Allow` and a JSON body
 * (HEAD: no body), and OPTIONS answering 204 with `Allow`. Spread into a route module's
 * exports: `export const { PUT, PATCH, DELETE, GET, HEAD, OPTIONS } = otherMethods(['POST'])`
 * (a route serving GET does not export HEAD: Next.js answers HEAD from GET).
 */
export function otherMethods(allowed: readonly Method[]): Record<Method | 'OPTIONS', (req: Request) => Promise<Response>> {
  const allow = [...allowed, ...(allowed.includes('GET') && !allowed.includes('HEAD') ? ['HEAD'] : []), 'OPTIONS'].join(', ');
  const refuse = apiRoute('405', (req: Request) =>
    req.method === 'HEAD'
      ? new Response(null, { status: 405, headers: { allow } })
      : jsonError(405, 'method_not_allowed', `${req.method} is not allowed here; allowed: ${allow}`, { headers: { allow } }),
  );
  const options = apiRoute('OPTIONS', () => new Response(null, { status: 204, headers: { allow } }));
  return {
    GET: refuse,
    HEAD: refuse,
    POST: refuse,
    PUT: refuse,
    PATCH: refuse,
    DELETE: refuse,
    OPTIONS: options,
  };
}
