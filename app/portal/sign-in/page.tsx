import { redirect } from 'next/navigation';
import { auth, demoSignInEnabled } from '@/server/auth/next-auth';
import { parsePortalClaim } from '@/server/portal/claims';
import { devMailboxEnabled } from '@/server/portal/mail';
import { invitationByToken, membershipsOf } from '@/server/portal/store';
import { getRuntime } from '@/server/runtime';
import { chooseCustomer, signInWithEmail, signInWithProvider, signOutOfPortal } from './actions';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'Sign in to your billing portal · Ledger' };

const ERRORS: Record<string, string> = {
  email: 'Enter a valid email address.',
  Verification: 'That sign-in link was already used or has expired. Ask for a new one below.',
  OAuthAccountNotLinked: 'This email address signs in another way (for example by email link): use that.',
  // Also what too many email links for one address (5 in 15 minutes) get.
  AccessDenied: 'Sign-in was refused. If you asked for several email links, wait 15 minutes and use the newest one.',
  Configuration: 'Sign-in is not configured on this server (AUTH_SECRET is missing). Ask its operator.',
};

type Search = Promise<Record<string, string | string[] | undefined>>;

/**
 * Sign-in, and after it the choice of customer: with one membership the portal opens at
 * once; with several, a list; with none, a page that says no billing account uses this
 * address.
 */
