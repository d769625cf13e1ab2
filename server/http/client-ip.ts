/**
 * The caller's IP as the audit trail records it: the first address of X-Forwarded-For
 * (set by the load balancer in front of the app), else X-Real-IP; null when neither is
 * there (a direct connection: Next.js's Request does not expose the socket's address).
 * It is a record of what was claimed, not an authentication: behind no proxy a client
 * can write these headers itself.
 */
const IP = /^[0-9A-Fa-f:.]{2,45}$/;

export function clientIpOf(req: Request): string | null {
  const forwarded = req.headers.get('x-forwarded-for')?.split(',')[0]?.trim();
  const candidate = forwarded || req.headers.get('x-real-ip')?.trim() || '';
  return IP.test(candidate) ? candidate : null;
}
