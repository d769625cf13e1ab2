'use server';

import { redirect } from 'next/navigation';
import { AuthError } from 'next-auth';
import { signIn, signOut, unstable_update } from '@/server/auth/next-auth';

/** Only paths of this app: a callback URL from the query string must not lead elsewhere. */
const localPath = (v: FormDataEntryValue | null, fallback = '/portal'): string => {
  const s = typeof v === 'string' ? v : '';
  return s.startsWith('/') && !s.startsWith('//') && !s.startsWith('/\\') ? s : fallback;
};

export async function signInWithEmail(form: FormData): Promise<void> {
  const email = String(form.get('email') ?? '').trim();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 320) redirect('/portal/sign-in?error=email');
  redirect(await signInOrError('nodemailer', { email, redirectTo: `/portal/sign-in?next=${encodeURIComponent(localPath(form.get('next')))}` }));
}

/**
 * Auth.js's sign-in from a server action throws its refusals (too many email links: an
 * AccessDenied) instead of redirecting: they lead back to the sign-in page with the error.
 */
async function signInOrError(provider: string, options: Record<string, string>): Promise<string> {
  try {
    return await signIn(provider, { ...options, redirect: false });
  } catch (e) {
    if (e instanceof AuthError) return `/portal/sign-in?error=${encodeURIComponent(e.type)}`;
    // The same class from another bundle copy: known by its shape.
    const type = (e as { type?: unknown; kind?: unknown }).type;
    if (typeof type === 'string' && (e as { kind?: unknown }).kind === 'error') return `/portal/sign-in?error=${encodeURIComponent(type)}`;
    throw e;
  }
}

export async function signInWithProvider(form: FormData): Promise<void> {
  const provider = String(form.get('provider') ?? '');
  if (!['github', 'google', 'demo'].includes(provider)) redirect('/portal/sign-in');
  redirect(await signInOrError(provider, { redirectTo: `/portal/sign-in?next=${encodeURIComponent(localPath(form.get('next')))}` }));
}

/** Switches the customer the session acts for; the JWT callback checks the membership. */
export async function chooseCustomer(form: FormData): Promise<void> {
  const [tenantId, appId, customerId] = String(form.get('customer') ?? '').split('/');
  if (tenantId && appId && customerId) await unstable_update({ portal: { tenantId, appId, customerId } } as never);
  redirect(localPath(form.get('next')));
}

export async function signOutOfPortal(): Promise<void> {
  await signOut({ redirectTo: '/portal/sign-in' });
}
