'use server';

import { redirect } from 'next/navigation';
import { signIn, signOut, unstable_update } from '@/server/auth/next-auth';

/** Only paths of this app: a callback URL from the query string must not lead elsewhere. */
const localPath = (v: FormDataEntryValue | null, fallback = '/portal'): string => {
  const s = typeof v === 'string' ? v : '';
  return s.startsWith('/') && !s.startsWith('//') && !s.startsWith('/\\') ? s : fallback;
};

export async function signInWithEmail(form: FormData): Promise<void> {
  const email = String(form.get('email') ?? '').trim();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 320) redirect('/portal/sign-in?error=email');
  await signIn('nodemailer', { email, redirectTo: `/portal/sign-in?next=${encodeURIComponent(localPath(form.get('next')))}` });
}

export async function signInWithProvider(form: FormData): Promise<void> {
  const provider = String(form.get('provider') ?? '');
  if (!['github', 'google', 'demo'].includes(provider)) redirect('/portal/sign-in');
  await signIn(provider, { redirectTo: `/portal/sign-in?next=${encodeURIComponent(localPath(form.get('next')))}` });
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
