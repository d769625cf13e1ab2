import { getRuntime } from '@/server/runtime';
import { devMailboxEnabled } from '@/server/portal/mail';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'Check your email · Ledger' };

/** Auth.js's "verify request" page: the magic link is on its way. */
export default async function CheckEmail() {
  const { env } = await getRuntime();
  return (
    <section className="mx-auto max-w-lg p-6" aria-labelledby="check-title">
      <h1 id="check-title" className="text-2xl font-semibold">Check your email</h1>
      <p className="mt-3">We sent you a sign-in link. It works once, for 24 hours.</p>
      {devMailboxEnabled(env) ? (
        <p className="mt-3">
          No mail server is configured: the link is in the <a className="underline" href="/dev/mailbox">development mailbox</a> (and the server's console).
        </p>
      ) : null}
    </section>
  );
}
