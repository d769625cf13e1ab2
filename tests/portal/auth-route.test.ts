import { NextRequest } from 'next/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMailbox } from '@/server/portal/store';
import { getRuntime, type Runtime } from '@/server/runtime';
import { useMemoryRuntimeEnv } from '../support/runtime';

/**
 * Auth.js's route (/api/auth/…) as Next.js calls it: with its own URL
 * (http://localhost:<port>), whatever host the browser used. A magic link is built on
 * the public URL (LEDGER_PUBLIC_URL), and opening it signs in and leads back to the
 * callback URL on that origin (not to the home page of another origin).
 */
useMemoryRuntimeEnv();
process.env.LEDGER_PUBLIC_URL = 'http://127.0.0.1:3999';
process.env.LEDGER_DEMO = '1';
const route = await import('@/app/api/auth/[...nextauth]/route');

let rt: Runtime;
beforeAll(async () => {
  rt = await getRuntime();
  const { seedDemo } = await import('@/server/demo');
  await seedDemo(rt, null);
});
afterAll(() => rt.close());

/** A cookie jar of name → value from Set-Cookie headers. */
function cookiesOf(res: Response, jar = new Map<string, string>()) {
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair!.indexOf('=');
    jar.set(pair!.slice(0, i), pair!.slice(i + 1));
  }
  return jar;
}
const cookieHeader = (jar: Map<string, string>) => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

describe('the Auth.js route behind Next.js (PGlite)', () => {
  it('a magic link is on the public URL; opening it sets the session cookie and leads to the callback URL', async () => {
    const internal = 'http://localhost:3999/api/auth';
    const headers = { host: '127.0.0.1:3999' };
    const csrfRes = await route.GET(new NextRequest(`${internal}/csrf`, { headers }));
    const jar = cookiesOf(csrfRes);
    const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
    const body = new URLSearchParams({ email: 'Owner@Demo.Example.com', csrfToken, callbackUrl: 'http://127.0.0.1:3999/portal/sign-in' });
    const sent = await route.POST(
      new NextRequest(`${internal}/signin/nodemailer`, { method: 'POST', body, headers: { ...headers, cookie: cookieHeader(jar), 'content-type': 'application/x-www-form-urlencoded' } }),
    );
    expect(sent.status).toBe(302);
    expect(sent.headers.get('location')).toBe('http://127.0.0.1:3999/api/auth/verify-request?provider=nodemailer&type=email');
    const [mail] = await readMailbox(rt.database.db, { to: 'owner@demo.example.com' });
    expect(mail!.url).toMatch(/^http:\/\/127\.0\.0\.1:3999\/api\/auth\/callback\/nodemailer\?/);
    expect(new URL(mail!.url!).searchParams.get('callbackUrl')).toBe('http://127.0.0.1:3999/portal/sign-in');

    const link = new URL(mail!.url!);
    const opened = await route.GET(new NextRequest(`${internal}/callback/nodemailer${link.search}`, { headers: { ...headers, cookie: cookieHeader(cookiesOf(sent, jar)) } }));
    expect(opened.headers.get('location')).toBe('http://127.0.0.1:3999/portal/sign-in');
    expect([...cookiesOf(opened).keys()]).toContain('authjs.session-token');

    // A request with a stranger's Host still gets a link on the public URL.
    const csrf2 = await route.GET(new NextRequest(`${internal}/csrf`, { headers: { host: 'evil.example' } }));
    const jar2 = cookiesOf(csrf2);
    const body2 = new URLSearchParams({ email: 'owner@demo.example.com', csrfToken: ((await csrf2.json()) as { csrfToken: string }).csrfToken });
    await route.POST(new NextRequest(`${internal}/signin/nodemailer`, { method: 'POST', body: body2, headers: { host: 'evil.example', cookie: cookieHeader(jar2), 'content-type': 'application/x-www-form-urlencoded' } }));
    const [second] = await readMailbox(rt.database.db, { to: 'owner@demo.example.com' });
    expect(second!.id).toBeGreaterThan(mail!.id);
    expect(second!.url).toMatch(/^http:\/\/127\.0\.0\.1:3999\/api\/auth\/callback\/nodemailer\?/);

    // The same link again: Auth.js's tokens are single use.
    const again = await route.GET(new NextRequest(`${internal}/callback/nodemailer${link.search}`, { headers }));
    expect(again.headers.get('location')).toBe('http://127.0.0.1:3999/portal/sign-in?error=Verification');

    // Two links sent so far for this address; three more pass, the sixth in 15 minutes does not.
    const ask = async () => {
      const c = await route.GET(new NextRequest(`${internal}/csrf`, { headers }));
      const j = cookiesOf(c);
      const b = new URLSearchParams({ email: 'owner@demo.example.com', csrfToken: ((await c.json()) as { csrfToken: string }).csrfToken });
      const r = await route.POST(new NextRequest(`${internal}/signin/nodemailer`, { method: 'POST', body: b, headers: { ...headers, cookie: cookieHeader(j), 'content-type': 'application/x-www-form-urlencoded' } }));
      return r.headers.get('location');
    };
    for (let i = 0; i < 3; i++) expect(await ask()).toContain('/api/auth/verify-request');
    expect(await ask()).toBe('http://127.0.0.1:3999/portal/sign-in?error=AccessDenied');
    expect(await readMailbox(rt.database.db, { to: 'owner@demo.example.com' })).toHaveLength(5);
  });
});
