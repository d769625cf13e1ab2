import http from 'node:http';

/**
 * A small closed-loop load generator: `concurrency` connections (keep-alive) each send
 * the next request when the previous answered, for `seconds`. Returns completed
 * requests per second and the count of non-2xx answers.
 */
export async function load(opts: {
  url: string;
  method?: 'GET' | 'POST';
  /** The same for every request, or made per request (a signature over its body). */
  headers?: Record<string, string> | ((i: number, body: string | undefined) => Record<string, string>);
  body?: (i: number) => string;
  concurrency: number;
  seconds: number;
}): Promise<{ perSecond: number; requests: number; failures: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const u = new URL(opts.url);
  const deadline = performance.now() + opts.seconds * 1000;
  let requests = 0;
  let failures = 0;
  let seq = 0;
  const one = (i: number) =>
    new Promise<number>((resolve, reject) => {
      const body = opts.body?.(i);
      const headers = typeof opts.headers === 'function' ? opts.headers(i, body) : opts.headers;
      const req = http.request(
        { agent, host: u.hostname, port: u.port, path: u.pathname + u.search, method: opts.method ?? 'GET', headers: { ...headers, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (performance.now() < deadline) {
        const status = await one(seq++);
        requests++;
        if (status < 200 || status >= 300) failures++;
      }
    }),
  );
  const elapsed = performance.now() - t0;
  agent.destroy();
  return { perSecond: (requests / elapsed) * 1000, requests, failures };
}
