import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * A webhook receiver of the tests' own: a real HTTP server that verifies each message
 * with the `standardwebhooks` package (Webhook.verify, as a customer's receiver would)
 * against the secrets the test gives it for a path, and answers what the test asks:
 * 200 by default, a status (and body) queued per path, or a stall the test releases.
 */
export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Verified with each secret given for the path, in order. */
  verifiedWith: boolean[];
  payload: { id?: string; type: string; timestamp: string; data: Record<string, unknown> };
}

export type Answer = { status: number; body?: string; headers?: Record<string, string> } | { stall: true };

export interface Receiver {
  url(path: string): string;
  port: number;
  received: Received[];
  of(path: string): Received[];
  /** Secrets a path's messages are verified with. */
  secrets(path: string, ...secrets: string[]): void;
  /** Answers for the next messages of a path, in order (then `always`, else 200). */
  next(path: string, ...answers: Answer[]): void;
  always(path: string, answer: Answer | null): void;
  /** Requests of a path held open right now, and the most ever at once. */
  inFlight(path: string): number;
  maxInFlight(path: string): number;
  /** Lets every stalled request answer 200. */
  release(): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const secrets = new Map<string, string[]>();
  const queued = new Map<string, Answer[]>();
  const standing = new Map<string, Answer>();
  const open = new Map<string, number>();
  const most = new Map<string, number>();
  const stalled: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const verifiedWith = (secrets.get(path) ?? []).map((s) => {
        try {
          new Webhook(s).verify(body, headers);
          return true;
        } catch {
          return false;
        }
      });
      let payload: Received['payload'];
      try {
        payload = JSON.parse(body) as Received['payload'];
      } catch {
        payload = { type: '(not json)', timestamp: '', data: {} };
      }
      received.push({ path, headers, body, verifiedWith, payload });
      const answer = queued.get(path)?.shift() ?? standing.get(path) ?? { status: 200, body: 'ok' };
      const reply = (a: { status: number; body?: string; headers?: Record<string, string> }) => {
        res.writeHead(a.status, a.headers ?? {});
        res.end(a.body ?? '');
      };
      if ('stall' in answer) {
        open.set(path, (open.get(path) ?? 0) + 1);
        most.set(path, Math.max(most.get(path) ?? 0, open.get(path)!));
        const done = () => {
          open.set(path, open.get(path)! - 1);
          if (!res.destroyed) reply({ status: 200, body: 'late' });
        };
        stalled.push(done);
        res.on('close', () => {
          const i = stalled.indexOf(done);
          if (i >= 0) {
            stalled.splice(i, 1);
            open.set(path, open.get(path)! - 1);
          }
        });
      } else reply(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    of: (path) => received.filter((r) => r.path === path),
    secrets: (path, ...s) => void secrets.set(path, s),
    next: (path, ...answers) => void queued.set(path, [...(queued.get(path) ?? []), ...answers]),
    always: (path, answer) => void (answer ? standing.set(path, answer) : standing.delete(path)),
    inFlight: (path) => open.get(path) ?? 0,
    maxInFlight: (path) => most.get(path) ?? 0,
    release: () => {
      for (const done of stalled.splice(0)) done();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const done of stalled.splice(0)) done();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
