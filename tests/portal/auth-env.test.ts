import { describe, expect, it } from 'vitest';
import { onOrigin } from '@/server/auth/next-auth';
import { EnvError, parseEnv } from '@/server/env';
import { devMailboxEnabled } from '@/server/portal/mail';
import { MailThrottle } from '@/server/portal/mail-throttle';

/** The sign-in's environment: pairs that go together, the mailbox's switch, links moved onto the public origin. */
describe('portal sign-in environment', () => {
  const base = { PGLITE_DATA_DIR: 'memory://' };

  it('an OAuth id without its secret (or the reverse) stops the start, naming the missing variable', () => {
    expect(() => parseEnv({ ...base, AUTH_GITHUB_ID: 'Iv1.abc' })).toThrow(EnvError);
    expect(() => parseEnv({ ...base, AUTH_GITHUB_ID: 'Iv1.abc' })).toThrow(/AUTH_GITHUB_SECRET: sign-in with GitHub needs both/);
    expect(() => parseEnv({ ...base, AUTH_GOOGLE_SECRET: 'x' })).toThrow(/AUTH_GOOGLE_ID: sign-in with Google needs both/);
    expect(() => parseEnv({ ...base, AUTH_SECRET: 'too-short' })).toThrow(/AUTH_SECRET: at least 32 characters/);
    expect(() => parseEnv({ ...base, SMTP_URL: 'mail.example.com' })).toThrow(/SMTP_URL: an smtp:\/\/ or smtps:\/\/ URL/);
    expect(parseEnv({ ...base, AUTH_GITHUB_ID: 'Iv1.abc', AUTH_GITHUB_SECRET: 's', AUTH_TRUST_HOST: 'false' })).toMatchObject({ AUTH_GITHUB_ID: 'Iv1.abc', AUTH_TRUST_HOST: false });
  });

  it('the development mailbox: on without SMTP; off with SMTP_URL', () => {
    expect(devMailboxEnabled(parseEnv(base))).toBe(true);
    expect(devMailboxEnabled(parseEnv({ ...base, SMTP_URL: 'smtp://u:p@mail.example.com:587' }))).toBe(false);
  });

  it('a magic link is moved onto the public origin, path and query kept', () => {
    const link = 'http://evil.example/api/auth/callback/nodemailer?token=abc&email=a%40b.c';
    expect(onOrigin(link, 'https://billing.example.com')).toBe('https://billing.example.com/api/auth/callback/nodemailer?token=abc&email=a%40b.c');
    expect(onOrigin(link, undefined)).toBe(link);
  });

  it('sign-in emails: at most 5 per address per 15 minutes (any case), the window sliding', () => {
    const t = new MailThrottle(5, 15 * 60_000);
    const at = (min: number) => Date.UTC(2026, 0, 1, 9, min);
    expect([0, 1, 2, 3, 4].map((m) => t.allow(m % 2 ? 'Ada@Example.com' : 'ada@example.com', at(m)))).toEqual([true, true, true, true, true]);
    expect(t.allow('ada@example.com', at(5))).toBe(false);
    expect(t.allow('bea@example.com', at(5))).toBe(true);
    expect(t.allow('ada@example.com', at(15))).toBe(true); // the send at 0 min left the window
    expect(t.allow('ada@example.com', at(15))).toBe(false);
  });
});
