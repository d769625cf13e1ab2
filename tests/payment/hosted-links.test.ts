import { describe, expect, it } from 'vitest';
import { HOSTED_LINK_INVALID, HOSTED_TTL_S, HostedLinks, ManualClock, scope } from '@/server/ledger';

/**
 * The hosted pages' signed links: a token carries its kind, scope, object and expiry,
 * and is refused (`not_found`, one message) once changed, of another kind, signed with
 * another secret, or expired, to the second.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const S = scope('acme', 'billing');
const SECRET = 'sixteen-chars-at-least-0123456789';
const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

describe('hosted links', () => {
  it('a pay link names its scope and invoice and is valid for exactly 30 days', () => {
    const clock = new ManualClock(T0);
    const links = new HostedLinks(clock, { secret: SECRET, baseUrl: 'https://pay.example.com///' });
    const url = links.payUrl(S, 'inv_01h455vb4pex5vsknk084sn02q');
    expect(url).toMatch(/^https:\/\/pay\.example\.com\/pay\/[\w-]+\.[\w-]+$/);
    const expiresAt = new Date(T0.getTime() + 30 * 86_400_000);
    expect(links.verify(tokenOf(url), 'pay')).toEqual({ kind: 'pay', scope: S, invoiceId: 'inv_01h455vb4pex5vsknk084sn02q', expiresAt });
    clock.set(expiresAt.getTime() - 1);
    expect(links.read(tokenOf(url))).not.toBeNull();
    clock.set(expiresAt);
    expect(links.read(tokenOf(url))).toBeNull();
    expect(() => links.verify(tokenOf(url), 'pay')).toThrow(HOSTED_LINK_INVALID);
  });

  it('set-up links last 1 hour and carry their http(s) return URLs; other URLs are refused', () => {
    const clock = new ManualClock(T0);
    const links = new HostedLinks(clock, { secret: SECRET });
    const url = links.setupUrl(S, 'cst_01h455vb4pex5vsknk084sn02q', { successUrl: 'https://app.example/ok?a=1&b=2', cancelUrl: 'http://localhost:3000/back' });
    expect(url.startsWith('/sandbox/setup/')).toBe(true);
    expect(links.verify(tokenOf(url), 'setup')).toMatchObject({ customerId: 'cst_01h455vb4pex5vsknk084sn02q', successUrl: 'https://app.example/ok?a=1&b=2', cancelUrl: 'http://localhost:3000/back' });
    clock.set(T0.getTime() + HOSTED_TTL_S.setup * 1000);
    expect(links.read(tokenOf(url))).toBeNull();
    expect(() => links.setupUrl(S, 'cst_x', { successUrl: 'javascript:alert(1)', cancelUrl: 'https://a.example' })).toThrow(/http\(s\) URLs/);
    expect(() => links.setupUrl(S, 'cst_x', { successUrl: 'https://a.example', cancelUrl: 'ftp://a.example' })).toThrow(/http\(s\) URLs/);
  });

  it('a changed, truncated, foreign-kind or foreign-secret token reads as nothing', () => {
    const clock = new ManualClock(T0);
    const links = new HostedLinks(clock, { secret: SECRET });
    const confirm = tokenOf(links.confirmUrl(S, 'inv_1', 'sandbox_pay_1'));
    expect(links.verify(confirm, 'confirm')).toMatchObject({ invoiceId: 'inv_1', providerPaymentId: 'sandbox_pay_1' });
    const [payload, mac] = confirm.split('.') as [string, string];
    // The payload re-encoded for another scope, with the old MAC.
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), t: 'other' })).toString('base64url');
    for (const bad of [`${forged}.${mac}`, `${payload}.`, payload, `${payload}.${mac}.x`, `${payload}.${mac.slice(1)}`, '', 'x'.repeat(5000)]) {
      expect(links.read(bad)).toBeNull();
    }
    expect(() => links.verify(confirm, 'pay')).toThrow(HOSTED_LINK_INVALID);
    expect(new HostedLinks(clock, { secret: 'another-secret-0123456789' }).read(confirm)).toBeNull();
    // Without a secret each engine draws its own: links do not survive a restart.
    const a = new HostedLinks(clock);
    expect(a.ephemeralSecret).toBe(true);
    expect(new HostedLinks(clock).read(tokenOf(a.payUrl(S, 'inv_1')))).toBeNull();
    expect(() => new HostedLinks(clock, { secret: 'short' })).toThrow(/at least 16/);
  });
});
