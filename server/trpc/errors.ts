import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import type { LedgerError, LedgerErrorCode } from '../ledger';

/**
 * The one mapping from engine error codes to tRPC codes and HTTP statuses. tRPC derives
 * the HTTP status from its code; route handlers outside tRPC use `httpStatusFor`.
 */
const MAP: Record<LedgerErrorCode, { trpc: TRPC_ERROR_CODE_KEY; http: number }> = {
  invalid: { trpc: 'BAD_REQUEST', http: 400 },
  unauthorized: { trpc: 'UNAUTHORIZED', http: 401 },
  not_found: { trpc: 'NOT_FOUND', http: 404 },
  conflict: { trpc: 'CONFLICT', http: 409 },
  illegal_state: { trpc: 'PRECONDITION_FAILED', http: 412 },
  limit_exceeded: { trpc: 'TOO_MANY_REQUESTS', http: 429 },
};

export function toTRPCError(e: LedgerError): TRPCError {
  return new TRPCError({ code: MAP[e.code].trpc, message: e.message, cause: e });
}

export function httpStatusFor(code: LedgerErrorCode): number {
  return MAP[code].http;
}
