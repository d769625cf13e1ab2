import { expect, test, type APIRequestContext } from '@playwright/test';
import { createLedgerClient } from '../../server/trpc/client';
import { E2E_DEMO_KEY } from '../../playwright.config';

/**
 * Who signs in to the portal, through the running app in Chromium: a magic link from the
 * development mailbox (no SMTP configured), the demo owner's sign-in URL, and a portal
 * session URL made with the demo API key (used once: the same URL again signs nobody in).
 * Who is signed in is read with the portal's own tRPC query `portal.me`, sent with the
 * browser's cookies (no API key).
 */
const OWNER = 'owner@demo.example.com'; // the demo customer's owner (server/demo.ts)

/** `portal.me` with the page's cookies: the JSON of who is signed in, or the HTTP status. */
async function me(request: APIRequestContext): Promise<{ status: number; me: Record<string, unknown> | null }> {
  const res = await request.get('/api/trpc/portal.me');
  const body = (await res.json()) as { result?: { data?: { json?: Record<string, unknown> } } };
  return { status: res.status(), me: body.result?.data?.json ?? null };
}

test('a magic link from the development mailbox signs the demo customer\'s owner in; an unknown address is told it has no account', async ({ page, baseURL }) => {
  const ledger = createLedgerClient({ url: baseURL!, apiKey: E2E_DEMO_KEY });
  const demo = await ledger.customers.getByExternalId.query({ externalId: 'demo-customer' });
  expect((await me(page.request)).status).toBe(401);

  await page.goto('/portal/sign-in');
  await page.getByLabel('Email address').fill(OWNER);
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();

  await page.goto(`/dev/mailbox?to=${encodeURIComponent(OWNER)}`);
  const mail = page.getByTestId('mail').first();
  await expect(mail.getByTestId('mail-to')).toHaveText(OWNER);
  const link = (await mail.getByTestId('mail-link').getAttribute('href'))!;
  expect(link).toContain('/api/auth/callback/nodemailer?');
  await mail.getByTestId('mail-link').click();
  await page.waitForURL((u) => u.pathname === '/portal');
  expect(await me(page.request)).toEqual({ status: 200, me: { userId: expect.any(String), email: OWNER, customerId: demo.id, role: 'owner', returnUrl: null, expiresAt: null } });

  // The same link again signs nobody in (Auth.js's tokens are single use).
  await page.context().clearCookies();
  await page.goto(link);
  await expect(page.getByText('That sign-in link was already used or has expired')).toBeVisible();
  expect((await me(page.request)).status).toBe(401);

  // Another address: signed in, but no billing account lists it.
  await page.goto('/portal/sign-in');
  await page.getByLabel('Email address').fill('stranger@example.com');
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();
  await page.goto('/dev/mailbox?to=stranger@example.com');
  await page.getByTestId('mail-link').first().click();
  await expect(page.getByRole('heading', { name: 'No billing account for this email' })).toBeVisible();
  expect((await me(page.request)).status).toBe(401);
});

test('the demo owner (its sign-in URL) invites a member by email; the invitee signs in from the mailbox as a member of the demo customer', async ({ page, browser }) => {
  await page.goto('/portal/sign-in/demo');
  await page.waitForURL((u) => u.pathname === '/portal');
  const { status, me: who } = await me(page.request);
  expect(status).toBe(200);
  expect(who).toMatchObject({ email: OWNER, role: 'owner', returnUrl: null });

  const invitee = `bea-${Date.now()}@example.com`;
  // A cookie POST must say it comes from the portal's own origin (the CSRF check).
  const invited = await page.request.post('/api/trpc/portal.members.invite', { headers: { origin: new URL(page.url()).origin }, data: { json: { email: invitee, role: 'member' } } });
  expect(invited.status()).toBe(200);

  const other = await browser.newContext();
  try {
    const bea = await other.newPage();
    await bea.goto(`/dev/mailbox?to=${encodeURIComponent(invitee)}`);
    await bea.getByTestId('mail-link').first().click(); // the invitation: the sign-in page says who invites
    await expect(bea.getByText(/You are invited to Demo Customer as member/)).toBeVisible();
    await expect(bea.getByLabel('Email address')).toHaveValue(invitee);
    await bea.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await expect(bea.getByRole('heading', { name: 'Check your email' })).toBeVisible();
    await bea.goto(`/dev/mailbox?to=${encodeURIComponent(invitee)}`);
    await bea.getByTestId('mail').filter({ hasText: 'Sign in to your billing portal' }).first().getByTestId('mail-link').click();
    await bea.waitForURL((u) => u.pathname === '/portal');
    expect((await me(bea.request)).me).toMatchObject({ email: invitee, customerId: who!.customerId, role: 'member' });
    // A member cannot manage users.
    expect((await bea.request.get('/api/trpc/portal.members.list')).status()).toBe(403);
  } finally {
    await other.close();
  }
  const members = await page.request.get('/api/trpc/portal.members.list');
  const list = ((await members.json()) as { result: { data: { json: { members: { email: string; role: string }[] } } } }).result.data.json.members;
  expect(list.map((m) => [m.email, m.role])).toEqual([
    [OWNER, 'owner'],
    [invitee, 'member'],
  ]);
});

test('a portal session URL signs in once, as billing, with the return URL; the same URL again signs nobody in', async ({ page, browser, baseURL }) => {
  const ledger = createLedgerClient({ url: baseURL!, apiKey: E2E_DEMO_KEY });
  const demo = await ledger.customers.getByExternalId.query({ externalId: 'demo-customer' });
  const { url, expiresAt } = await ledger.portal.createSession.mutate({ customerId: demo.id, returnUrl: 'https://app.example.com/account' });
  expect(url).toMatch(new RegExp(`^${baseURL}/portal/session/[A-Za-z0-9_-]{43}$`));
  expect(expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(5 * 60_000);

  await page.goto(url);
  await page.waitForURL((u) => u.pathname === '/portal');
  const { status, me: who } = await me(page.request);
  expect(status).toBe(200);
  expect(who).toMatchObject({ email: demo.email, customerId: demo.id, role: 'billing', returnUrl: 'https://app.example.com/account' });
  // The portal shows the way back to the product.
  await expect(page.getByRole('link', { name: /Back to app\.example\.com/ })).toHaveAttribute('href', 'https://app.example.com/account');
  const ends = new Date((who as { expiresAt: string }).expiresAt).getTime();
  expect(ends - Date.now()).toBeLessThanOrEqual(60 * 60_000);
  expect(ends - Date.now()).toBeGreaterThan(50 * 60_000);

  // Someone else (a fresh browser) opening the same URL: nobody signed in.
  const other = await browser.newContext();
  try {
    const second = await other.newPage();
    await second.goto(url);
    await expect(second.getByRole('heading', { name: 'This billing portal link no longer works' })).toBeVisible();
    expect(new URL(second.url()).pathname).toBe('/portal/session/ended');
    expect((await me(second.request)).status).toBe(401);
  } finally {
    await other.close();
  }
  // An unknown token is the same page.
  await page.context().clearCookies();
  await page.goto('/portal/session/not-a-token');
  await expect(page.getByRole('heading', { name: 'This billing portal link no longer works' })).toBeVisible();
  expect((await me(page.request)).status).toBe(401);
});
