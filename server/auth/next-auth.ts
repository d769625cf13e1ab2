import { DrizzleAdapter } from '@auth/drizzle-adapter';
import NextAuth, { type NextAuthConfig } from 'next-auth';
import type { Provider } from 'next-auth/providers';
import Credentials from 'next-auth/providers/credentials';
import GitHub from 'next-auth/providers/github';
import Google from 'next-auth/providers/google';
import Nodemailer from 'next-auth/providers/nodemailer';
import { authAccounts, authSessions, authUsers, authVerificationTokens } from '../../db/schema';
import { DEMO_USER_EMAIL } from '../demo';
import { parsePortalClaim, type PortalClaim } from '../portal/claims';
import { sendMail } from '../portal/mail';
import { MailThrottle } from '../portal/mail-throttle';
import { acceptInvitations, consumePortalSession, membershipsOf, roleOf, userByEmail } from '../portal/store';
import { getRuntime, type Runtime } from '../runtime';

/**
 * The portal's sign-in: Auth.js (next-auth v5) with the drizzle adapter on the app's
 * database, JWT sessions (the cookie carries the user and the customer they act for;
 * server/portal/claims.ts), and these providers:
 *
 * - `nodemailer`: a magic link by email. Through SMTP_URL when set; otherwise the link is
 *   printed to the console and kept in the development mailbox (/dev/mailbox).
 * - `github`, `google`: when AUTH_GITHUB_ID/SECRET, AUTH_GOOGLE_ID/SECRET are set.
 * - `demo` (Credentials): the demo customer's owner, on the embedded default only.
 * - `portal-session` (Credentials): a portal session URL's token, used once
 *   (app/portal/session/[token]/route.ts).
 *
 * The configuration is built lazily from the runtime (the database is opened at the first
 * request, not at import), once per runtime.
 */
const configs = new WeakMap<Runtime, NextAuthConfig>();

export const { handlers, auth, signIn, signOut, unstable_update } = NextAuth(async () => {
  const rt = await getRuntime();
  let c = configs.get(rt);
  if (!c) configs.set(rt, (c = authConfig(rt)));
  return c;
});

/** May the demo sign-in be offered? The embedded default with demo data only. */
export const demoSignInEnabled = (env: Runtime['env']): boolean => env.LEDGER_DEMO && !env.DATABASE_URL;

