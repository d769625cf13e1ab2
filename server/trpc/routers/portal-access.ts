import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { invalid, text } from '../../ledger';
import { sendMail } from '../../portal/mail';
import { PORTAL_ROLES } from '../../portal/session';
import { createInvitation, createPortalSession, listMembers, membershipsOf, removeMember } from '../../portal/store';
import { portalDeps, publicUrlOf } from '../../portal/database';
import { apiKeyProcedure, portalProcedure, router } from '../init';
import { idOf } from '../inputs';

const httpUrl = text(2000).pipe(z.url({ protocol: /^https?$/, error: 'an http(s) URL' }));

/** Owners only: inviting and removing users. */
const ownerProcedure = portalProcedure.use(({ ctx, next }) => {
  if (ctx.portal.role !== 'owner') {
    throw new TRPCError({ code: 'FORBIDDEN', message: `only an owner manages the users of this billing account (you are ${ctx.portal.role === 'billing' ? 'a billing user' : 'a member'})` });
  }
  return next();
});

/**
 * Who signs in to the portal (merged into the `portal` namespace in root.ts):
 * - `createSession` (API key): a single-use portal URL for one customer, valid 5 minutes;
 * - `me`, `memberships` (portal): who is signed in, for which customer, and the others;
 * - `members.list/invite/remove` (portal, owners): the customer's users.
 */
export const portalAccessRouter = router({
  /**
   * As Stripe's billing portal sessions: the product team's backend sends its user to
   * `url`, which signs them in to this customer's portal (billing role) for at most an
   * hour, with a link back to `returnUrl`. The URL works once, within 5 minutes.
   */
  createSession: apiKeyProcedure
    .input(z.object({ customerId: idOf('customer'), returnUrl: httpUrl.optional() }).strict())
    .mutation(async ({ ctx, input }) => {
      const customer = await ctx.ledger.customers.get(ctx.scope, input.customerId); // NOT_FOUND for another scope's
      const { db, env } = portalDeps(ctx.ledger);
      const { token, expiresAt } = await createPortalSession(db, ctx.scope, { customerId: customer.id, returnUrl: input.returnUrl ?? null }, ctx.ledger.clock.now());
      return { url: `${publicUrlOf(env)}/portal/session/${token}`, expiresAt };
    }),

  /** Who is signed in, for which customer, with which role; a portal session's return URL and end. */
  me: portalProcedure.query(({ ctx }) => ({
    userId: ctx.portal.userId,
    email: ctx.portal.email,
    customerId: ctx.portal.customerId,
    role: ctx.portal.role,
    returnUrl: ctx.portal.returnUrl,
    expiresAt: ctx.portal.expiresAt,
  })),

  /** Every customer the signed-in user belongs to (a portal session: its one customer). */
  memberships: portalProcedure.query(async ({ ctx }) => {
    if (ctx.portal.returnUrl !== null || ctx.portal.expiresAt !== null) {
      return [{ scope: ctx.scope, customerId: ctx.portal.customerId, role: ctx.portal.role, active: true }];
    }
    const db = portalDeps(ctx.ledger).db;
    return (await membershipsOf(db, ctx.portal.userId)).map((m) => ({
      ...m,
      active: m.scope.tenantId === ctx.scope.tenantId && m.scope.appId === ctx.scope.appId && m.customerId === ctx.portal.customerId,
    }));
  }),

  members: router({
    list: ownerProcedure.query(async ({ ctx }) => listMembers(portalDeps(ctx.ledger).db, ctx.scope, ctx.portal.customerId, ctx.ledger.clock.now())),
    /**
     * Invites an email address with a role: they get a link to sign in, and signing in
     * with that address makes them a user of this customer. Inviting again replaces the
     * open invitation.
     */
    invite: ownerProcedure
      .input(z.object({ email: z.email().max(320), role: z.enum(PORTAL_ROLES) }).strict())
      .mutation(async ({ ctx, input }) => {
        if (ctx.portal.expiresAt !== null) throw invalid('a portal session cannot invite users: sign in as an owner');
        const deps = portalDeps(ctx.ledger);
        const db = deps.db;
        const customer = await ctx.ledger.customers.get(ctx.scope, ctx.portal.customerId);
        const { token, expiresAt } = await createInvitation(db, ctx.scope, { customerId: customer.id, email: input.email, role: input.role, invitedBy: ctx.portal.userId }, ctx.ledger.clock.now());
        const url = `${publicUrlOf(deps.env)}/portal/sign-in?invitation=${token}`;
        await sendMail(deps, {
          to: input.email,
          subject: `You are invited to ${customer.name}'s billing portal`,
          text: `${ctx.portal.email} invited you to ${customer.name}'s billing portal as ${input.role}.\n\nSign in with this email address:\n\n${url}\n\nThe invitation is valid until ${expiresAt.toISOString()}.`,
          url,
        });
        return { email: input.email.toLowerCase(), role: input.role, expiresAt };
      }),
    /** Removes a user from this customer; the last owner cannot be removed. */
    remove: ownerProcedure
      .input(z.object({ userId: z.string().min(1).max(200) }).strict())
      .mutation(async ({ ctx, input }) => {
        await removeMember(portalDeps(ctx.ledger).db, ctx.scope, ctx.portal.customerId, input.userId);
        return { removed: input.userId };
      }),
  }),
});
