import { initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { ZodError } from 'zod';
import { currentRequestId } from '../http/request-id';
import { isLedgerError, withRequest, type Actor } from '../ledger';
import { canManageBilling } from '../portal/session';
import type { Context } from './context';
import { INTERNAL_MESSAGE, ledgerCodeOf, trpcErrorOf } from './errors';

/** The one place initTRPC runs. */
const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    // No stack, ever: it names files and, for a database error, carries the query.
    const { stack: _stack, ...data } = shape.data as typeof shape.data & { stack?: string };
    return {
      ...shape,
      message:
        error.code === 'INTERNAL_SERVER_ERROR'
          ? INTERNAL_MESSAGE // a bug: the details are in the log, under the request id
          : cause instanceof ZodError
            ? // zod's own message is a JSON dump; say which fields are wrong instead.
              `invalid input: ${cause.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`
            : shape.message,
      data: {
        ...data,
        // A code a program can branch on, and the fields at fault.
        ledgerCode: ledgerCodeOf(error),
        issues: isLedgerError(cause)
          ? cause.issues
          : cause instanceof ZodError
            ? cause.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
            : [],
        requestId: currentRequestId() ?? null,
      },
    };
  },
});

/**
 * Errors become tRPC errors here, once, for every procedure: engine errors by their code,
 * the database unavailable as SERVICE_UNAVAILABLE, anything else INTERNAL_SERVER_ERROR
 * with a generic message (server/trpc/errors.ts).
 */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const mapped = trpcErrorOf(result.error);
    if (mapped !== result.error) throw mapped;
  }
  return result;
});

/**
 * Who is calling, for the event log and the audit trail: every change a procedure makes
 * records its actor (the API key, or the portal user), the request id and the IP.
 */
const requestContext = t.middleware(({ ctx, next }) => {
  const auth = ctx.auth;
  if (!auth) return next();
  const actor: Actor = auth.kind === 'api_key' ? { type: 'api_key', id: auth.keyId } : { type: 'portal_user', id: auth.portal.userId, email: auth.portal.email };
  return withRequest({ actor, requestId: currentRequestId() ?? null, ip: ctx.ip ?? null }, () => next());
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapErrors).use(requestContext);

/** Procedures for product teams: an API key is required and fixes the scope. */
export const apiKeyProcedure = publicProcedure.use(({ ctx, next }) => {
  if (ctx.auth?.kind !== 'api_key') {
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'a valid API key is required: Authorization: Bearer ldg_…' });
  }
  return next({ ctx: { ...ctx, scope: ctx.auth.scope } });
});

/**
 * Portal procedures: a signed-in portal user; the scope and the customer come from the
 * session (ctx.portal), never from the input.
 */
export const portalProcedure = publicProcedure.use(({ ctx, next }) => {
  if (ctx.auth?.kind !== 'portal') {
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'sign in to the portal first' });
  }
  return next({ ctx: { ...ctx, scope: ctx.auth.scope, portal: ctx.auth.portal } });
});

/** Portal writes that move money or billing details: `owner` and `billing` only. */
export const portalBillingProcedure = portalProcedure.use(({ ctx, next }) => {
  if (!canManageBilling(ctx.portal.role)) {
    throw new TRPCError({ code: 'FORBIDDEN', message: `a ${ctx.portal.role} may see billing but not change it: ask an owner or a billing user` });
  }
  return next();
});
