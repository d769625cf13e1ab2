import { expect, test, type Page } from '@playwright/test';
import { axeFindings } from './axe';
import { createLedgerClient } from '../../server/trpc/client';
import { E2E_DEMO_KEY } from '../../playwright.config';

/**
 * /portal/plans in Chromium through the running app. A new customer arrives as from the
 * public /plans (?subscribe=pro), finds Pro's button focused and starts its trial with a
 * coupon. A billing user (a portal session of a customer on Starter, its trial ended
 * through the API) upgrades to Pro through the preview dialog (Escape closes it; the
 * amount charged now is the proration invoice that /portal/invoices then lists), then
 * cancels at the period end with a reason (kept on the subscription) and resumes; a coupon
 * the server refuses shows the server's message. The page's client components call the
 * `accountPlans` procedures over /api/trpc with the session's cookie (their writes pass the
 * Origin check); a cookie call from another origin is refused. axe finds no serious or
 * critical violation, dialogs open included; screenshots at 390 and 1280 px go to
 * /tmp/shots/portal-plans-*.png.
 */
const SHOTS = process.env.E2E_SHOTS_DIR ?? '/tmp/shots';

test.use({ locale: 'en-US', timezoneId: 'America/Los_Angeles' });

async function noSeriousAxeViolations(page: Page) {
  expect(await axeFindings(page, { serious: true })).toEqual([]);
}

async function shoot(page: Page, name: string) {
  // With a modal open, the viewport as the customer sees it (a full-page shot would show the backdrop cut off).
  const fullPage = !(await page.locator('dialog[open]').count());
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    // Nothing scrolls sideways at phone width.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    for (const dir of [test.info().outputDir, SHOTS]) await page.screenshot({ path: `${dir}/portal-plans-${name}-${width}.png`, fullPage });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function signIn(page: Page) {
  await page.goto('/portal/sign-in/demo');
  await expect(page).toHaveURL(/\/portal$/);
}

