import type { NextRequest } from 'next/server';
import { handlers } from '@/server/auth/next-auth';
import { getRuntime } from '@/server/runtime';

export const dynamic = 'force-dynamic';

/**
 * Auth.js's endpoints: sign-in, callbacks, the session, sign-out (server/auth/next-auth.ts).
 *
 * Next.js gives a route handler its own URL (http://localhost:<port>), not the one the
 * browser used, and Auth.js builds redirects and checks callback URLs against that
 * origin. The request is given the app's public origin first: AUTH_URL, else
 * LEDGER_PUBLIC_URL, else (AUTH_TRUST_HOST, the default) the X-Forwarded-Host / Host and
 * X-Forwarded-Proto it came with. It is passed on as a plain Request: a NextRequest
 * rewrites 127.0.0.1 to localhost, which would split a browser's cookies from its links.
 */
async function withPublicOrigin(req: NextRequest): Promise<NextRequest> {
  // With AUTH_URL in the environment, next-auth moves the request onto it itself.
  if (process.env.AUTH_URL ?? process.env.NEXTAUTH_URL) return req;
  const { env } = await getRuntime();
  const fixed = env.AUTH_URL ?? env.LEDGER_PUBLIC_URL;
  const host = req.headers.get('x-forwarded-host') ?? req.headers.get('host');
  const proto = req.headers.get('x-forwarded-proto')?.split(',')[0]?.trim() ?? new URL(req.url).protocol.replace(':', '');
  const origin = fixed ? new URL(fixed).origin : (env.AUTH_TRUST_HOST ?? true) && host ? `${proto}://${host}` : null;
  if (!origin) return req;
  const url = new URL(req.url);
  const target = new URL(origin);
  url.protocol = target.protocol;
  url.host = target.host;
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const plain = new Request(url, { method: req.method, headers: req.headers, body: hasBody ? await req.arrayBuffer() : undefined });
  return plain as NextRequest; // Auth.js reads url, method, headers and body only (AUTH_URL unset)
}

export const GET = async (req: NextRequest) => handlers.GET(await withPublicOrigin(req));
export const POST = async (req: NextRequest) => handlers.POST(await withPublicOrigin(req));
