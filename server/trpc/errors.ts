import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { ZodError } from 'zod';
import { isLedgerError, type FieldIssue, type LedgerError, type LedgerErrorCode } from '../ledger';
import { isRateLimited } from '../http/rate-limit';
import { RETRY_AFTER_UNAVAILABLE_S, unavailability } from '../http/unavailable';

/**
 * The one mapping from errors to what a caller sees: tRPC codes, HTTP statuses, the
 * `ledgerCode` a program branches on, and a message a person can read. tRPC derives the
 * HTTP status from its code; route handlers outside tRPC use `publicErrorOf`
 * (server/http/errors.ts builds their answers).
 */
const MAP: Record<LedgerErrorCode, { trpc: TRPC_ERROR_CODE_KEY; http: number }> = {
  invalid: { trpc: 'BAD_REQUEST', http: 400 },
  unauthorized: { trpc: 'UNAUTHORIZED', http: 401 },
  not_found: { trpc: 'NOT_FOUND', http: 404 },
  conflict: { trpc: 'CONFLICT', http: 409 },
  illegal_state: { trpc: 'PRECONDITION_FAILED', http: 412 },
  limit_exceeded: { trpc: 'TOO_MANY_REQUESTS', http: 429 },
};

export const UNAVAILABLE_MESSAGE = 'the database is unavailable; retry later';
export const INTERNAL_MESSAGE = 'internal error; quote the request id when you report it';

export function toTRPCError(e: LedgerError): TRPCError {
  return new TRPCError({ code: MAP[e.code].trpc, message: e.message, cause: e });
}

export function httpStatusFor(code: LedgerErrorCode): number {
  return MAP[code].http;
}

/** Codes beyond the engine's: the boundary's own failures. */
export type BoundaryCode = 'unavailable' | 'rate_limited' | 'internal';

export interface PublicError {
  status: number;
  code: LedgerErrorCode | BoundaryCode;
  message: string;
  issues?: FieldIssue[];
  retryAfterS?: number;
}

/**
 * The public face of an error: an engine error as it is; over the rate limit, 429
 * `rate_limited`; the database unavailable (server/http/unavailable.ts), 503
 * `unavailable`. Null for anything else: a bug, answered 500 with a generic message.
 */
export function publicErrorOf(e: unknown): PublicError | null {
  if (isLedgerError(e)) {
    const status = httpStatusFor(e.code);
    return { status, code: e.code, message: e.message, issues: e.issues };
  }
  if (isRateLimited(e)) return { status: 429, code: 'rate_limited', message: e.message, retryAfterS: e.retryAfterS };
  if (unavailability(e)) return { status: 503, code: 'unavailable', message: UNAVAILABLE_MESSAGE, retryAfterS: RETRY_AFTER_UNAVAILABLE_S };
  return null;
}

/** Any error thrown in a procedure or in createContext, as the TRPCError the caller gets. */
export function trpcErrorOf(e: unknown): TRPCError {
  if (e instanceof TRPCError) {
    // tRPC wraps what a procedure throws in an INTERNAL_SERVER_ERROR: classify its cause.
    if (e.code !== 'INTERNAL_SERVER_ERROR' || e.cause === undefined || e.cause === e) return e;
    return trpcErrorOf(e.cause);
  }
  if (isLedgerError(e)) return toTRPCError(e);
  const p = publicErrorOf(e);
  if (p?.code === 'rate_limited') return new TRPCError({ code: 'TOO_MANY_REQUESTS', message: p.message, cause: e as Error });
  if (p?.code === 'unavailable') return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: p.message, cause: e as Error });
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: INTERNAL_MESSAGE, cause: e });
}

/** `data.ledgerCode` of a tRPC error: the engine's code, or the boundary's; null for the rest. */
export function ledgerCodeOf(error: TRPCError): string | null {
  const cause = error.cause;
  if (isLedgerError(cause)) return cause.code;
  if (cause instanceof ZodError || error.code === 'BAD_REQUEST' || error.code === 'PARSE_ERROR') return 'invalid';
  if (error.code === 'SERVICE_UNAVAILABLE') return 'unavailable';
  if (isRateLimited(cause)) return 'rate_limited';
  if (error.code === 'INTERNAL_SERVER_ERROR') return 'internal';
  if (error.code === 'PAYLOAD_TOO_LARGE') return 'payload_too_large';
  if (error.code === 'UNSUPPORTED_MEDIA_TYPE') return 'unsupported_media_type';
  if (error.code === 'UNAUTHORIZED') return 'unauthorized';
  if (error.code === 'NOT_FOUND') return 'not_found';
  if (error.code === 'METHOD_NOT_SUPPORTED') return 'method_not_allowed';
  return null;
}

/** Seconds for `retry-after`, when the error says when to retry. */
export function retryAfterOf(error: TRPCError): number | null {
  if (isRateLimited(error.cause)) return error.cause.retryAfterS;
  if (error.code === 'SERVICE_UNAVAILABLE') return RETRY_AFTER_UNAVAILABLE_S;
  return null;
}
