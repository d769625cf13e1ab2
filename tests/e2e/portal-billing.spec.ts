import { expect, test, type Page } from '@playwright/test';
import { axeFindings } from './axe';
import { createLedgerClient } from '../../server/trpc/client';
import { E2E_DEMO_KEY } from '../../playwright.config';

/**
 * /portal/billing in Chromium through the running app, for a customer of its own (a
 * portal session: a billing user; other specs change the demo customer). A bad country
 * is told at its field and nothing saved; the tax id is edited and saved (the API sees
 * it). A card is added on the sandbox's hosted page and the customer comes back to see it
 * as the default; removing it asks first. axe finds no serious or critical violation;
 * screenshots at 390 and 1280 px go to /tmp/shots/portal-billing-*.png.
 */
const SHOTS = process.env.E2E_SHOTS_DIR ?? '/tmp/shots';

test.use({ locale: 'en-US', timezoneId: 'America/Los_Angeles' });

async function noSeriousAxeViolations(page: Page) {
  expect(await axeFindings(page, { serious: true })).toEqual([]);
}

async function shoot(page: Page, name: string) {
  const fullPage = !(await page.locator('dialog[open]').count());
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    // Nothing scrolls sideways at phone width.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    await page.screenshot({ path: `${SHOTS}/portal-billing-${name}-${width}.png`, fullPage });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

test('a billing user edits the tax id, adds a card on the hosted page and finds it as the default', async ({ page, baseURL }) => {
  const ledger = createLedgerClient({ url: baseURL!, apiKey: E2E_DEMO_KEY });
  const customer = await ledger.customers.create.mutate({ email: `billing-${Date.now()}@example.com`, name: 'Billing Page GmbH', country: 'DE', taxId: 'DE111111111' });
  const { url } = await ledger.portal.createSession.mutate({ customerId: customer.id });
  await page.goto(url);
  await expect(page).toHaveURL(/\/portal$/);

  await page.getByRole('navigation', { name: 'Billing portal' }).getByRole('link', { name: 'Billing', exact: true }).click();
  await expect(page).toHaveURL(/\/portal\/billing$/);
  await expect(page.getByRole('heading', { name: 'Billing details', level: 1 })).toBeVisible();
  await expect(page.getByTestId('methods-empty')).toContainText('No saved cards');
  await expect(page.getByText('Invoices already issued keep the details they were issued with.')).toBeVisible();
  await noSeriousAxeViolations(page);
  await shoot(page, 'empty');

  // A country that is no ISO code: told at the field, which gets the focus; nothing saved.
  await page.getByLabel('Country').fill('XX');
  await page.getByLabel('Tax ID').fill('DE999999999');
  await page.getByRole('button', { name: 'Save details' }).click();
  await expect(page.getByTestId('error-country')).toHaveText('Use a two-letter country code, such as US, DE or FR.');
  await expect(page.getByLabel('Country')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Country')).toBeFocused();
  await expect(page.getByTestId('details-notice')).toContainText('Nothing was saved');
  expect((await ledger.customers.get.query({ id: customer.id })).taxId).toBe('DE111111111');
  await noSeriousAxeViolations(page);
  await shoot(page, 'invalid');

  await page.getByLabel('Country').fill('DE');
  await page.getByRole('button', { name: 'Save details' }).click();
  await expect(page.getByTestId('details-notice')).toHaveText('Billing details saved. Your next invoices will use them.');
  expect((await ledger.customers.get.query({ id: customer.id })).taxId).toBe('DE999999999');
  await page.reload();
  await expect(page.getByLabel('Tax ID')).toHaveValue('DE999999999');

  // Add a card on the sandbox's hosted page; back here, it is listed as the default.
  await page.getByRole('button', { name: 'Add a card' }).click();
  await expect(page).toHaveURL(/\/sandbox\/setup\//);
  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await page.getByLabel('Expiry (MM/YY)').fill('12/34');
  await page.getByRole('button', { name: 'Save card' }).click();
  await expect(page).toHaveURL(/\/portal\/billing\?card=added$/);
  await expect(page.getByTestId('card-notice')).toContainText('Card added');
  const row = page.getByTestId('card-4242');
  await expect(row).toContainText('Visa ending in 4242');
  await expect(row).toContainText('Default');
  await expect(row).toContainText('Expires 12/34');
  const methods = await ledger.paymentMethods.list.query({ customerId: customer.id });
  expect(methods.map((m) => [m.last4, m.expMonth, m.expYear, m.isDefault])).toEqual([['4242', 12, 2034, true]]);
  await noSeriousAxeViolations(page);
  await shoot(page, 'card');

  // Remove asks first; "Keep card" keeps it.
  await row.getByRole('button', { name: /Remove/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Remove Visa ending in 4242?' });
  await expect(dialog).toContainText('This is your default card.');
  await noSeriousAxeViolations(page);
  await shoot(page, 'remove');
  await dialog.getByRole('button', { name: 'Keep card' }).click();
  await expect(dialog).toHaveCount(0);
  expect(await ledger.paymentMethods.list.query({ customerId: customer.id })).toHaveLength(1);
  await row.getByRole('button', { name: /Remove/ }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove card' }).click();
  await expect(page.getByTestId('methods-notice')).toHaveText('Visa ending in 4242 was removed.');
  await expect(page.getByTestId('methods-empty')).toBeVisible();
  expect(await ledger.paymentMethods.list.query({ customerId: customer.id })).toEqual([]);
});
