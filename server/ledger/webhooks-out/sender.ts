import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { resolveTarget, resolveTargetNow, type ResolvedTarget, type TargetGuard } from './target-guard';

/** What one POST got: an answer (any status), or none (timeout, refused target, network error). */
export interface SendResult {
  responseCode: number | null;
  /** The first KB of the answer. */
  responseBody: string;
  latencyMs: number;
  error: string | null;
}

export const RESPONSE_BODY_LIMIT = 1024;
/** Bytes read of an answer before the connection is dropped: a huge answer is not waited for. */
const READ_LIMIT = 64 * 1024;

// Kept-alive connections: a busy endpoint is not paying a handshake per message.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxFreeSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxFreeSockets: 64 }),
};

/**
 * POSTs a body to an endpoint: the host resolved and checked by the guard, the
 * connection made to the checked address (never a second lookup), no redirect followed
 * (a 3xx is an answer like any other non-2xx), given up after `timeoutMs`.
 */
export function postWebhook(rawUrl: string, body: string, headers: Record<string, string>, options: { timeoutMs: number; guard: TargetGuard }): Promise<SendResult> {
  // A kept-alive connection the receiver closed while idle fails as soon as it is reused
  // (the race Node's docs describe for req.reusedSocket): sent again at once on a fresh
  // one, as a delivery is at least once anyway, rather than counted as a failed attempt.
  return postOnce(rawUrl, body, headers, options).then((first) => (first.staleSocket ? postOnce(rawUrl, body, headers, options).then(withoutStale) : first));
}

const withoutStale = ({ staleSocket: _s, ...result }: Attempted): SendResult => result;

/** One POST's result; `staleSocket` (only when true) says a reused connection was found closed. */
type Attempted = SendResult & { staleSocket?: true };

function postOnce(rawUrl: string, body: string, headers: Record<string, string>, options: { timeoutMs: number; guard: TargetGuard }): Promise<Attempted> {
  const started = performance.now();
  // An address literal (or a refused URL) is answered from the guard's cache, without a promise.
  const now = resolveTargetNow(rawUrl, options.guard);
  if (now) return send(now, body, headers, options.timeoutMs, started);
  return resolveTarget(rawUrl, options.guard).then((target) => send(target, body, headers, options.timeoutMs, started));
}

/** How to reach a checked target: kept per target (the guard keeps address literals' targets). */
interface Route {
  transport: typeof http | typeof https;
  request: http.RequestOptions;
}
const routes = new WeakMap<object, Route>();

function routeOf(target: ResolvedTarget & { ok: true }): Route {
  let route = routes.get(target);
  if (route) return route;
  const { url, address, family } = target;
  // Every lookup of this connection answers the address just checked.
  const pinned: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else cb(null, address, family);
  };
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  route = {
    transport: url.protocol === 'https:' ? https : http,
    request: {
      protocol: url.protocol,
      hostname: host,
      port: url.port || (url.protocol === 'https:' ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      agent: agents[url.protocol as 'http:' | 'https:'],
      lookup: pinned,
      // The certificate is checked against the name, not the address connected to.
      ...(url.protocol === 'https:' ? { servername: host } : {}),
    },
  };
  routes.set(target, route);
  return route;
}

function send(target: ResolvedTarget, body: string, headers: Record<string, string>, timeoutMs: number, started: number): Promise<Attempted> {
  const elapsed = () => Math.round(performance.now() - started);
  if (!target.ok) return Promise.resolve({ responseCode: null, responseBody: '', latencyMs: elapsed(), error: target.error });
  const route = routeOf(target);
  return new Promise<Attempted>((resolve) => {
    let settled = false;
    const finish = (responseCode: number | null, responseBody: string, error: string | null, stale = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const result: Attempted = { responseCode, responseBody, latencyMs: elapsed(), error };
      if (stale) result.staleSocket = true;
      resolve(result);
    };
    const req = route.transport.request(
      {
        ...route.request,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'Ledger-Webhooks/1',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let read = 0;
        res.on('data', (c: Buffer) => {
          if (read < RESPONSE_BODY_LIMIT) chunks.push(c);
          read += c.length;
          if (read > READ_LIMIT) {
            res.destroy();
            done();
          }
        });
        const done = () => finish(res.statusCode ?? null, Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT).toString('utf8'), null);
        res.on('end', done);
        res.on('error', done);
        res.on('close', done);
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error('timeout'));
      finish(null, '', `timeout after ${timeoutMs} ms`);
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish(null, '', e.code ?? e.message, req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')));
    req.end(body);
  });
}
