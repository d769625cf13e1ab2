import { initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { ZodError } from 'zod';
import { isLedgerError } from '../ledger';
import type { Context } from './context';
import { toTRPCError } from './errors';

/** The one place initTRPC runs. */
const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    return {
      ...shape,
      // zod's own message is a JSON dump; say which fields are wrong instead.
      message:
        cause instanceof ZodError
          ? `invalid input: ${cause.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`
          : shape.message,
      data: {
        ...shape.data,
        // A code a program can branch on, and the fields at fault.
        ledgerCode: isLedgerError(cause) ? cause.code : null,
        issues: isLedgerError(cause)
          ? cause.issues
          : cause instanceof ZodError
            ? cause.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
            : [],
      },
    };
  },
});

/** Engine errors become tRPC errors here, once, for every procedure. */
const mapEngineErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && isLedgerError(result.error.cause)) throw toTRPCError(result.error.cause);
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapEngineErrors);

/** Procedures for product teams: an API key is required and fixes the scope. */
export const apiKeyProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.auth) {
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'a valid API key is required: Authorization: Bearer ldg_…' });
  }
  return next({ ctx: { ...ctx, scope: ctx.auth.scope } });
});
