import { expect, test } from '@playwright/test';
import { createLedgerClient } from '../../server/trpc/client';
import { E2E_DEMO_KEY } from '../../playwright.config';

/**
 * Billing through the running app with the typed client: a test clock rehearses three
 * months of the demo's Starter plan (14-day trial, 3 seats included then 8.00 a seat),
 * with the demo's WELCOME20 coupon (20 % off for 3 invoices) and California's 7.25 %.
 * The demo key is a test scope's (`ldg_test_…`); only the customer created on the clock
 * moves: the demo's own customer stays at the real time.
 */
test('three months rehearsed with a test clock: trial, coupon, seats and tax, invoice by invoice', async ({ baseURL, request }) => {
  const ledger = createLedgerClient({ url: baseURL!, apiKey: E2E_DEMO_KEY });
  const start = new Date('2030-01-10T09:00:00.000Z');
  const clock = await ledger.testClocks.create.mutate({ at: start, name: 'e2e: three months of Starter' });
  expect(clock).toMatchObject({ id: expect.stringMatching(/^clk_/), now: start });
  try {
    const starter = await ledger.plans.getByKey.query({ key: 'starter' });
    const customer = await ledger.customers.create.mutate({ email: 'ada@example.com', name: 'Ada', country: 'US', region: 'CA', testClockId: clock.id });
    const sub = await ledger.subscriptions.create.mutate({ customerId: customer.id, planId: starter.id, quantity: 5, couponCode: 'welcome20' });
    expect(sub.status).toBe('trialing');

    const { report, now } = await ledger.testClocks.advance.mutate({ id: clock.id, to: new Date('2030-04-01T00:00:00.000Z') });
    expect(now).toEqual(new Date('2030-04-01T00:00:00.000Z'));
    // the trial's end and two renewals of this customer, and nobody else's
    expect(report).toEqual({ periods: 3, invoicesCreated: 3, invoicesFinalized: 3 });

    const { items } = await ledger.invoices.listByCustomer.query({ customerId: customer.id });
    const invoices = items.sort((a, b) => a.issueAt.getTime() - b.issueAt.getTime());
    expect(invoices.map((i) => i.issueAt.toISOString())).toEqual([
      '2030-01-24T09:00:00.000Z', // the trial ends: the first paid month's fees
      '2030-02-24T09:00:00.000Z',
      '2030-03-24T09:00:00.000Z',
    ]);
    // 19.00 + 2 seats × 8.00 = 35.00; 20 % off = 28.00; 7.25 % of 28.00 = 2.03 → 30.03
    for (const inv of invoices) {
      expect(inv).toMatchObject({ status: 'open', currency: 'USD', subtotal: 3500, discount: 700, tax: 203, total: 3003 });
      expect(inv.number).toMatch(/^INV-\d{6}$/);
      expect(inv.taxRate).toMatchObject({ displayName: 'CA sales tax', percentage: '7.25' });
    }
    const full = await ledger.invoices.get.query({ id: invoices[1]!.id });
    expect(full.lines.map((l) => l.id)).toEqual(['usage:api_calls', 'base_fee:plan', 'license:seats']);

    // The cycle over HTTP, for the key's scope at the real time: the clock's customer is
    // not its business, and the demo customer's trial has not ended.
    const run = await request.post('/api/billing/run', { headers: { authorization: `Bearer ${E2E_DEMO_KEY}` } });
    expect(run.status()).toBe(200);
    expect(await run.json()).toEqual({ periods: 0, invoicesCreated: 0, invoicesFinalized: 0 });
    expect((await request.post('/api/billing/run')).status()).toBe(401);
  } finally {
    // The clock goes, and its customer with everything of hers.
    expect(await ledger.testClocks.delete.mutate({ id: clock.id })).toMatchObject({ deleted: true });
  }
});
