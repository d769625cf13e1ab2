import { performance } from 'node:perf_hooks';
import { postTo } from './http-post.cjs';
import { resolveTarget, resolveTargetNow, type ResolvedTarget, type TargetGuard } from './target-guard';

/** What one POST got: an answer (any status), or none (timeout, refused target, network error). */
export interface SendResult {
  responseCode: number | null;
  /** The first KB of the answer. */
  responseBody: string;
  latencyMs: number;
  error: string | null;
}

/**
 * POSTs a body to an endpoint on this thread: the host resolved and checked by the guard,
 * then http-post.cjs (the one implementation of the request, shared with the sender
 * thread) connects to the checked address, never looking it up again.
 */
export function postWebhook(rawUrl: string, body: string, headers: Record<string, string>, options: { timeoutMs: number; guard: TargetGuard }): Promise<SendResult> {
  const started = performance.now();
  // An address literal (or a refused URL) is answered from the guard's cache, without a promise.
  const now = resolveTargetNow(rawUrl, options.guard);
  if (now) return send(rawUrl, now, body, headers, options.timeoutMs, started);
  return resolveTarget(rawUrl, options.guard).then((target) => send(rawUrl, target, body, headers, options.timeoutMs, started));
}

function send(rawUrl: string, target: ResolvedTarget, body: string, headers: Record<string, string>, timeoutMs: number, started: number): Promise<SendResult> {
  if (!target.ok) return Promise.resolve({ responseCode: null, responseBody: '', latencyMs: Math.round(performance.now() - started), error: target.error });
  return new Promise((resolve) =>
    postTo(rawUrl, target.address, target.family, headers, body, timeoutMs, started, (responseCode, responseBody, latencyMs, error) =>
      resolve({ responseCode, responseBody, latencyMs, error }),
    ),
  );
}
