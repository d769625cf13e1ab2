import { TRPCError } from '@trpc/server';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
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
 * Errors keep tRPC's envelope; 503 and 429 carry `retry-after`.
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
      return createContext(request, rt, { calls: info.calls.length });
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
