import { expect, test, type Page } from '@playwright/test';
import { axeFindings } from './axe';
import { createLedgerClient } from '../../server/trpc/client';
import { E2E_DEMO_KEY } from '../../playwright.config';

/**
 * The portal's first pages in Chromium, through the running app: signed out, /portal
 * leads to sign-in with the way back; the demo sign-in opens the demo customer's
 * overview (Starter on trial, 3 seats, the next invoice: 19.00 + CA tax 7.25 % = 20.38);
 * ending its trial issues an open invoice of 20.38, which the list and the detail show,
 * with a Pay link to the hosted pay page and the PDF link; another customer's invoice is
 * not found. Dates are in the viewer's locale and zone (en-GB, Paris here), with UTC in
 * the tooltip. Every page is checked with axe (no serious or critical violation) and
 * photographed at 390 and 1280 px into test-results and /tmp/shots/portal-*.png.
 */
const SHOTS = process.env.E2E_SHOTS_DIR ?? '/tmp/shots';

test.use({ locale: 'en-GB', timezoneId: 'Europe/Paris' });

async function noSeriousAxeViolations(page: Page) {
  expect(await axeFindings(page, { serious: true })).toEqual([]);
}

async function shoot(page: Page, name: string) {
  // The narrowest supported width: nothing scrolls sideways.
  await page.setViewportSize({ width: 360, height: 780 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    // Nothing scrolls sideways at phone width.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    for (const dir of [test.info().outputDir, SHOTS]) await page.screenshot({ path: `${dir}/portal-${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function signIn(page: Page) {
  await page.goto('/portal/sign-in/demo');
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
}

test('signed out, the portal leads to sign-in and back to the page asked for', async ({ page }) => {
  await page.goto('/portal/invoices');
  await expect(page).toHaveURL(/\/portal\/sign-in\?next=%2Fportal%2Finvoices$/);
});

test("the public /plans leads through sign-in to the portal's subscribe step", async ({ page }) => {
  await page.goto('/plans');
  await expect(page.getByTestId('subscribe-starter')).toHaveText('Start trial to Starter');
  await expect(page.getByTestId('subscribe-free')).toHaveText('Subscribe to Free');
  await expect(page.getByTestId('subscribe-starter')).toHaveAttribute('href', '/portal/sign-in?next=%2Fportal%2Fplans%3Fsubscribe%3Dstarter');
});

test("the demo owner's overview, invoices and an invoice, at 390 and 1280 px", async ({ page, baseURL }) => {
  await signIn(page);
  const header = page.locator('.portal header').first();
  await expect(header.getByTestId('portal-customer')).toHaveText('Demo Customer');
  await expect(header.getByTestId('portal-role')).toHaveText('Owner');
  const nav = page.getByRole('navigation', { name: 'Billing portal' });
  await expect(nav.getByRole('link', { name: 'Overview' })).toHaveAttribute('aria-current', 'page');
  // Every section is a link now that Usage is built.
  await expect(nav.getByRole('link', { name: 'Usage' })).toHaveAttribute('href', '/portal/usage');
  await expect(nav.getByRole('link', { name: 'Billing', exact: true })).toHaveAttribute('href', '/portal/billing');
  await expect(nav.getByRole('link', { name: 'Plans' })).toHaveAttribute('href', '/portal/plans');

  const plan = page.getByTestId('current-plan');
  await expect(plan).toContainText('Starter');
  await expect(plan).toContainText('Trial');
  await expect(plan).toContainText('$19.00 per month · 3 seats');
  await expect(page.getByTestId('trial-left')).toHaveText(/^1[34] days left in your trial$/);
  await expect(page.getByTestId('next-invoice')).toContainText('$20.38');
  // The viewer's locale (en-GB: day first) and the UTC instant in the tooltip.
  const when = page.getByTestId('next-invoice').locator('time');
  await expect(when).toHaveText(/^\d{1,2} [A-Z][a-z]{2} \d{4}$/);
  await expect(when).toHaveAttribute('title', /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
  await expect(page.getByText('No invoices yet')).toBeVisible();
  await noSeriousAxeViolations(page);
  await shoot(page, 'overview-trial');

  await page.goto('/portal/invoices');
  await expect(page.getByRole('heading', { name: 'No invoices yet' })).toBeVisible();
  await noSeriousAxeViolations(page);
  await shoot(page, 'invoices-empty');

  // The trial ends: an open invoice of 20.38 (19.00 + 1.38 tax), sent, as no card is on file.
  const ledger = createLedgerClient({ url: baseURL!, apiKey: E2E_DEMO_KEY });
  const demo = await ledger.customers.getByExternalId.query({ externalId: 'demo-customer' });
  const [sub] = (await ledger.subscriptions.listByCustomer.query({ customerId: demo.id })).items;
  await ledger.subscriptions.endTrial.mutate({ id: sub!.id });
  const [inv] = (await ledger.invoices.listByCustomer.query({ customerId: demo.id })).items;
  expect(inv).toMatchObject({ status: 'open', total: 2038, amountDue: 2038 });

  await page.goto('/portal');
  await expect(page.getByTestId('current-plan')).toContainText('Active');
  await expect(page.getByRole('link', { name: 'Pay $20.38' }).first()).toHaveAttribute('href', /^\/pay\//);
  await expect(page.getByTestId('invoice-row')).toHaveCount(1);
  await noSeriousAxeViolations(page);
  await shoot(page, 'overview');

  await page.getByRole('link', { name: 'View all invoices' }).click();
  await expect(page).toHaveURL(/\/portal\/invoices$/);
  await expect(nav.getByRole('link', { name: 'Invoices' })).toHaveAttribute('aria-current', 'page');
  const row = page.getByTestId('invoice-row');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText(inv!.number!);
  await expect(row).toContainText('$20.38');
  await expect(row).toContainText('Due');
  await expect(page.getByText('1–1 of 1')).toBeVisible();
  await noSeriousAxeViolations(page);
  await shoot(page, 'invoices');

  await row.getByRole('link', { name: inv!.number! }).click();
  await expect(page).toHaveURL(new RegExp(`/portal/invoices/${inv!.id}$`));
  await expect(page.getByRole('heading', { name: `Invoice ${inv!.number}`, level: 1 })).toBeVisible();
  await expect(page.getByTestId('amount-due')).toContainText('$20.38');
  const totals = page.getByTestId('totals');
  await expect(totals).toContainText('Subtotal');
  await expect(totals).toContainText('$19.00');
  await expect(totals).toContainText('CA sales tax 7.25 %');
  await expect(totals).toContainText('$1.38');
  await expect(page.getByTestId('pay-invoice')).toHaveAttribute('href', new RegExp(`^/pay/[\\w.-]+\\?return=%2Fportal%2Finvoices%2F${inv!.id}$`));
  await expect(page.getByRole('link', { name: 'Download PDF' })).toHaveAttribute('href', `/api/invoices/${inv!.id}/pdf`);
  await noSeriousAxeViolations(page);
  await shoot(page, 'invoice');

  // The Pay link opens the hosted pay page for that invoice.
  await page.getByTestId('pay-invoice').click();
  await expect(page).toHaveURL(/\/pay\//);
  await expect(page.getByText('$20.38').first()).toBeVisible();
});

test("another customer's invoice is not found in the portal", async ({ page, baseURL }) => {
  const ledger = createLedgerClient({ url: baseURL!, apiKey: E2E_DEMO_KEY });
  const plans = await ledger.plans.list.query({});
  const pro = plans.items.find((p) => p.key === 'pro')!;
  const other = await ledger.customers.create.mutate({ email: `other-${Date.now()}@example.com`, name: 'Someone Else' });
  await ledger.subscriptions.create.mutate({ customerId: other.id, planId: pro.id, trialDays: 0 });
  const [theirs] = (await ledger.invoices.listByCustomer.query({ customerId: other.id })).items;

  await signIn(page);
  await page.goto(`/portal/invoices/${theirs!.id}`);
  await expect(page.getByRole('heading', { name: 'Invoice not found' })).toBeVisible();
  await expect(page.getByText('Someone Else')).toHaveCount(0);
  await expect(page.getByText('$99.00')).toHaveCount(0);
  await noSeriousAxeViolations(page);
  await shoot(page, 'invoice-not-found');
});

test("a portal session from the product's backend: the billing role, the way back to the product, the session's end", async ({ page, baseURL }) => {
  const ledger = createLedgerClient({ url: baseURL!, apiKey: E2E_DEMO_KEY });
  const demo = await ledger.customers.getByExternalId.query({ externalId: 'demo-customer' });
  const { url } = await ledger.portal.createSession.mutate({ customerId: demo.id, returnUrl: 'https://app.example.com/settings/billing' });
  await page.goto(url);
  await expect(page).toHaveURL(/\/portal$/);
  const header = page.locator('.portal header').first();
  await expect(header.getByTestId('portal-role')).toHaveText('Billing');
  await expect(header.getByRole('link', { name: 'Back to app.example.com' })).toHaveAttribute('href', 'https://app.example.com/settings/billing');
  await expect(page.getByText('this session ends')).toBeVisible();
  await noSeriousAxeViolations(page);
  await shoot(page, 'session');
});

test('usage alerts on the overview: 8,500 of the Free plan\'s 10,000 calls is 85 %; the skip link leads to the content', async ({ page, baseURL }) => {
  const ledger = createLedgerClient({ url: baseURL!, apiKey: E2E_DEMO_KEY });
  const free = (await ledger.plans.list.query({})).items.find((p) => p.key === 'free')!;
  const customer = await ledger.customers.create.mutate({ email: `near-${Date.now()}@example.com`, name: 'Nearly Full Ltd' });
  const sub = await ledger.subscriptions.create.mutate({ customerId: customer.id, planId: free.id });
  // At the period's first instant (inclusive): usage before the subscription began counts for nothing.
  const recorded = await ledger.usage.record.mutate({
    events: [{ idempotencyKey: `near-${customer.id}`, customerId: customer.id, featureKey: 'api_calls', quantity: 8_500, timestamp: new Date(sub.currentPeriodStart).toISOString() }],
  });
  expect(recorded.map((r) => r.outcome.status)).toEqual(['accepted']);
  const { url } = await ledger.portal.createSession.mutate({ customerId: customer.id });
  await page.goto(url);
  await expect(page.getByTestId('portal-customer')).toHaveText('Nearly Full Ltd');
  const alerts = page.getByRole('region', { name: 'Needs attention' });
  await expect(alerts).toContainText('API calls: 85 % used');
  await expect(alerts).toContainText('8,500 of 10,000 calls used this period.');
  await expect(page.getByTestId('next-invoice')).toContainText('$0.00');

  // Keyboard: the first Tab reaches the skip link, which moves focus past the header.
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page.locator('#portal-content')).toBeFocused();
  await noSeriousAxeViolations(page);
  await shoot(page, 'overview-alerts');
});
