'use strict';
/**
 * Signing and POSTing one webhook attempt: the one implementation, used on the main
 * thread (sender.ts, signing.ts) and in the sender thread (send-thread.ts). Plain
 * CommonJS, because the thread loads it by its path at run time, with no bundler or
 * TypeScript loader in between; its types are in http-post.d.cts.
 *
 * - Signing, as the Standard Webhooks spec says, with its own package: the header lists
 *   every valid signature (both secrets for 24 h after a rotation).
 * - The POST goes to the address the SSRF guard checked (target-guard.ts, on the main
 *   thread): every lookup of the connection answers that address, the certificate is
 *   checked against the name. No redirect is followed (a 3xx is an answer like any other
 *   non-2xx); at most 64 KB of the answer is read and its first KB kept; given up after
 *   the timeout.
 * - A kept-alive connection the receiver closed while idle fails as soon as it is reused
 *   (the race Node's docs describe for req.reusedSocket): the POST is sent again at once
 *   on a fresh one, as a delivery is at least once anyway, rather than counted as failed.
 */
const http = require('node:http');
const https = require('node:https');
const { performance } = require('node:perf_hooks');
const { Webhook } = require('standardwebhooks');

const RESPONSE_BODY_LIMIT = 1024;
/** Bytes read of an answer before the connection is dropped: a huge answer is not waited for. */
const READ_LIMIT = 64 * 1024;

// Kept-alive connections: a busy endpoint is not paying a handshake per message.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxFreeSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxFreeSockets: 64 }),
};

/** Decoding a secret once per endpoint, not per attempt (a small cache). */
const signers = new Map();
function signer(secret) {
  let w = signers.get(secret);
  if (!w) {
    if (signers.size > 1000) signers.clear();
    signers.set(secret, (w = new Webhook(secret)));
  }
  return w;
}

function signedHeaders(messageId, at, body, secrets) {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((s) => signer(s).sign(messageId, at, body)).join(' '),
  };
}

/** How to reach a checked address of a URL: kept per URL and address. */
const routes = new Map();
function routeOf(rawUrl, address, family) {
  const key = `${rawUrl} ${address}`;
  let route = routes.get(key);
  if (route) return route;
  const url = new URL(rawUrl);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const pinned = (_host, opts, cb) => (opts && opts.all ? cb(null, [{ address, family }]) : cb(null, address, family));
  route = {
    transport: url.protocol === 'https:' ? https : http,
    request: {
      protocol: url.protocol,
      hostname: host,
      port: url.port || (url.protocol === 'https:' ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      agent: agents[url.protocol],
      lookup: pinned,
      ...(url.protocol === 'https:' ? { servername: host } : {}),
    },
  };
  if (routes.size >= 1000) routes.clear();
  routes.set(key, route);
  return route;
}

/** One POST: `done(code, body, error, stale)`, once. */
function postOnce(route, headers, body, timeoutMs, done) {
  let settled = false;
  const finish = (code, text, error, stale) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    done(code, text, error, stale);
  };
  const req = route.transport.request({ ...route.request, headers }, (res) => {
    const chunks = [];
    let read = 0;
    const end = () => finish(res.statusCode ?? null, Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT).toString('utf8'), null, false);
    res.on('data', (c) => {
      if (read < RESPONSE_BODY_LIMIT) chunks.push(c);
      read += c.length;
      if (read > READ_LIMIT) {
        res.destroy();
        end();
      }
    });
    res.on('end', end);
    res.on('error', end);
    res.on('close', end);
  });
  const timer = setTimeout(() => {
    req.destroy(new Error('timeout'));
    finish(null, '', `timeout after ${timeoutMs} ms`, false);
  }, timeoutMs);
  req.on('error', (e) => finish(null, '', e.code ?? e.message, Boolean(req.reusedSocket) && (e.code === 'ECONNRESET' || e.code === 'EPIPE')));
  req.end(body);
}

/**
 * POSTs `body` with `headers` (the signed ones) to `address` for `rawUrl`; `done` gets the
 * answer's status, its first KB, the latency from `started` (performance.now()) and an
 * error, once.
 */
function postTo(rawUrl, address, family, headers, body, timeoutMs, started, done) {
  const route = routeOf(rawUrl, address, family);
  const all = {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'user-agent': 'Ledger-Webhooks/1',
  };
  const reply = (code, text, error) => done(code, text, Math.round(performance.now() - started), error);
  postOnce(route, all, body, timeoutMs, (code, text, error, stale) => {
    if (stale) postOnce(route, all, body, timeoutMs, reply);
    else reply(code, text, error);
  });
}

module.exports = { RESPONSE_BODY_LIMIT, signedHeaders, postTo };
