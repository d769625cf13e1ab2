import { z } from 'zod';
import { endpointInputSchema, endpointUpdateSchema, instant } from '../../ledger';
import { apiKeyProcedure, router } from '../init';

/** Outbound webhook ids: `we_…` (endpoints), `msg_…` (messages), `wat_…` (attempts). */
const ourId = (prefix: string) => z.string().regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`), `expected an id starting with ${prefix}_`);
const byId = z.object({ id: ourId('we') }).strict();

/**
 * The API key's scope's outbound webhook endpoints (the Standard Webhooks spec). A
 * message is signed with the endpoint's `whsec_…` secret, which only `create` and
 * `rotateSecret` answer; list and get never do. See README "Outbound webhooks".
 */
export const webhookEndpointsRouter = router({
  /** `{ endpoint, secret }`: keep the secret, it is shown this once. */
  create: apiKeyProcedure.input(endpointInputSchema).mutation(({ ctx, input }) => ctx.ledger.webhooksOut.create(ctx.scope, input)),
  list: apiKeyProcedure.query(({ ctx }) => ctx.ledger.webhooksOut.list(ctx.scope)),
  get: apiKeyProcedure.input(byId).query(({ ctx, input }) => ctx.ledger.webhooksOut.get(ctx.scope, input.id)),
  /** Changes the URL, description, event types (null: all) or enabled; enabling clears a disable. */
  update: apiKeyProcedure
    .input(z.object({ id: ourId('we'), patch: endpointUpdateSchema }).strict())
    .mutation(({ ctx, input }) => ctx.ledger.webhooksOut.update(ctx.scope, input.id, input.patch)),
  delete: apiKeyProcedure.input(byId).mutation(({ ctx, input }) => ctx.ledger.webhooksOut.delete(ctx.scope, input.id)),
  /** `{ endpoint, secret }`: the new secret, shown once; the old one keeps signing for 24 hours. */
  rotateSecret: apiKeyProcedure.input(byId).mutation(({ ctx, input }) => ctx.ledger.webhooksOut.rotateSecret(ctx.scope, input.id)),
  /** `{ delivery, attempt }`: a signed `webhook_endpoint.test` message sent now, and what the endpoint answered. */
  sendTest: apiKeyProcedure.input(byId).mutation(({ ctx, input }) => ctx.ledger.webhooksOut.sendTest(ctx.scope, input.id)),
  /** `{ items, nextCursor }`: the endpoint's attempts, newest first (status, code, latency, the first KB of the answer). */
  attempts: apiKeyProcedure
    .input(
      z
        .object({
          endpointId: ourId('we'),
          cursor: ourId('wat').optional(),
          limit: z.number().int().min(1).max(100).default(50),
        })
        .strict(),
    )
    .query(({ ctx, input }) =>
      ctx.ledger.webhooksOut.attempts(ctx.scope, input.endpointId, { limit: input.limit, ...(input.cursor ? { cursor: input.cursor } : {}) }),
    ),
  /** Sends a message again (the same webhook-id), from the start of the retry schedule. */
  replay: apiKeyProcedure
    .input(z.object({ deliveryId: ourId('msg') }).strict())
    .mutation(({ ctx, input }) => ctx.ledger.webhooksOut.replay(ctx.scope, input.deliveryId)),
  /** `{ replayed }`: every failed message of the endpoint made since `since`, sent again. */
  replayFailed: apiKeyProcedure
    .input(z.object({ endpointId: ourId('we'), since: instant }).strict())
    .mutation(({ ctx, input }) => ctx.ledger.webhooksOut.replayFailed(ctx.scope, input.endpointId, input.since)),
});
