import { notFound } from 'next/navigation';
import { devMailboxEnabled } from '@/server/portal/mail';
import { readMailbox } from '@/server/portal/store';
import { getRuntime } from '@/server/runtime';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'Development mailbox · Ledger', robots: { index: false } };

/**
 * The development mailbox: with no SMTP_URL, the portal's mail (sign-in links,
 * invitations) lands here and in the console. A 404 when a mail server is configured:
 * real mail must never be readable on a page.
 */
export default async function Mailbox({ searchParams }: { searchParams: Promise<{ to?: string }> }) {
  const rt = await getRuntime();
  if (!devMailboxEnabled(rt.env)) notFound();
  const { to } = await searchParams;
  const messages = await readMailbox(rt.database.db, { to: typeof to === 'string' ? to : undefined, limit: 50 });
  return (
    <section className="mx-auto max-w-2xl p-6" aria-labelledby="mailbox-title">
      <h1 id="mailbox-title" className="text-2xl font-semibold">Development mailbox</h1>
      <p className="mt-2 text-sm">No mail server is configured (SMTP_URL), so the portal's mail is kept here, newest first.</p>
      {messages.length === 0 ? (
        <p className="mt-4">No mail yet. Ask for a sign-in link on the <a className="underline" href="/portal/sign-in">sign-in page</a>.</p>
      ) : (
        <ol className="mt-4 space-y-4">
          {messages.map((m) => (
            <li key={m.id} className="rounded border p-3" data-testid="mail">
              <p>
                <strong>To:</strong> <span data-testid="mail-to">{m.to}</span>
              </p>
              <p>
                <strong>Subject:</strong> {m.subject}
              </p>
              <p className="text-sm">
                <time dateTime={m.createdAt.toISOString()}>{m.createdAt.toISOString()}</time>
              </p>
              {m.url ? (
                <p className="mt-2">
                  <a className="underline break-all" href={m.url} data-testid="mail-link">
                    {m.subject.startsWith('Sign in') ? 'Open the sign-in link' : 'Open the link'}
                  </a>
                </p>
              ) : null}
              <pre className="mt-2 whitespace-pre-wrap text-sm">{m.text}</pre>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
