import { z } from 'zod';
import { instant, requiredText } from '../../ledger';
import { apiKeyProcedure, router } from '../init';
import { idOf } from '../inputs';

/**
 * The key's scope's audit trail, newest first: who changed what (API key, portal user,
 * provider, system), the fields before and after, the request id and IP. Read-only: the
 * trail has no update or delete (kept LEDGER_AUDIT_RETENTION_DAYS, 365 by default).
 */
export const auditRouter = router({
  list: apiKeyProcedure
    .input(
      z
        .object({
          /** The entity's id (`inv_…`, `cst_…`). */
          entityId: requiredText(200).optional(),
          /** The entity's kind: `invoice`, `customer`, `payment_method`, `portal_member` … */
          entityType: requiredText(60).optional(),
          actorType: z.enum(['api_key', 'portal_user', 'provider', 'system']).optional(),
          actorId: requiredText(200).optional(),
          /** The action, as the event log names it: `invoice.paid`. */
          action: requiredText(80).optional(),
          /** Half-open [from, to). */
          from: instant.optional(),
          to: instant.optional(),
          limit: z.number().int().min(1).max(100).default(20),
          cursor: idOf('audit').optional(),
        })
        .strict()
        .default({ limit: 20 }),
    )
    .query(({ ctx, input }) => {
      const { limit, cursor, ...query } = input;
      return ctx.ledger.audit.list(ctx.scope, query, { limit, ...(cursor ? { cursor } : {}) });
    }),
});
