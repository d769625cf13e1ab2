import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { resolveTarget, type TargetGuard } from './target-guard';

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
export async function postWebhook(rawUrl: string, body: string, headers: Record<string, string>, options: { timeoutMs: number; guard: TargetGuard }): Promise<SendResult> {
  const first = await postOnce(rawUrl, body, headers, options);
  // A kept-alive connection the receiver closed while idle fails as soon as it is reused
  // (the race Node's docs describe for req.reusedSocket): sent again at once on a fresh
  // one, as a delivery is at least once anyway, rather than counted as a failed attempt.
  const { staleSocket, ...result } = first.staleSocket ? await postOnce(rawUrl, body, headers, options) : first;
  return result;
}

async function postOnce(rawUrl: string, body: string, headers: Record<string, string>, options: { timeoutMs: number; guard: TargetGuard }): Promise<SendResult & { staleSocket?: boolean }> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const target = await resolveTarget(rawUrl, options.guard);
  if (!target.ok) return { responseCode: null, responseBody: '', latencyMs: elapsed(), error: target.error };
  const { url, address, family } = target;
  // Every lookup of this connection answers the address just checked.
  const pinned: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else cb(null, address, family);
  };
  const transport = url.protocol === 'https:' ? https : http;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise<SendResult & { staleSocket?: boolean }>((resolve) => {
    let settled = false;
    const finish = (r: Omit<SendResult, 'latencyMs'> & { staleSocket?: boolean }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, latencyMs: elapsed() });
    };
    const req = transport.request(
      {
        protocol: url.protocol,
        hostname: host,
        port: url.port || (url.protocol === 'https:' ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        agent: agents[url.protocol as 'http:' | 'https:'],
        lookup: pinned,
        // The certificate is checked against the name, not the address connected to.
        ...(url.protocol === 'https:' ? { servername: host } : {}),
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
        const done = () =>
          finish({ responseCode: res.statusCode ?? null, responseBody: Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT).toString('utf8'), error: null });
        res.on('end', done);
        res.on('error', done);
        res.on('close', done);
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error('timeout'));
      finish({ responseCode: null, responseBody: '', error: `timeout after ${options.timeoutMs} ms` });
    }, options.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) =>
      finish({ responseCode: null, responseBody: '', error: e.code ?? e.message, staleSocket: req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE') }));
    req.end(body);
  });
}
