import { execFileSync } from 'node:child_process';
import { expect, test, type Page } from '@playwright/test';
import { axeFindings } from './axe';
import { createLedgerClient } from '../../server/trpc/client';
import { E2E_DEMO_KEY } from '../../playwright.config';

/**
 * Paying from the customer portal, in Chromium through the running app. A billing user (a
 * portal session of a fresh customer with an open invoice of 99.00 and no card) follows
 * the overview's Pay button to the sandbox's hosted pay page: a declined card is told and
 * leaves the invoice open (the portal's detail lists the failed attempt); 4242… pays it,
 * and the portal's list, detail and overview say so. The pay page opened from the detail
 * links back to it ("Return to billing"), before and after paying; its receipt's check
 * icon is drawn. A customer with no country sees why no tax was charged as a note, not as
 * a "$0.00" row. The detail's PDF is downloaded and
 * read back with pdftotext: number, customer, total as the page prints it, status. axe
 * finds no serious or critical violation; screenshots at 390 and 1280 px go to
 * /tmp/shots/portal-pay-*.png.
 */
const SHOTS = process.env.E2E_SHOTS_DIR ?? '/tmp/shots';
let seq = 0;

test.use({ locale: 'en-US', timezoneId: 'America/Los_Angeles' });

async function noSeriousAxeViolations(page: Page) {
  expect(await axeFindings(page, { serious: true })).toEqual([]);
}