export function authConfig(rt: Runtime): NextAuthConfig {
  const { env, database, ledger } = rt;
  const db = database.db;
  // The public URL when one is known: magic links are rewritten onto it, never left on a
  // Host header a stranger can set (a link pointing at their host would hand them the token).
  const publicUrl = env.AUTH_URL ?? env.LEDGER_PUBLIC_URL;
  const throttle = new MailThrottle(5, 15 * 60_000);

  const providers: Provider[] = [
    Nodemailer({
      // The provider insists on a server; sendVerificationRequest below sends through
      // SMTP_URL itself, or to the development mailbox without it.
      server: env.SMTP_URL ?? 'smtp://localhost:25',
      from: env.EMAIL_FROM,
      sendVerificationRequest: async ({ identifier, url }) => {
        const link = onOrigin(url, publicUrl);
        await sendMail({ db, env, ledger }, { to: identifier, subject: 'Sign in to your billing portal', text: `Sign in to your billing portal:\n\n${link}\n\nThe link works once, for 24 hours. If you did not ask for it, ignore this email.`, url: link });
      },
    }),
  ];
  if (env.AUTH_GITHUB_ID && env.AUTH_GITHUB_SECRET) providers.push(GitHub({ clientId: env.AUTH_GITHUB_ID, clientSecret: env.AUTH_GITHUB_SECRET }));
  if (env.AUTH_GOOGLE_ID && env.AUTH_GOOGLE_SECRET) providers.push(Google({ clientId: env.AUTH_GOOGLE_ID, clientSecret: env.AUTH_GOOGLE_SECRET }));
  if (demoSignInEnabled(env)) {
    providers.push(
      Credentials({
        id: 'demo',
        name: 'Demo customer',
        credentials: {},
        authorize: async () => {
          const u = await userByEmail(db, DEMO_USER_EMAIL, 'Demo Owner');
          return { id: u.id, email: u.email, name: u.name };
        },
      }),
    );
  }
  providers.push(
    Credentials({
      id: 'portal-session',
      name: 'Portal session',
      credentials: { token: { type: 'text' } },
      authorize: async (credentials) => {
        const token = typeof credentials?.token === 'string' ? credentials.token : '';
        if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return null;
        const used = await consumePortalSession(db, token, ledger.clock.now());
        if (!used) return null;
        const customer = await ledger.customers.get(used.scope, used.customerId);
        // The visitor is the customer's session user: no users row (nobody signs in as it
        // again), an id naming the customer, the billing role, for at most an hour.
        const portal: PortalClaim = {
          ...used.scope,
          customerId: used.customerId,
          role: 'billing',
          session: { returnUrl: used.returnUrl, expiresAt: used.signedInUntil.getTime() },
        };
        return { id: portalSessionUserId(used.scope.tenantId, used.scope.appId, used.customerId), email: customer.email, name: customer.name, portal };
      },
    }),
  );

  return {
    secret: rt.authSecret ?? undefined,
    // Behind a proxy the app's host is the Host header unless a public URL is set above.
    trustHost: env.AUTH_TRUST_HOST ?? true,
    adapter: DrizzleAdapter(db, {
      usersTable: authUsers,
      accountsTable: authAccounts,
      sessionsTable: authSessions,
      verificationTokensTable: authVerificationTokens,
    }),
    session: { strategy: 'jwt' },
    // A used or expired portal session URL or magic link is an expected refusal (the
    // visitor is shown a page saying so), not an error to log.
    logger: {
      error(error) {
        const type = (error as { type?: string }).type;
        if (type === 'CredentialsSignin' || type === 'Verification' || type === 'AccessDenied') return;
        console.error('[auth]', error);
      },
    },
    providers,
    pages: { signIn: '/portal/sign-in', verifyRequest: '/portal/sign-in/check-email', error: '/portal/sign-in' },
    callbacks: {
      /**
       * Before a magic link is made: at most `throttle.max` per address per window.
       * Refused here (false: Auth.js answers error=AccessDenied), not by throwing from
       * sendVerificationRequest, whose promise Auth.js leaves unhandled while it hashes the
       * token: an unhandled rejection that can end the process.
       */
      async signIn({ account, email }) {
        if (email?.verificationRequest && account?.provider === 'nodemailer') {
          const address = account.providerAccountId;
          if (!throttle.allow(address, ledger.clock.now().getTime())) {
            console.warn(`[auth] sign-in link for ${address} refused: more than ${throttle.max} in ${throttle.windowMs / 60_000} minutes`);
            return false;
          }
        }
        return true;
      },
      async jwt({ token, user, account, trigger, session }) {
        if (user && account) {
          if (account.provider === 'portal-session') {
            token.portal = (user as { portal?: PortalClaim }).portal ?? null;
          } else {
            // A proven email (a magic link, a provider's account, the demo): its open
            // invitations become memberships, then the first membership is the active one.
            const userId = user.id ?? token.sub!;
            if (user.email) await acceptInvitations(db, userId, user.email, ledger.clock.now());
            const [first] = await membershipsOf(db, userId);
            token.portal = first ? ({ ...first.scope, customerId: first.customerId, role: first.role, session: null } satisfies PortalClaim) : null;
          }
        } else if (trigger === 'update' && token.sub) {
          // Switching customer: only to one the user belongs to (read again here; the
          // update's data comes from the browser).
          const want = parsePortalClaim({ ...(session as { portal?: object } | null)?.portal, role: 'member', session: null });
          const current = parsePortalClaim(token.portal);
          if (want && !current?.session) {
            const role = await roleOf(db, { tenantId: want.tenantId, appId: want.appId } as never, want.customerId, token.sub);
            if (role) token.portal = { ...want, role, session: null } satisfies PortalClaim;
          }
        }
        return token;
      },
      session({ session, token }) {
        return { ...session, user: { ...session.user, id: token.sub ?? '' }, portal: parsePortalClaim(token.portal) } as typeof session;
      },
    },
  };
}

/** `url` with the origin of `base` (when given). */
export function onOrigin(url: string, base: string | undefined): string {
  if (!base) return url;
  const u = new URL(url);
  const b = new URL(base);
  u.protocol = b.protocol;
  u.host = b.host;
  return u.href;
}

/** A portal session's visitor: not a row of auth_users, named by the customer. */
export const portalSessionUserId = (tenantId: string, appId: string, customerId: string) => `portal-session:${tenantId}/${appId}/${customerId}`;
