import { notFound, redirect } from 'next/navigation';
import { demoSignInEnabled, signIn } from '@/server/auth/next-auth';
import { getRuntime } from '@/server/runtime';

export const dynamic = 'force-dynamic';

/**
 * The demo sign-in, as one URL to open (printed by `npm start` next to the demo API key):
 * signs in as the demo customer's owner. Only on the embedded default with demo data; a
 * 404 anywhere else.
 */
export async function GET(): Promise<Response> {
  if (!demoSignInEnabled((await getRuntime()).env)) notFound();
  const to = await signIn('demo', { redirect: false, redirectTo: '/portal' });
  redirect(to);
}
