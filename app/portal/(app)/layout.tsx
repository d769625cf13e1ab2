import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { TRPCReactProvider } from '@/app/_lib/trpc-react';
import { signOutOfPortal } from '../sign-in/actions';
import { DateTime } from '../_components/date-time';
import { PortalNav, type NavItem } from '../_components/nav';
import { portalApi, portalSession } from './portal-api';

export const dynamic = 'force-dynamic';

export const metadata: Metadata = {
  title: { template: '%s · Billing', default: 'Billing' },
  robots: { index: false, follow: false },
  referrer: 'no-referrer',
};

/** The portal's sections. */
const NAV: NavItem[] = [
  { label: 'Overview', href: '/portal' },
  { label: 'Plans', href: '/portal/plans' },
  { label: 'Usage', href: '/portal/usage' },
  { label: 'Credits', href: '/portal/credits' },
  { label: 'Invoices', href: '/portal/invoices' },
  { label: 'Billing', href: '/portal/billing' },
];

const ROLE_WORDS = { owner: 'Owner', billing: 'Billing', member: 'Member · view only' } as const;

/** "acme.com" from the product's return URL, for "Back to acme.com". */
function hostOf(url: string): string {
  try {
    return new URL(url).host.replace(/^www\./, '');
  } catch {
    return 'the app';
  }
}

/**
 * The portal's frame: who is billed (the customer, the role), the way back to the
 * product (a portal session's return URL) and the sections. Nobody signed in: the page
 * itself redirects to sign-in with its own path (a layout cannot know the path).
 */
export default async function PortalLayout({ children }: { children: ReactNode }) {
  const portal = await portalSession();
  if (!portal) return <div className="portal min-h-screen bg-slate-50">{children}</div>;
  const me = await (await portalApi('/portal')).profile();

  return (
    <div className="portal flex min-h-screen flex-col bg-slate-50 font-sans text-slate-900 antialiased">
      <a
        href="#portal-content"
        className="sr-only z-50 rounded-lg bg-white px-4 py-2 text-sm font-medium text-indigo-700 shadow-lg focus:not-sr-only focus:fixed focus:top-3 focus:left-3 focus:outline-2 focus:outline-indigo-600"
      >
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto max-w-5xl px-4 sm:px-6">
          <div className="flex flex-wrap items-center justify-between gap-x-4 gap-y-2 pt-4 pb-2">
            <div className="flex min-w-0 items-center gap-3">
              <span className="grid size-9 shrink-0 place-items-center rounded-lg bg-indigo-600 text-sm font-semibold text-white" aria-hidden="true">
                {(me.merchant[0] ?? 'B').toUpperCase()}
              </span>
              <div className="min-w-0">
                <p className="truncate text-sm font-semibold text-slate-900" data-testid="portal-customer">
                  {me.customer.name}
                </p>
                <p className="truncate text-xs text-slate-600">
                  {me.merchant} billing · <span data-testid="portal-role">{ROLE_WORDS[me.role]}</span>
                  {me.testMode && <span className="ml-2 rounded-full bg-amber-100 px-1.5 py-px text-[0.6875rem] font-semibold text-amber-900">Test mode</span>}
                </p>
              </div>
            </div>
            <div className="flex items-center gap-1">
              {me.returnUrl && (
                <a
                  href={me.returnUrl}
                  className="inline-flex items-center gap-1 rounded-lg px-2.5 py-1.5 text-sm font-medium text-indigo-700 hover:bg-indigo-50 focus-visible:outline-2 focus-visible:outline-indigo-600"
                >
                  <span aria-hidden="true">←</span> Back to {hostOf(me.returnUrl)}
                </a>
              )}
              <form action={signOutOfPortal}>
                <button
                  type="submit"
                  className="rounded-lg px-2.5 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-indigo-600"
                >
                  Sign out
                </button>
              </form>
            </div>
          </div>
          <PortalNav items={NAV} />
        </div>
      </header>
      <div id="portal-content" tabIndex={-1} className="mx-auto w-full max-w-5xl flex-1 px-4 py-6 focus:outline-none sm:px-6 sm:py-8">
        <TRPCReactProvider>{children}</TRPCReactProvider>
      </div>
      <footer className="mx-auto w-full max-w-5xl px-4 pb-8 text-xs text-slate-500 sm:px-6">
        Signed in as {me.email}
        {me.expiresAt && (
          <>
            {' '}
            · this session ends <DateTime value={me.expiresAt} style="datetime" />
          </>
        )} · Billing by <span className="font-semibold">Ledger</span>
      </footer>
    </div>
  );
}
