import { expect, test, type Page } from '@playwright/test';
import { axeFindings } from './axe';
import { createLedgerClient } from '../../server/trpc/client';
import { E2E_DEMO_KEY } from '../../playwright.config';

/**
 * /portal/usage in Chromium through the running app. A fresh customer (its own plan
 * "Scale": 1,000 API calls included, then 0.002 each, limit 10,000; 2 seats, 1 included;
 * priority support), signed in through a portal session, sees 0 calls used and nothing
 * charged; the product meters 1,200 calls and 30 storage readings through the API
 * (usage.record, which answers once they are stored); on reload the page shows 1,200
 * calls (12 %), 200 above the included ones, $0.40 so far, and the day's bar. A period
 * that is not the customer's is the page's not-found. axe finds no serious or critical
 * violation; screenshots at 390 and 1280 px go to /tmp/shots/portal-usage-*.png.
 */
const SHOTS = process.env.E2E_SHOTS_DIR ?? '/tmp/shots';

test.use({ locale: 'en-US', timezoneId: 'America/Los_Angeles' });

type Client = ReturnType<typeof createLedgerClient>;

/** A plan of the test's own ("Scale"): other specs change the demo scope's plans and customer. */
function scalePlan(ledger: Client, stamp: string) {
  return ledger.plans.create.mutate({
    key: `scale-${stamp}`,
    name: 'Scale',
    currency: 'USD',
    interval: { unit: 'month' },
    basePrice: 4900,
    features: [
      { key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', includedUnits: 1000, limit: 10_000, unitName: 'call', price: { model: 'per_unit', unitPrice: '0.002' } },
      { key: 'storage', name: 'Storage', kind: 'metered', aggregation: 'max', unitName: 'GB' },
      { key: 'seats', name: 'Seats', kind: 'licensed', includedUnits: 1, price: { model: 'per_unit', unitPrice: '8' } },
      { key: 'priority_support', name: 'Priority support', kind: 'boolean', enabled: true },
    ],
  });
}

async function shoot(page: Page, name: string) {
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    // Nothing scrolls sideways at phone width.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    for (const dir of [test.info().outputDir, SHOTS]) await page.screenshot({ path: `${dir}/portal-usage-${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

test('a customer sees 0 used, the product meters usage, and on reload the usage and its cost move', async ({ page, baseURL }) => {
  const ledger = createLedgerClient({ url: baseURL!, apiKey: E2E_DEMO_KEY });
  const stamp = Date.now().toString(36);
  const plan = await scalePlan(ledger, stamp);
  const customer = await ledger.customers.create.mutate({ email: `usage-${stamp}@example.com`, name: 'Meterwise Ltd' });
  await ledger.subscriptions.create.mutate({ customerId: customer.id, planId: plan.id, quantity: 2 });
  // Off the pricing tables that other specs look at; the subscription keeps its plan version.
  await ledger.plans.archive.mutate({ id: plan.id });

  // Before signing in, the usage page asks for a sign-in and comes back.
  const { url } = await ledger.portal.createSession.mutate({ customerId: customer.id });
  await page.goto(url);
  await expect(page).toHaveURL(/\/portal$/);

  await page.getByRole('navigation', { name: 'Billing portal' }).getByRole('link', { name: 'Usage' }).click();
  await expect(page).toHaveURL(/\/portal\/usage$/);
  await expect(page.getByRole('heading', { name: 'Usage', level: 1 })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Billing portal' }).getByRole('link', { name: 'Usage' })).toHaveAttribute('aria-current', 'page');
  const calls = page.getByTestId('usage-api_calls');
  await expect(calls.getByTestId('usage-used')).toHaveText('0calls');
  await expect(calls.getByTestId('usage-cost')).toHaveText('$0.00');
  await expect(calls).toContainText('No calls recorded yet this period');
  await expect(calls.getByRole('meter', { name: 'API calls used' })).toHaveAttribute('aria-valuenow', '0');
  await expect(page.getByTestId('usage-seats')).toContainText('2seats in use');
  await expect(page.getByText('Priority support')).toBeVisible();
  expect(await axeFindings(page, { serious: true })).toEqual([]);
  await shoot(page, 'empty');

  // The product meters usage through the API: stored when the call answers.
  const now = new Date();
  const results = await ledger.usage.record.mutate({
    events: [
      { idempotencyKey: `${stamp}-1`, customerId: customer.id, featureKey: 'api_calls', quantity: 700, timestamp: now.toISOString() },
      { idempotencyKey: `${stamp}-2`, customerId: customer.id, featureKey: 'api_calls', quantity: 500, timestamp: now.toISOString() },
      { idempotencyKey: `${stamp}-3`, customerId: customer.id, featureKey: 'storage', quantity: 30, timestamp: now.toISOString() },
    ],
  });
  expect(results.map((r) => r.outcome.status)).toEqual(['accepted', 'accepted', 'accepted']);

  await page.reload();
  await expect(calls.getByTestId('usage-used')).toHaveText('1,200calls');
  await expect(calls).toContainText('of 10,000 limit · 12 %');
  // 200 calls above the 1,000 included, at $0.002: $0.40.
  await expect(calls.getByTestId('usage-cost')).toHaveText('$0.40');
  await expect(calls).toContainText('1,200 of 10,000 calls used; 200 above the included 1,000.');
  await expect(calls.getByRole('meter', { name: 'API calls used' })).toHaveAttribute('aria-valuenow', '1200');
  await expect(page.getByTestId('usage-total')).toHaveText('$0.40');
  await expect(page.getByTestId('usage-storage').getByTestId('usage-used')).toHaveText('30GB');
  // The chart: an image with a summary, and the figures in a table.
  await expect(calls.getByRole('img')).toHaveAttribute('aria-label', /the most 1,200 calls on/);
  await calls.getByText('Show the figures').click();
  await expect(calls.getByRole('table')).toContainText('1,200');
  // The period in the viewer's locale, the UTC period in its tooltip.
  await expect(page.getByTestId('usage-period').locator('time')).toHaveAttribute('title', /UTC$/);
  expect(await axeFindings(page, { serious: true })).toEqual([]);
  await shoot(page, 'metered');

  // A period that is not this customer's is not found (nothing of another customer shows).
  await page.goto('/portal/usage?period=2020-01-01T00:00:00.000Z');
  await expect(page.getByRole('heading', { name: 'Billing period not found' })).toBeVisible();
  await expect(page.getByTestId('usage-api_calls')).toHaveCount(0);
  expect(await axeFindings(page, { serious: true })).toEqual([]);
});

test('an earlier period is chosen by its link: its usage, and its cost as its invoice billed it', async ({ page, baseURL }) => {
  const ledger = createLedgerClient({ url: baseURL!, apiKey: E2E_DEMO_KEY });
  const stamp = Date.now().toString(36);
  const plan = await scalePlan(ledger, stamp);
  // A customer on a test clock, so a whole period can pass: March 2026, then April.
  const clock = await ledger.testClocks.create.mutate({ at: '2026-03-01T00:00:00.000Z', name: `usage ${stamp}` });
  const customer = await ledger.customers.create.mutate({ email: `usage-past-${stamp}@example.com`, name: 'Pastwise Ltd', testClockId: clock.id });
  await ledger.subscriptions.create.mutate({ customerId: customer.id, planId: plan.id, quantity: 2 });
  await ledger.plans.archive.mutate({ id: plan.id });
  const record = (key: string, quantity: number, timestamp: string) =>
    ledger.usage.record.mutate({ events: [{ idempotencyKey: `${stamp}-${key}`, customerId: customer.id, featureKey: 'api_calls', quantity, timestamp }] });
  await ledger.testClocks.advance.mutate({ id: clock.id, to: '2026-03-03T12:00:00.000Z' });
  await record('mar3', 300, '2026-03-03T09:00:00.000Z');
  await ledger.testClocks.advance.mutate({ id: clock.id, to: '2026-03-10T12:00:00.000Z' });
  await record('mar10', 1500, '2026-03-10T08:00:00.000Z');
  // Past April 1: March is billed (1,800 calls, 800 above the included 1,000: $1.60).
  await ledger.testClocks.advance.mutate({ id: clock.id, to: '2026-04-02T00:00:00.000Z' });
  await record('apr1', 100, '2026-04-01T20:00:00.000Z');

  const { url } = await ledger.portal.createSession.mutate({ customerId: customer.id });
  await page.goto(url);
  await page.goto('/portal/usage');
  const calls = page.getByTestId('usage-api_calls');
  await expect(calls.getByTestId('usage-used')).toHaveText('100calls');
  const chooser = page.getByRole('navigation', { name: 'Billing periods' });
  const links = chooser.getByRole('link');
  await expect(links).toHaveCount(2);
  await expect(links.first()).toHaveAttribute('aria-current', 'page');
  await expect(links.first()).toContainText('current');

  await links.nth(1).click();
  await expect(page).toHaveURL(/\/portal\/usage\?period=2026-03-01T00%3A00%3A00.000Z$/);
  await expect(links.nth(1)).toHaveAttribute('aria-current', 'page');
  await expect(calls.getByTestId('usage-used')).toHaveText('1,800calls');
  await expect(calls.getByTestId('usage-cost')).toHaveText('$1.60');
  await expect(calls).toContainText('Billed');
  await expect(calls.getByRole('link', { name: /^On invoice/ })).toHaveAttribute('href', /^\/portal\/invoices\/inv_/);
  await expect(calls.getByRole('img')).toHaveAttribute('aria-label', /, Mar 1 to Mar 31: the most 1,500 calls on Mar 10\./);
  await expect(page.getByTestId('usage-total')).toHaveText('$1.60');
  expect(await axeFindings(page, { serious: true })).toEqual([]);
  await shoot(page, 'earlier');
});
