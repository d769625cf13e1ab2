import { decode } from 'next-auth/jwt';
import type { Runtime } from '../runtime';
import { portalFromClaims } from './claims';
import type { PortalContext } from './session';

/** Auth.js's session cookie names: `__Secure-` on https, plain on http. */
const COOKIE_NAMES = ['__Secure-authjs.session-token', 'authjs.session-token'] as const;

/**
 * The portal context of a request by its session cookie alone (never an Authorization
 * header: a bearer token is an API key's place), for /api/trpc and route handlers that
 * get a plain Request. Null when there is no valid cookie, the sign-in is off (no
 * AUTH_SECRET on a real database), or the session no longer opens a customer.
 */
export async function portalFromRequest(rt: Runtime, req: Request): Promise<PortalContext | null> {
  if (!rt.authSecret) return null;
  const cookies = parseCookies(req.headers.get('cookie'));
  for (const name of COOKIE_NAMES) {
    const value = joinedCookie(cookies, name);
    if (!value) continue;
    const token = await decode({ token: value, secret: rt.authSecret, salt: name }).catch(() => null);
    if (token) return portalFromClaims(rt.database.db, { sub: token.sub ?? null, email: token.email ?? null, portal: token.portal }, rt.ledger.clock.now());
  }
  return null;
}

function parseCookies(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    try {
      out.set(k, decodeURIComponent(v));
    } catch {
      /* a malformed cookie is no session */
    }
  }
  return out;
}

/** Auth.js splits a large cookie into `name.0`, `name.1`, …; a small one is `name`. */
function joinedCookie(cookies: Map<string, string>, name: string): string | null {
  const whole = cookies.get(name);
  if (whole) return whole;
  const chunks: string[] = [];
  for (let i = 0; cookies.has(`${name}.${i}`); i++) chunks.push(cookies.get(`${name}.${i}`)!);
  return chunks.length ? chunks.join('') : null;
}
