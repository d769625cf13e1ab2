/**
 * Where the hosted pay page's "Return to billing" link goes: the `return` query parameter
 * the portal adds to its pay links (`/pay/<token>?return=/portal/invoices/<id>`).
 *
 * Anyone can put anything in a URL, so the parameter is trusted only as a path of this
 * app: it starts with one "/", holds no backslash, space or control character (browsers
 * read `/\evil.com` as `//evil.com`), and resolves to this origin. Anything else (a full
 * URL, `//evil.com`, `javascript:…`) is refused and the page shows no link: no open redirect.
 */
const BASE = 'http://app.invalid';

export function safeReturnPath(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > 500) return null;
  if (!value.startsWith('/') || value.startsWith('//')) return null;
  // Backslashes count as slashes in browsers' URL parsing; whitespace and control characters are stripped there.
  if (/[\\\s\u0000-\u001f\u007f]/.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return null;
  }
  if (url.origin !== BASE) return null;
  // The normalised form ("/a/../b" → "/b"), so the link says exactly where it goes.
  return url.pathname + url.search + url.hash;
}

/** The query that carries a return path along (the action's redirect back to the page), or "" without one. */
export function returnQuery(value: unknown): string {
  const path = safeReturnPath(value);
  return path ? `?return=${encodeURIComponent(path)}` : '';
}
