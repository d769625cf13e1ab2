import { expect, test } from '@playwright/test';

test('the pricing table shows the demo plans from the database', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/plans$/);
  await expect(page.getByRole('heading', { name: 'Plans', level: 1 })).toBeVisible();

  const free = page.getByTestId('plan-free');
  const starter = page.getByTestId('plan-starter');
  const pro = page.getByTestId('plan-pro');
  await expect(free.getByRole('heading', { name: 'Free' })).toBeVisible();
  await expect(free).toContainText('$0.00');

  await expect(starter).toContainText('$19.00');
  await expect(starter).toContainText('per month');
  await expect(starter).toContainText('14-day free trial');
  await expect(starter).toContainText('100,000 calls included, then graduated pricing');
  await expect(starter).toContainText('1–1,000,000: $0.0004 per call');
  await expect(starter).toContainText('1,000,001 and above: $0.0002 per call');

  await expect(pro).toContainText('$99.00');
  await expect(pro).toContainText('volume pricing');
  await expect(pro).toContainText('$5 per 100 users');
  await expect(pro.getByText('Single sign-on')).toBeVisible();
});

test('health says ok and names the embedded database', async ({ request }) => {
  const res = await request.get('/api/health');
  expect(res.status()).toBe(200);
  expect(await res.json()).toEqual({ status: 'ok', database: 'pglite' });
});
