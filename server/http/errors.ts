import type { FieldIssue } from '../ledger';
import { INTERNAL_MESSAGE, publicErrorOf } from '../trpc/errors';
import { currentRequestId } from './request-id';

/**
 * The answers of every route outside tRPC (tRPC's envelope is built from the same
 * decisions, server/trpc/errors.ts). Every error body is `{ error, code, requestId,
 * issues? }`: an engine error with its status and code; 429 `rate_limited` and 503
 * `unavailable` with `retry-after`; anything else is a bug, logged with the request id and
 * answered 500 `internal` with a generic message. No query, parameter or stack ever
 * reaches the caller.
 */

/** A JSON error answer with the request id in the body (the header is added by apiRoute). */
export function jsonError(
  status: number,
  code: string,
  message: string,
  extra: { issues?: FieldIssue[]; retryAfterS?: number; headers?: Record<string, string> } = {},
): Response {
  const headers: Record<string, string> = { 'cache-control': 'no-store', ...extra.headers };
  if (extra.retryAfterS !== undefined) headers['retry-after'] = String(extra.retryAfterS);
  const body = { error: message, code, requestId: currentRequestId() ?? null, ...(extra.issues ? { issues: extra.issues } : {}) };
  return Response.json(body, { status, headers });
}

/** The answer to any error thrown while serving a request; unexpected ones are logged. */
export function errorResponse(e: unknown, where: string): Response {
  const p = publicErrorOf(e);
  if (p) return jsonError(p.status, p.code, p.message, { issues: p.issues?.length ? p.issues : undefined, retryAfterS: p.retryAfterS });
  logUnexpected(e, where);
  return jsonError(500, 'internal', INTERNAL_MESSAGE);
}

export function logUnexpected(e: unknown, where: string): void {
  console.error(`[api] request ${currentRequestId() ?? '-'} ${where}: unexpected error`, e);
}
