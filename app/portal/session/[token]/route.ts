import { redirect } from 'next/navigation';
import { signIn } from '@/server/auth/next-auth';

export const dynamic = 'force-dynamic';

/**
 * A portal session URL (`portal.createSession`): signs the visitor in for that customer
 * (billing role, at most an hour, with the product's return URL) and opens the portal.
 * The token is used by the `portal-session` provider in one conditional update, so it
 * works once: used, expired or unknown, it signs nobody in and leads to a page that says
 * so. The token is never echoed back.
 */
export async function GET(_req: Request, { params }: { params: Promise<{ token: string }> }): Promise<Response> {
  const { token } = await params;
  let to: string;
  try {
    to = await signIn('portal-session', { token, redirect: false, redirectTo: '/portal' });
  } catch (e) {
    // CredentialsSignin: the token did not open a session. Anything else is a bug, logged.
    if ((e as { type?: string }).type !== 'CredentialsSignin') console.error('[portal] portal session sign-in failed', e);
    to = '/portal/session/ended';
  }
  if (/[?&]error=/.test(to)) to = '/portal/session/ended';
  redirect(to);
}