async function shoot(page: Page, name: string) {
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    // Nothing scrolls sideways at phone width.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    for (const dir of [test.info().outputDir, SHOTS]) await page.screenshot({ path: `${dir}/portal-pay-${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

/**
 * A customer of its own (other specs change the demo customer) on a 99.00 monthly plan of
 * its own, with no card: the subscription's first invoice is issued open, to be paid by
 * its link. Signed in to the portal as a billing user through a portal session.
 */
async function customerOwing(page: Page, baseURL: string, name: string) {
  const ledger = createLedgerClient({ url: baseURL, apiKey: E2E_DEMO_KEY });
  const n = `${Date.now().toString(36)}-${++seq}`;
  const plan = await ledger.plans.create.mutate({ key: `e2e-portal-pay-${n}`, name: 'Scale', currency: 'USD', interval: { unit: 'month' }, basePrice: 9900 });
  const customer = await ledger.customers.create.mutate({ email: `payer-${n}@example.com`, name });
  await ledger.subscriptions.create.mutate({ customerId: customer.id, planId: plan.id });
  const [invoice] = (await ledger.invoices.listByCustomer.query({ customerId: customer.id })).items;
  expect(invoice).toMatchObject({ status: 'open', amountDue: 9900, total: 9900 });
  const { url } = await ledger.portal.createSession.mutate({ customerId: customer.id });
  await page.goto(url);
  await expect(page).toHaveURL(/\/portal$/);
  return { ledger, customer, invoice: invoice! };
}

/** On the hosted pay page: a new card's number and expiry, then Pay. */
async function payWithCard(page: Page, number: string) {
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Expiry (MM/YY)').fill('12/34');
  await page.getByRole('button', { name: 'Pay $99.00' }).click();
}

test('pay an invoice with a sandbox card, and try a declined one', async ({ page, baseURL }) => {
  const { ledger, invoice } = await customerOwing(page, baseURL!, 'Marie Curie SARL');

  // The overview asks for the money, with a button that says how much.
  const attention = page.getByRole('region', { name: 'Needs attention' });
  await expect(attention).toContainText(`Invoice ${invoice.number} is open`);
  await expect(attention).toContainText('$99.00 is due');
  await noSeriousAxeViolations(page);
  await shoot(page, 'overview-due');
  await attention.getByRole('link', { name: 'Pay $99.00' }).click();

  // The hosted pay page of that invoice.
  await expect(page).toHaveURL(/\/pay\/[\w-]+\.[\w-]+\?return=%2Fportal$/);
  await expect(page.getByRole('heading', { name: '$99.00', level: 1 })).toBeVisible();
  await expect(page.getByText(`Invoice ${invoice.number}`)).toBeVisible();
  await expect(page.getByText('Marie Curie SARL')).toBeVisible();
  await noSeriousAxeViolations(page);
  await shoot(page, 'hosted');

  // Declined: said, focused, and nothing paid.
  await payWithCard(page, '4000 0000 0000 0002');
  const declined = page.locator('.alert[role="alert"]');
  await expect(declined).toHaveText('Your card was declined. Try another card.');
  await expect(declined).toBeFocused();
  await noSeriousAxeViolations(page);
  await shoot(page, 'declined');
  expect(await ledger.invoices.get.query({ id: invoice.id })).toMatchObject({ status: 'open', amountDue: 9900 });

  // Back in the portal, the invoice is still to pay, and its detail lists the failed attempt.
  await page.goto(`/portal/invoices/${invoice.id}`);
  await expect(page.getByRole('heading', { name: `Invoice ${invoice.number}`, level: 1 })).toBeVisible();
  await expect(page.getByTestId('amount-due')).toContainText('$99.00');
  const payments = page.getByTestId('payments');
  await expect(payments).toContainText('$99.00');
  await expect(payments).toContainText(/declined/i);
  await expect(page.getByRole('main').getByText('Paid', { exact: true })).toHaveCount(0);
  // No country on file: no tax, said in a note under the totals, not as a money row.
  await expect(page.getByTestId('tax-note')).toHaveText('No tax: no billing country on file');
  await expect(page.getByTestId('totals')).not.toContainText('billing country');
  await noSeriousAxeViolations(page);
  await shoot(page, 'detail-declined');

  // The detail's Pay: the pay page recalls the failed attempt; 4242… pays.
  // It carries the way back to the detail (a path of the app only), shown as a link.
  await page.getByTestId('pay-invoice').click();
  await expect(page).toHaveURL(new RegExp(`/pay/[\\w-]+\\.[\\w-]+\\?return=%2Fportal%2Finvoices%2F${invoice.id}$`));
  const payPath = new URL(page.url()).pathname;
  const back = page.getByRole('link', { name: 'Return to billing' });
  await expect(back).toHaveAttribute('href', `/portal/invoices/${invoice.id}`);
  await expect(page.getByRole('status').filter({ hasText: 'The last attempt to pay this invoice failed' })).toContainText('declined');
  await payWithCard(page, '4242 4242 4242 4242');
  await expect(page.getByRole('heading', { name: 'Payment received' })).toBeVisible();
  await expect(page.getByText('Visa •••• 4242')).toBeVisible();
  // The receipt's check is drawn: its circle has a size (a CSS reset once reverted the SVG's r to 0).
  expect(await page.locator('.state-icon-success circle').evaluate((c) => (c as SVGCircleElement).getBBox().width)).toBe(24);
  await noSeriousAxeViolations(page);
  await shoot(page, 'hosted-paid');
  expect(await ledger.invoices.get.query({ id: invoice.id })).toMatchObject({ status: 'paid', amountDue: 0 });

  // After paying, the link is still there and leads back to the invoice's detail, now paid.
  await back.click();
  await expect(page).toHaveURL(new RegExp(`/portal/invoices/${invoice.id}$`));
  await expect(page.getByRole('heading', { name: `Invoice ${invoice.number}`, level: 1 })).toBeVisible();
  await expect(page.getByTestId('amount-paid')).toContainText('$99.00');

  // A return path to another site is ignored: no link.
  await page.goto(`${payPath}?return=${encodeURIComponent('//evil.example/portal')}`);
  await expect(page.getByRole('heading', { name: 'Payment received' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Return to billing' })).toHaveCount(0);

  // The portal's list and detail say Paid.
  await page.goto('/portal/invoices');
  const row = page.getByTestId('invoice-row').filter({ hasText: invoice.number! });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Paid');
  await expect(row).toContainText('$0.00'); // amount due
  await noSeriousAxeViolations(page);
  await shoot(page, 'list-paid');

  await row.getByRole('link', { name: invoice.number! }).click();
  await expect(page).toHaveURL(new RegExp(`/portal/invoices/${invoice.id}$`));
  await expect(page.getByRole('heading', { name: `Invoice ${invoice.number}`, level: 1 })).toBeVisible();
  await expect(page.getByRole('main').getByText('Paid', { exact: true }).first()).toBeVisible();
  await expect(page.getByTestId('pay-invoice')).toHaveCount(0);
  // The headline says what was paid (its amount due is 0 now), and when.
  await expect(page.getByTestId('amount-paid')).toHaveText(/^\$99\.00\s*paid on \w{3} \d{1,2}, \d{4}$/);
  await expect(page.getByTestId('amount-due')).toHaveCount(0);
  await expect(page.getByTestId('totals')).toContainText(/Amount due\s*\$0\.00/);
  await expect(payments.getByRole('listitem')).toHaveCount(2); // the decline and the payment
  await expect(payments.getByRole('listitem').filter({ hasText: 'Succeeded' })).toContainText('$99.00');
  await noSeriousAxeViolations(page);
  await shoot(page, 'detail-paid');

  // The overview no longer asks for money.
  await page.goto('/portal');
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Needs attention' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: /^Pay / })).toHaveCount(0);
  await expect(page.getByTestId('invoice-row').filter({ hasText: invoice.number! })).toContainText('Paid');
  await noSeriousAxeViolations(page);
  await shoot(page, 'overview-paid');
});

test('download the PDF and check its text (pdftotext from poppler-utils)', async ({ page, baseURL }) => {
  const { ledger, invoice } = await customerOwing(page, baseURL!, 'Rosalind Franklin GmbH');
  const pdfText = async (name: string) => {
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download PDF' }).click();
    const file = (await download).suggestedFilename();
    expect(file).toBe(`${invoice.number!.replace(/[^A-Za-z0-9._-]/g, '_')}.pdf`);
    const path = test.info().outputPath(`${name}-${file}`);
    await (await download).saveAs(path);
    return execFileSync('pdftotext', ['-layout', path, '-'], { encoding: 'utf8' });
  };
  /** The total as the page prints it, character for character. */
  const pageTotal = () => page.getByTestId('totals').locator('div').filter({ has: page.locator('dt', { hasText: /^Total$/ }) }).locator('dd').textContent();

  await page.goto(`/portal/invoices/${invoice.id}`);
  await expect(page.getByRole('heading', { name: `Invoice ${invoice.number}`, level: 1 })).toBeVisible();
  const total = (await pageTotal())!;
  expect(total).toBe('$99.00');
  await noSeriousAxeViolations(page);
  await shoot(page, 'detail-due');

  const open = await pdfText('open');
  expect(open).toContain(invoice.number!);
  expect(open).toContain('Rosalind Franklin GmbH');
  expect(open).toContain(total);
  expect(open).toMatch(/\bDue\b/);
  expect(open).not.toContain('Paid on');

  // Paid on the hosted page, the PDF says so.
  await page.getByTestId('pay-invoice').click();
  await payWithCard(page, '4242 4242 4242 4242');
  await expect(page.getByRole('heading', { name: 'Payment received' })).toBeVisible();
  await page.goto(`/portal/invoices/${invoice.id}`);
  await expect(page.getByRole('main').getByText('Paid', { exact: true }).first()).toBeVisible();
  expect(await pageTotal()).toBe(total);
  const paid = await pdfText('paid');
  expect(paid).toContain(invoice.number!);
  expect(paid).toContain('Rosalind Franklin GmbH');
  expect(paid).toContain(total);
  // The day the invoice was paid, as the PDF dates everything (UTC).
  const { paidAt, status } = await ledger.invoices.get.query({ id: invoice.id });
  expect(status).toBe('paid');
  expect(paid).toContain(`Paid on ${new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(paidAt!))}`);
  expect(paid).not.toMatch(/\bDue\b/);
});
