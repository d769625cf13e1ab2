import { TRPCError } from '@trpc/server';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import type { Env } from '../env';
import type { Runtime } from '../runtime';
import { createContext } from '../trpc/context';
import { retryAfterOf, trpcErrorOf } from '../trpc/errors';
import { appRouter } from '../trpc/root';
import { cappedStream, refuseByHeaders } from './body';
import { logUnexpected } from './errors';

/**
 * The tRPC API. Limits: a batch holds at most LEDGER_TRPC_MAX_BATCH calls (400 beyond);
 * a POST body must be JSON (415) of at most LEDGER_MAX_BODY_BYTES (413, refused from its
 * content-length or once that many bytes arrived); the key's rate limit counts each call.
 * Errors keep tRPC's envelope; 503 and 429 carry `retry-after`. A POST signed in by the
 * portal's cookie must come from the app's own pages (refuseCrossSite below).
 */
export function handleTrpc(rt: Runtime, req: Request): Promise<Response> {
  const maxBytes = rt.env.LEDGER_MAX_BODY_BYTES;
  const tooLarge = () => new TRPCError({ code: 'PAYLOAD_TOO_LARGE', message: `the body is larger than ${maxBytes} bytes` });
  // tRPC reads the body itself: hand it one that stops at the cap.
  const request =
    req.method === 'POST' && req.body
      ? new Request(req.url, { method: 'POST', headers: req.headers, body: cappedStream(req.body, maxBytes, tooLarge), signal: req.signal, duplex: 'half' } as RequestInit)
      : req;
  return fetchRequestHandler({
    endpoint: '/api/trpc',
    req: request,
    router: appRouter,
    maxBatchSize: rt.env.LEDGER_TRPC_MAX_BATCH,
    createContext: async ({ info }) => {
      if (req.method === 'POST') {
        const refused = refuseByHeaders(req, maxBytes, { requireJson: true });
        if (refused) throw new TRPCError({ code: refused.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'UNSUPPORTED_MEDIA_TYPE', message: refused.message });
      }
      const ctx = await createContext(request, rt, { calls: info.calls.length });
      if (ctx.auth?.kind === 'portal' && req.method === 'POST') refuseCrossSite(req, rt.env);
      return ctx;
    },
    responseMeta({ errors }) {
      const waits = errors.map(retryAfterOf).filter((s): s is number => s !== null);
      return waits.length ? { headers: { 'retry-after': String(Math.max(...waits)) } } : {};
    },
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR' && trpcErrorOf(error).code === 'INTERNAL_SERVER_ERROR') logUnexpected(error.cause ?? error, `trpc ${path ?? '?'}`);
    },
  });
}

/**
 * CSRF: a browser sends the portal's session cookie with any site's request to us, so a
 * POST (every mutation) signed in by that cookie alone is done only when it says it comes
 * from our own pages: its `Origin` names this app's host, or, from a browser that sent no
 * Origin, `Sec-Fetch-Site: same-origin`. Our host is the one the request was sent to
 * (`X-Forwarded-Host` behind a proxy, else `Host`) or the configured public URL
 * (LEDGER_PUBLIC_URL, AUTH_URL). A cross-site page cannot forge either header: browsers
 * set Origin, Host and Sec-Fetch-* themselves, and a custom X-Forwarded-Host from another
 * site needs a CORS preflight this API never grants. Reads (GET) change nothing and are
 * not checked; API-key calls (server to server, no Origin) never get here.
 */
export function refuseCrossSite(req: Request, env: Env): void {
  const origin = req.headers.get('origin');
  if (origin === null) {
    if (req.headers.get('sec-fetch-site') === 'same-origin') return;
    throw crossSite('it carries neither an Origin header nor Sec-Fetch-Site: same-origin');
  }
  const from = urlOf(origin);
  if (!from || (from.protocol !== 'http:' && from.protocol !== 'https:')) throw crossSite(`its Origin "${origin}" is not a web page's`);
  if (!ownHosts(req, env, from.protocol).includes(from.host)) throw crossSite(`its Origin ${from.origin} is not this app's`);
}

function crossSite(why: string): TRPCError {
  return new TRPCError({
    code: 'FORBIDDEN',
    message: `cross-site request refused: a portal session may change things only from the portal's own pages, and ${why}; nothing was done`,
  });
}

/** The hosts (host[:port], the scheme's default port left out) this app answers as. */
function ownHosts(req: Request, env: Env, protocol: string): string[] {
  // X-Forwarded-Host may list each proxy's view: the first is the one the browser used.
  const forwarded = req.headers.get('x-forwarded-host')?.split(',')[0]?.trim();
  const sent = [forwarded, req.headers.get('host')].filter((h): h is string => !!h).map((h) => urlOf(`${protocol}//${h}`)?.host);
  const configured = [env.LEDGER_PUBLIC_URL, env.AUTH_URL].map((u) => (u ? urlOf(u)?.host : undefined));
  return [...sent, ...configured].filter((h): h is string => !!h);
}

function urlOf(s: string): URL | null {
  try {
    return new URL(s);
  } catch {
    return null;
  }
}