test('arriving from /plans with ?subscribe=pro: Pro is focused; its trial starts with a coupon', async ({ page, baseURL }) => {
  const ledger = createLedgerClient({ url: baseURL!, apiKey: E2E_DEMO_KEY });
  const customer = await ledger.customers.create.mutate({ email: `plans-${Date.now()}@example.com`, name: 'Newcomer Ltd' });
  const { url } = await ledger.portal.createSession.mutate({ customerId: customer.id });
  await page.goto(url);
  await expect(page).toHaveURL(/\/portal$/);

  await page.goto('/portal/plans?subscribe=pro');
  await expect(page.getByRole('heading', { name: 'Plans', level: 1 })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Billing portal' }).getByRole('link', { name: 'Plans' })).toHaveAttribute('aria-current', 'page');
  const pro = page.getByTestId('choose-pro');
  await expect(pro).toHaveText('Start 14-day trial');
  await expect(pro).toBeFocused();
  await expect(page.getByTestId('plan-pro')).toContainText('$99.00');
  await expect(page.getByTestId('plan-free')).toContainText('Up to 10,000 calls a period');
  await expect(page.getByTestId('choose-free')).toHaveText('Subscribe');
  // Cheapest first (other specs may have added plans to the demo scope: the order is what counts).
  const cards = await page.locator('[data-testid^="plan-"]').allTextContents();
  const at = ['Free', 'Starter', 'Pro'].map((name) => cards.findIndex((t) => t.startsWith(name)));
  expect(at.every((i, k) => i >= 0 && (k === 0 || i > at[k - 1]!))).toBe(true);
  const prices = cards.map((t) => Number(/\$([\d,]+\.\d\d)\//.exec(t)![1]!.replace(/,/g, '')));
  expect(prices).toEqual([...prices].sort((a, b) => a - b));
  await noSeriousAxeViolations(page);
  await shoot(page, 'choose');

  await page.getByLabel('Coupon code (optional)').fill('WELCOME20');
  const subscribed = page.waitForResponse((r) => r.url().includes('/api/trpc/accountPlans.subscribe') && r.request().method() === 'POST');
  await pro.click();
  expect((await subscribed).status()).toBe(200);
  await expect(page.getByTestId('plans-notice')).toHaveText('Your 14-day trial of Pro has started. Nothing is charged until it ends.');
  await expect(page.getByTestId('current-plan')).toHaveText('Pro');
  await expect(page.getByTestId('plan-pro')).toContainText('Current plan');
  const [sub] = (await ledger.subscriptions.listByCustomer.query({ customerId: customer.id })).items;
  expect(sub).toMatchObject({ status: 'trialing', discount: { code: 'WELCOME20' } });
});

test('a billing user upgrades through the preview and finds the proration invoice; cancels with a reason, then resumes', async ({ page, baseURL }) => {
  // The longest walk here (five axe runs, six shots at two widths): on a loaded 2-core machine
  // it outlasts the default limit, which only exists to stop a hang.
  test.slow();
  const ledger = createLedgerClient({ url: baseURL!, apiKey: E2E_DEMO_KEY });
  // A customer of its own, as the demo's (Starter, 3 seats, a trial, California tax): other
  // specs change the demo customer. Its portal session signs in a billing user.
  const starter = await ledger.plans.getByKey.query({ key: 'starter' });
  const customer = await ledger.customers.create.mutate({ email: `upgrader-${Date.now()}@example.com`, name: 'Upgrader Inc', country: 'US', region: 'CA' });
  const sub = await ledger.subscriptions.create.mutate({ customerId: customer.id, planId: starter.id, quantity: 3 });
  const { url } = await ledger.portal.createSession.mutate({ customerId: customer.id });
  await page.goto(url);
  await expect(page).toHaveURL(/\/portal$/);

  // On trial, a change charges nothing now.
  await page.goto('/portal/plans');
  await expect(page.getByTestId('current-plan')).toHaveText('Starter');
  await page.getByTestId('choose-pro').click();
  const dialog = page.getByRole('dialog', { name: 'Upgrade to Pro' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('nothing is charged now');
  await noSeriousAxeViolations(page);
  await shoot(page, 'upgrade-trial');
  // Escape closes it, focus back on the button, nothing changed.
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('choose-pro')).toBeFocused();

  // The trial ends (19.00 + CA tax billed); the upgrade now prorates.
  await ledger.subscriptions.endTrial.mutate({ id: sub.id });
  await page.reload();
  await expect(page.getByTestId('current-plan')).toHaveText('Starter');
  await noSeriousAxeViolations(page);
  await shoot(page, 'active');

  // While the preview is on its way the dialog shows its skeleton, Confirm disabled: the
  // preview's request is held here until that has been seen.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const isPreview = (u: URL) => u.pathname.includes('accountPlans.previewChange');
  await page.route(
    isPreview,
    async (route) => {
      await held;
      await route.continue();
    },
    { times: 1 },
  );
  await page.getByTestId('choose-pro').click();
  const loading = page.getByTestId('change-dialog'); // titled "Change to Pro" until the preview says it is an upgrade
  await expect(loading.getByRole('status')).toHaveText('Working out the price…');
  await expect(loading.locator('[aria-busy="true"] > span').first()).toBeVisible();
  await expect(page.getByTestId('confirm-change')).toBeDisabled();
  await shoot(page, 'upgrade-loading');
  release();
  await expect(dialog).toContainText('This takes effect now.');
  const chargeNow = page.getByTestId('charge-now-total');
  // About 99.00 − 19.00 for (nearly) the whole period, plus 7.25 % tax: 85.80 at most.
  await expect(chargeNow).toHaveText(/^\$8\d\.\d\d$/);
  const charged = (await chargeNow.textContent())!;
  await expect(page.getByTestId('charge-now-lines')).toContainText('Pro');
  await expect(page.getByTestId('next-invoice-total')).toHaveText('$106.18'); // 99.00 + 7.25 %
  await noSeriousAxeViolations(page);
  await shoot(page, 'upgrade');
  const changed = page.waitForResponse((r) => r.url().includes('/api/trpc/accountPlans.changePlan') && r.request().method() === 'POST');
  await page.getByTestId('confirm-change').click();
  expect((await changed).status()).toBe(200);
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('plans-notice')).toHaveText('You are now on Pro.');
  await expect(page.getByTestId('current-plan')).toHaveText('Pro');

  await page.goto('/portal/invoices');
  const rows = page.getByTestId('invoice-row');
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: charged })).toHaveCount(1);
  const invoices = (await ledger.invoices.listByCustomer.query({ customerId: customer.id })).items;
  const update = invoices.find((i) => i.billingReason === 'subscription_update')!;
  expect(`$${(update.total / 100).toFixed(2)}`).toBe(charged);

  // Cancel at the period end with a reason, then resume.
  await page.goto('/portal/plans');
  await page.getByTestId('open-cancel').click();
  const cancel = page.getByRole('dialog', { name: 'Cancel Pro' });
  await expect(cancel).toContainText('Single sign-on');
  await cancel.getByLabel('Now').check();
  await expect(page.getByTestId('cancel-credit')).toContainText('credited to your balance');
  await cancel.getByLabel('At the end of the period').check();
  await cancel.getByLabel('Missing features I need').check();
  await cancel.getByLabel(/Anything else/).fill('Need audit logs');
  await noSeriousAxeViolations(page);
  await shoot(page, 'cancel');
  await page.getByTestId('confirm-cancel').click();
  await expect(cancel).toBeHidden();
  await expect(page.getByText('Cancels at period end')).toBeVisible();
  const resume = page.getByTestId('resume');
  await expect(resume).toBeVisible();
  expect((await ledger.subscriptions.get.query({ id: sub.id })).metadata).toMatchObject({ cancellation_feedback: 'missing_features', cancellation_comment: 'Need audit logs' });
  await noSeriousAxeViolations(page);
  await shoot(page, 'canceling');

  await resume.click();
  await expect(page.getByTestId('plans-notice')).toContainText('the cancellation is withdrawn');
  await expect(page.getByTestId('resume')).toHaveCount(0);
  await expect(page.getByTestId('open-cancel')).toBeVisible();
  expect((await ledger.subscriptions.get.query({ id: sub.id })).cancelAtPeriodEnd).toBe(false);

  // A coupon the server refuses: its message, at the field; nothing applied.
  await page.getByLabel('Coupon code', { exact: true }).fill('nope-42');
  await page.getByRole('button', { name: 'Apply coupon' }).click();
  await expect(page.locator('#coupon-error')).toHaveText('coupon NOPE-42 not found');
  await expect(page.getByLabel('Coupon code', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  expect((await ledger.subscriptions.get.query({ id: sub.id })).discount).toBeNull();
});

test('a member sees the plans read-only, told whom to ask; the procedures refuse the member', async ({ page, browser, baseURL }) => {
  await signIn(page);
  const invitee = `member-${Date.now()}@example.com`;
  // A cookie-signed POST says where it comes from, as the portal's pages do (CSRF check).
  const ours = { origin: new URL(baseURL!).origin };
  expect((await page.request.post('/api/trpc/portal.members.invite', { headers: ours, data: { json: { email: invitee, role: 'member' } } })).status()).toBe(200);
  const other = await browser.newContext({ locale: 'en-US', timezoneId: 'America/Los_Angeles' });
  try {
    const m = await other.newPage();
    await m.goto(`/dev/mailbox?to=${encodeURIComponent(invitee)}`);
    await m.getByTestId('mail-link').first().click();
    await m.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await expect(m.getByRole('heading', { name: 'Check your email' })).toBeVisible();
    await m.goto(`/dev/mailbox?to=${encodeURIComponent(invitee)}`);
    await m.getByTestId('mail').filter({ hasText: 'Sign in to your billing portal' }).first().getByTestId('mail-link').click();
    await m.waitForURL((u) => u.pathname === '/portal');

    await m.goto('/portal/plans');
    await expect(m.getByText('ask an owner or a billing user')).toBeVisible();
    // Every plan but the current one has a button: all disabled, as are seats and cancel.
    const choose = m.locator('[data-testid^="choose-"]');
    await expect(choose.first()).toBeVisible();
    await expect(choose).toHaveCount((await m.locator('[data-testid^="plan-"]').count()) - 1);
    for (const b of await choose.all()) await expect(b).toBeDisabled();
    for (const id of ['open-cancel', 'review-seats']) await expect(m.getByTestId(id)).toBeDisabled();
    await expect(m.getByLabel('Coupon code')).toHaveCount(0);
    const refused = await m.request.post('/api/trpc/accountPlans.changePlan', { headers: ours, data: { json: { planKey: 'pro' } } });
    expect(refused.status()).toBe(403);
    expect(JSON.stringify(await refused.json())).toContain('a member may see billing but not change it');
    // The same cookie from another site's page is refused before any role is looked at.
    const crossSite = await m.request.post('/api/trpc/accountPlans.changePlan', { headers: { origin: 'https://evil.example' }, data: { json: { planKey: 'pro' } } });
    expect(crossSite.status()).toBe(403);
    expect(JSON.stringify(await crossSite.json())).toContain('cross-site request refused');
    await noSeriousAxeViolations(m);
    await shoot(m, 'member');
  } finally {
    await other.close();
  }
});
