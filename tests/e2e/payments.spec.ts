import { expect, test, type Page } from '@playwright/test';
import { axeFindings } from './axe';
import { createLedgerClient } from '../../server/trpc/client';
import { E2E_DEMO_KEY } from '../../playwright.config';

/**
 * The sandbox's hosted pages in Chromium, through the running app: a customer adds a card
 * on the set-up page, pays an open invoice on the hosted pay page, sees a declined card's
 * message, confirms 3-D Secure, and a bad link gets the designed 404. The demo key's scope
 * is a test scope, so the sandbox serves it. Each invoice belongs to a customer with no
 * card when it is issued, so it stays open until paid here. Every page is checked with axe
 * and photographed at 390 and 1280 px into /tmp/shots/.
 */
const SHOTS = process.env.E2E_SHOTS_DIR ?? '/tmp/shots';
let seq = 0;

async function noAxeViolations(page: Page) {
  expect(await axeFindings(page)).toEqual([]);
}

async function shoot(page: Page, name: string) {
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    await page.screenshot({ path: `${SHOTS}/${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** A customer of the demo scope with an open invoice of 49.00 and no card. */
async function openInvoice(baseURL: string) {
  const ledger = createLedgerClient({ url: baseURL, apiKey: E2E_DEMO_KEY });
  const n = `${Date.now().toString(36)}-${++seq}`;
  const plan = await ledger.plans.create.mutate({ key: `e2e-team-${n}`, name: 'Team', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
  const customer = await ledger.customers.create.mutate({ email: `grace-${n}@example.com`, name: 'Grace Hopper' });
  await ledger.subscriptions.create.mutate({ customerId: customer.id, planId: plan.id });
  const [invoice] = (await ledger.invoices.listByCustomer.query({ customerId: customer.id })).items;
  expect(invoice).toMatchObject({ status: 'open', amountDue: 4900 });
  const { url } = await ledger.invoices.hostedUrl.query({ id: invoice!.id });
  return { ledger, customer, invoice: invoice!, payUrl: url };
}

test('a card added on the sandbox\'s hosted set-up page pays an open invoice on the hosted pay page', async ({ page, baseURL }) => {
  const { ledger, customer, invoice, payUrl } = await openInvoice(baseURL!);
  const { url } = await ledger.customers.createSetupSession.mutate({ customerId: customer.id, successUrl: `${baseURL}/plans?card=added`, cancelUrl: `${baseURL}/plans` });
  expect(url.startsWith(`${baseURL}/sandbox/setup/`)).toBe(true);

  await page.goto(url);
  await expect(page.getByRole('heading', { name: 'Add a card', level: 1 })).toBeVisible();
  await expect(page.getByText('This is the sandbox')).toBeVisible();
  await expect(page.getByText('4242 4242 4242 4242')).toBeVisible();
  await noAxeViolations(page);
  await shoot(page, 'setup');

  // A malformed number: told next to the field, which gets the focus; nothing saved.
  await page.getByLabel('Card number').fill('4242 4242 4242 4241');
  await page.getByLabel('Expiry (MM/YY)').fill('12/34');
  await page.getByRole('button', { name: 'Save card' }).click();
  await expect(page.locator('#setup-number-error')).toHaveText('Your card number is invalid.');
  await expect(page.getByLabel('Card number')).toBeFocused();
  await expect(page.getByLabel('Card number')).toHaveAttribute('aria-invalid', 'true');
  await noAxeViolations(page);
  await shoot(page, 'setup-invalid');
  expect(await ledger.paymentMethods.list.query({ customerId: customer.id })).toEqual([]);

  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await page.getByLabel('Expiry (MM/YY)').fill('12/34');
  await page.getByRole('button', { name: 'Save card' }).click();
  await expect(page).toHaveURL(`${baseURL}/plans?card=added`);
  const methods = await ledger.paymentMethods.list.query({ customerId: customer.id });
  expect(methods.map((m) => [m.brand, m.last4, m.expMonth, m.expYear, m.isDefault])).toEqual([['visa', '4242', 12, 2034, true]]);

  await page.goto(payUrl);
  await expect(page.getByRole('heading', { name: '$49.00', level: 1 })).toBeVisible();
  await expect(page.getByText(`Invoice ${invoice.number}`)).toBeVisible();
  await expect(page.getByText('Visa ending in 4242')).toBeVisible();
  await noAxeViolations(page);
  await shoot(page, 'pay-saved-card');
  await page.getByRole('button', { name: 'Pay $49.00' }).first().click();
  await expect(page.getByRole('heading', { name: 'Payment received' })).toBeVisible();
  await expect(page.getByText('Paid', { exact: true })).toBeVisible();
  expect(await ledger.invoices.get.query({ id: invoice.id })).toMatchObject({ status: 'paid', amountDue: 0 });
});

test('the hosted pay page: a declined card says so and another card pays; the receipt follows', async ({ page, baseURL }) => {
  const { ledger, customer, invoice, payUrl } = await openInvoice(baseURL!);
  await page.goto(payUrl);
  await expect(page.getByRole('heading', { name: '$49.00', level: 1 })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Pay with a card' })).toBeVisible();
  await expect(page.getByText('Test mode').first()).toBeVisible();
  await noAxeViolations(page);
  await shoot(page, 'pay');

  await page.getByLabel('Card number').fill('4000 0000 0000 0002');
  await page.getByLabel('Expiry (MM/YY)').fill('12/34');
  await page.getByRole('button', { name: 'Pay $49.00' }).click();
  const declined = page.locator('.alert[role="alert"]');
  await expect(declined).toHaveText('Your card was declined. Try another card.');
  await expect(declined).toBeFocused();
  await noAxeViolations(page);
  await shoot(page, 'pay-declined');
  // The declined card is not kept, and the invoice is still open.
  expect(await ledger.paymentMethods.list.query({ customerId: customer.id })).toEqual([]);
  expect((await ledger.invoices.get.query({ id: invoice.id })).status).toBe('open');

  // The number is cleared for another card; the expiry is kept.
  await expect(page.getByLabel('Card number')).toHaveValue('');
  await expect(page.getByLabel('Expiry (MM/YY)')).toHaveValue('12/34');
  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await page.getByRole('button', { name: 'Pay $49.00' }).click();
  await expect(page.getByRole('heading', { name: 'Payment received' })).toBeVisible();
  await expect(page.getByText('Visa •••• 4242')).toBeVisible();
  await noAxeViolations(page);
  await shoot(page, 'pay-paid');
  const payments = await ledger.payments.list.query({ invoiceId: invoice.id });
  expect(payments.items.map((p) => [p.attempt, p.status, p.amount, p.failureCode])).toEqual([
    [1, 'failed', 4900, 'card_declined'],
    [2, 'succeeded', 4900, null],
  ]);
});

test('3-D Secure: the pay page sends the customer to the sandbox\'s confirm page; Complete pays the invoice', async ({ page, baseURL }) => {
  const { ledger, invoice, payUrl } = await openInvoice(baseURL!);
  await page.goto(payUrl);
  await page.getByLabel('Card number').fill('4000 0025 0000 3155');
  await page.getByLabel('Expiry (MM/YY)').fill('12/34');
  await page.getByRole('button', { name: 'Pay $49.00' }).click();
  await expect(page).toHaveURL(/\/sandbox\/confirm\/[\w-]+\.[\w-]+$/);
  await expect(page.getByRole('heading', { name: 'Confirm your payment', level: 1 })).toBeVisible();
  await expect(page.getByText('$49.00')).toBeVisible();
  await noAxeViolations(page);
  await shoot(page, 'confirm');

  await page.getByRole('button', { name: 'Complete authentication' }).click();
  await expect(page).toHaveURL(/\/pay\/[\w-]+\.[\w-]+$/);
  await expect(page.getByRole('heading', { name: 'Payment received' })).toBeVisible();
  expect(await ledger.invoices.get.query({ id: invoice.id })).toMatchObject({ status: 'paid' });
  const [payment] = (await ledger.payments.list.query({ invoiceId: invoice.id })).items;
  expect(payment).toMatchObject({ status: 'succeeded', actionUrl: null });
});

test('a bad, changed or expired link is a designed 404 on every hosted page', async ({ page, baseURL }) => {
  const { payUrl } = await openInvoice(baseURL!);
  const token = payUrl.slice(payUrl.lastIndexOf('/') + 1);
  const changed = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
  for (const [path, name] of [
    [`/pay/${changed}`, 'pay-invalid'],
    [`/sandbox/setup/${token}`, 'setup-invalid-link'],
    [`/sandbox/confirm/not-a-token`, 'confirm-invalid'],
  ] as const) {
    const res = await page.goto(path);
    expect(res?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'This link has expired or is invalid', level: 1 })).toBeVisible();
    await expect(page.locator('body')).not.toContainText('Error:');
    await noAxeViolations(page);
    await shoot(page, name);
  }
});
