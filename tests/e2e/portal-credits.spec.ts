import { expect, test, type Page } from '@playwright/test';
import { axeFindings } from './axe';
import { createLedgerClient } from '../../server/trpc/client';
import { E2E_DEMO_KEY } from '../../playwright.config';

/**
 * /portal/credits in Chromium through the running app, for a customer of its own (a
 * portal session, a billing user, no card). It starts empty; the product grants 10.00 of
 * promotional credits through the API (wallets.create, wallets.grant) and the page shows
 * $10.00 and the grant; the customer buys $25.00 of credits: the top-up invoice is paid
 * on the hosted page with the sandbox's 4242 card, and back on the page the balance is
 * $35.00, the top-up the newest movement. axe finds no serious or critical violation;
 * screenshots at 390 and 1280 px go to /tmp/shots/portal-credits-*.png.
 */
const SHOTS = process.env.E2E_SHOTS_DIR ?? '/tmp/shots';

test.use({ locale: 'en-US', timezoneId: 'America/Los_Angeles' });

async function noSeriousAxeViolations(page: Page) {
  expect(await axeFindings(page, { serious: true })).toEqual([]);
}

async function shoot(page: Page, name: string) {
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    // Nothing scrolls sideways at phone width.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    await page.screenshot({ path: `${SHOTS}/portal-credits-${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

test('a customer sees granted credits, buys $25.00 with the sandbox card and finds $35.00', async ({ page, baseURL }) => {
  const ledger = createLedgerClient({ url: baseURL!, apiKey: E2E_DEMO_KEY });
  const customer = await ledger.customers.create.mutate({ email: `credits-${Date.now()}@example.com`, name: 'Credit Union Ltd' });
  const { url } = await ledger.portal.createSession.mutate({ customerId: customer.id });
  await page.goto(url);
  await expect(page).toHaveURL(/\/portal$/);

  await page.getByRole('navigation', { name: 'Billing portal' }).getByRole('link', { name: 'Credits', exact: true }).click();
  await expect(page).toHaveURL(/\/portal\/credits$/);
  await expect(page.getByRole('heading', { name: 'Credits', level: 1 })).toBeVisible();
  await expect(page.getByTestId('credit-balance')).toHaveText('$0.00');
  await expect(page.getByText('No credit activity yet')).toBeVisible();
  await noSeriousAxeViolations(page);
  await shoot(page, 'empty');

  // The product grants 10.00 of promotional credits, expiring in 30 days.
  const { wallet } = await ledger.wallets.create.mutate({ customerId: customer.id, currency: 'USD' });
  const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
  await ledger.wallets.grant.mutate({ walletId: wallet.id, amount: 1000, expiresAt, description: 'Welcome credits' });
  await page.reload();
  await expect(page.getByTestId('credit-balance')).toHaveText('$10.00');
  await expect(page.getByTestId('credit-grants')).toContainText('Welcome credits');
  await expect(page.getByTestId('credit-grants')).toContainText('Expires');
  await expect(page.getByTestId('ledger-row')).toHaveCount(1);
  await expect(page.getByTestId('ledger-row').first()).toContainText('Granted');
  await expect(page.getByTestId('ledger-row').first()).toContainText('+$10.00');

  // A bad amount is said at the field, and the button waits.
  await page.getByLabel('Or another amount (USD)').fill('0.5');
  await expect(page.getByTestId('top-up-error')).toHaveText('Enter an amount between $1.00 and $100,000.00.');
  await expect(page.getByTestId('buy-credits')).toBeDisabled();
  await page.getByRole('button', { name: '$25', exact: true }).click();
  await expect(page.getByTestId('buy-credits')).toHaveText('Buy $25.00 of credits');
  await noSeriousAxeViolations(page);
  await shoot(page, 'granted');

  // No card on file: the top-up invoice is paid on the hosted page, which comes back here.
  await page.getByTestId('buy-credits').click();
  await expect(page).toHaveURL(/\/pay\/[\w-]+\.[\w-]+\?return=%2Fportal%2Fcredits$/);
  await expect(page.getByRole('heading', { name: '$25.00', level: 1 })).toBeVisible();
  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await page.getByLabel('Expiry (MM/YY)').fill('12/34');
  await page.getByRole('button', { name: 'Pay $25.00' }).click();
  await expect(page.getByRole('heading', { name: 'Payment received' })).toBeVisible();
  await page.getByRole('link', { name: 'Return to billing' }).click();

  await expect(page).toHaveURL(/\/portal\/credits$/);
  await expect(page.getByTestId('credit-balance')).toHaveText('$35.00');
  const newest = page.getByTestId('ledger-row').first();
  await expect(newest).toContainText('Bought');
  await expect(newest).toContainText('+$25.00');
  await expect(newest).toContainText('Balance $35.00');
  await noSeriousAxeViolations(page);
  await shoot(page, 'topped-up');

  // The API agrees: 3,500 credits, the bought ones last in the order invoices use them.
  const balance = await ledger.wallets.balance.query({ walletId: wallet.id });
  expect(balance.balance).toBe(3500);
  expect(balance.grants.map((g) => [g.source, g.remaining])).toEqual([
    ['promotional', 1000],
    ['purchased', 2500],
  ]);
});