export default async function SignIn({ searchParams }: { searchParams: Search }) {
  const q = await searchParams;
  const one = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
  const next = one('next')?.startsWith('/') && !one('next')?.startsWith('//') ? one('next')! : '/portal';
  const rt = await getRuntime();
  const session = (await auth()) as { user?: { id?: string; email?: string | null }; portal?: unknown } | null;

  if (session?.user?.id) {
    const active = parsePortalClaim(session.portal);
    if (active?.session) {
      // A portal session: its one customer, for at most an hour.
      if (active.session.expiresAt > rt.ledger.clock.now().getTime()) redirect(next);
      return (
        <section className="mx-auto max-w-lg p-6" aria-labelledby="ended-title">
          <h1 id="ended-title" className="text-2xl font-semibold">Your billing portal session has ended</h1>
          <p className="mt-3">A portal session lasts at most an hour. Open the billing portal again from the app you came from.</p>
          {active.session.returnUrl ? (
            <p className="mt-3">
              <a className="underline" href={active.session.returnUrl}>Back to {new URL(active.session.returnUrl).host}</a>
            </p>
          ) : null}
          <form action={signOutOfPortal} className="mt-4">
            <button type="submit" className="rounded border px-3 py-2">Sign in another way</button>
          </form>
        </section>
      );
    }
    const memberships = await membershipsOf(rt.database.db, session.user.id);
    if (memberships.length === 0) {
      return (
        <section className="mx-auto max-w-lg p-6" aria-labelledby="none-title">
          <h1 id="none-title" className="text-2xl font-semibold">No billing account for this email</h1>
          <p className="mt-3">
            You are signed in as <strong>{session.user.email}</strong>, but no billing account lists this address. Ask an owner of your
            account to invite it, or sign in with another address.
          </p>
          <form action={signOutOfPortal} className="mt-4">
            <button type="submit" className="rounded border px-3 py-2">Sign out</button>
          </form>
        </section>
      );
    }
    const isActive = (m: (typeof memberships)[number]) =>
      !!active && active.tenantId === m.scope.tenantId && active.appId === m.scope.appId && active.customerId === m.customerId;
    // Straight on when the one membership is the session's; otherwise (several, or the
    // session names a customer the user no longer belongs to) a choice, which resets it.
    if (memberships.length === 1 && isActive(memberships[0]!) && one('choose') === undefined) redirect(next);
    const names = await Promise.all(
      memberships.map((m) =>
        rt.ledger.customers
          .get(m.scope, m.customerId)
          .then((c) => c.name)
          .catch(() => m.customerId as string),
      ),
    );
    return (
      <section className="mx-auto max-w-lg p-6" aria-labelledby="choose-title">
        <h1 id="choose-title" className="text-2xl font-semibold">Choose a billing account</h1>
        <p className="mt-3">Signed in as {session.user.email}. Which account do you want to manage?</p>
        <ul className="mt-4 space-y-2">
          {memberships.map((m, i) => {
            const current = isActive(m);
            return (
              <li key={`${m.scope.tenantId}/${m.scope.appId}/${m.customerId}`}>
                <form action={chooseCustomer}>
                  <input type="hidden" name="customer" value={`${m.scope.tenantId}/${m.scope.appId}/${m.customerId}`} />
                  <input type="hidden" name="next" value={next} />
                  <button type="submit" className="w-full rounded border px-3 py-2 text-left" aria-current={current ? 'true' : undefined}>
                    {names[i]} <span className="text-sm">({m.role}{current ? ', current' : ''})</span>
                  </button>
                </form>
              </li>
            );
          })}
        </ul>
        <form action={signOutOfPortal} className="mt-4">
          <button type="submit" className="underline">Sign out</button>
        </form>
      </section>
    );
  }

  const error = one('error');
  const env = rt.env;
  // An invitation's link: say who invites, and sign in with the invited address.
  const invitationToken = one('invitation');
  const invitation = invitationToken && /^[A-Za-z0-9_-]{20,100}$/.test(invitationToken) ? await invitationByToken(rt.database.db, invitationToken, rt.ledger.clock.now()) : null;
  const invitedTo = invitation ? await rt.ledger.customers.get(invitation.scope, invitation.customerId).then((c) => c.name).catch(() => null) : null;
  const oauth = [
    ...(env.AUTH_GITHUB_ID ? [{ id: 'github', name: 'GitHub' }] : []),
    ...(env.AUTH_GOOGLE_ID ? [{ id: 'google', name: 'Google' }] : []),
  ];
  return (
    <section className="mx-auto max-w-lg p-6" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title" className="text-2xl font-semibold">Sign in to your billing portal</h1>
      {error ? (
        <p role="alert" className="mt-3 rounded border border-red-600 p-3">
          {ERRORS[error] ?? 'Sign-in failed. Try again.'}
        </p>
      ) : null}
      {invitationToken && !invitation ? (
        <p role="status" className="mt-3 rounded border p-3">
          This invitation was already accepted or has expired. If you accepted it, sign in with the invited address.
        </p>
      ) : null}
      {invitation ? (
        <p role="status" className="mt-3 rounded border p-3">
          You are invited to {invitedTo ?? 'a billing account'} as {invitation.role}. Sign in with <strong>{invitation.email}</strong> to accept.
        </p>
      ) : null}
      <form action={signInWithEmail} className="mt-4 flex flex-col gap-2">
        <label htmlFor="email">Email address</label>
        <input id="email" name="email" type="email" required autoComplete="email" defaultValue={invitation?.email ?? one('email') ?? ''} className="rounded border px-3 py-2" />
        <input type="hidden" name="next" value={next} />
        <button type="submit" className="rounded bg-black px-3 py-2 text-white">Email me a sign-in link</button>
      </form>
      {devMailboxEnabled(env) ? (
        <p className="mt-2 text-sm">
          No mail server is configured: links go to the <a className="underline" href="/dev/mailbox">development mailbox</a>.
        </p>
      ) : null}
      {oauth.length || demoSignInEnabled(env) ? (
        <div className="mt-6 flex flex-col gap-2">
          {oauth.map((p) => (
            <form key={p.id} action={signInWithProvider}>
              <input type="hidden" name="provider" value={p.id} />
              <input type="hidden" name="next" value={next} />
              <button type="submit" className="w-full rounded border px-3 py-2">Sign in with {p.name}</button>
            </form>
          ))}
          {demoSignInEnabled(env) ? (
            <form action={signInWithProvider}>
              <input type="hidden" name="provider" value="demo" />
              <input type="hidden" name="next" value={next} />
              <button type="submit" className="w-full rounded border px-3 py-2">Sign in as the demo customer's owner</button>
            </form>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
