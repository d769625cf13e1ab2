import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newestInvoiceFirst } from '../../server/ledger';
import { upcomingInvoice } from '../../server/ledger/invoice/upcoming';
import { rejectsWith, testEngine } from '../support/engine';
import { otherAppOf, storeFactories, useStore } from '../support/stores';

/**
 * The engine's numbered pages of a customer's invoices (what the portal lists), the
 * invoices still owed, and the upcoming invoice, on every store. Plan "Team" is 49.00 a
 * month in advance; the customer subscribes on 2024-01-01 with no card (its invoices are
 * sent, due in days) and the billing cycle runs on 2025-12-01: 24 invoices, Jan 2024 …
 * Dec 2025, all open, 49.00 each.
 */
describe.each(storeFactories())('invoice pages on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function twoYearsOfInvoices() {
    const e = await testEngine(store(), { start: '2024-01-01T00:00:00Z' });
    const { ledger, scope, clock } = e;
    const plan = await ledger.plans.create(scope, { key: 'team', name: 'Team', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const customer = await ledger.customers.create(scope, { email: 'ada@example.com', name: 'Ada' });
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    clock.set('2025-12-01T00:00:00Z');
    await ledger.billing.run(scope);
    return { ...e, plan, customer, sub };
  }

  it('24 invoices in pages of 10: page 1 is Dec 2025…Mar 2025, page 3 the last 4 (Apr…Jan 2024), 3 pages; past the end is page 3', async () => {
    const { ledger, scope, customer } = await twoYearsOfInvoices();
    const month = (d: Date) => d.toISOString().slice(0, 7);
    const p1 = await ledger.invoices.pageByCustomer(scope, customer.id, { page: 1, perPage: 10 });
    expect({ page: p1.page, pageCount: p1.pageCount, total: p1.total }).toEqual({ page: 1, pageCount: 3, total: 24 });
    expect(p1.items.map((i) => month(i.issueAt))).toEqual(['2025-12', '2025-11', '2025-10', '2025-09', '2025-08', '2025-07', '2025-06', '2025-05', '2025-04', '2025-03']);
    const p3 = await ledger.invoices.pageByCustomer(scope, customer.id, { page: 3, perPage: 10 });
    expect(p3.items.map((i) => month(i.issueAt))).toEqual(['2024-04', '2024-03', '2024-02', '2024-01']);
    const past = await ledger.invoices.pageByCustomer(scope, customer.id, { page: 99, perPage: 10 });
    expect({ page: past.page, pageCount: past.pageCount, ids: past.items.map((i) => i.id) }).toEqual({ page: 3, pageCount: 3, ids: p3.items.map((i) => i.id) });
    // The defaults: page 1 of 20.
    const d = await ledger.invoices.pageByCustomer(scope, customer.id);
    expect([d.page, d.pageCount, d.items.length]).toEqual([1, 2, 20]);
  });

  it('the pages hold exactly the cursor list\'s invoices, newest first', async () => {
    const { ledger, scope, customer } = await twoYearsOfInvoices();
    const all = (await ledger.invoices.listByCustomer(scope, customer.id, { limit: 100 })).items.sort(newestInvoiceFirst);
    const paged = [];
    for (let page = 1; page <= 5; page++) paged.push(...(await ledger.invoices.pageByCustomer(scope, customer.id, { page, perPage: 5 })).items);
    expect(paged.map((i) => i.id)).toEqual(all.map((i) => i.id));
    expect(paged).toHaveLength(24);
  });

  it('a customer with no invoice: page 1 of 1, empty; an unknown customer or another app\'s: not_found; bad page input: invalid', async () => {
    const { ledger, scope, customer } = await twoYearsOfInvoices();
    const fresh = await ledger.customers.create(scope, { email: 'bo@example.com', name: 'Bo' });
    expect(await ledger.invoices.pageByCustomer(scope, fresh.id)).toEqual({ items: [], page: 1, pageCount: 1, total: 0 });
    await rejectsWith(ledger.invoices.pageByCustomer(otherAppOf(scope), customer.id), 'not_found');
    await rejectsWith(ledger.invoices.pageByCustomer(scope, 'cst_nope'), 'invalid');
    await rejectsWith(ledger.invoices.pageByCustomer(scope, customer.id, { page: 0 }), 'invalid');
    await rejectsWith(ledger.invoices.pageByCustomer(scope, customer.id, { perPage: 101 }), 'invalid');
    await rejectsWith(ledger.invoices.listPayable(otherAppOf(scope), customer.id), 'not_found');
  });

  it('owed: the 24 open invoices of 49.00 oldest first (1,176.00); once Jan 2024 is paid and Feb voided, 22 from Mar 2024', async () => {
    const { ledger, scope, customer } = await twoYearsOfInvoices();
    const owed = await ledger.invoices.listPayable(scope, customer.id);
    expect(owed).toHaveLength(24);
    expect(owed.reduce((sum, i) => sum + i.amountDue, 0)).toBe(117_600);
    expect(owed[0]!.issueAt.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    await ledger.invoices.markPaid(scope, owed[0]!.id);
    await ledger.invoices.void(scope, owed[1]!.id);
    const left = await ledger.invoices.listPayable(scope, customer.id);
    expect(left).toHaveLength(22);
    expect(left[0]!.issueAt.toISOString()).toBe('2024-03-01T00:00:00.000Z');
  });
});

describe('the upcoming invoice (invoices.preview and the portal\'s next invoice)', () => {
  const store = useStore(storeFactories()[0]!, { beforeAll, afterAll });

  async function engine() {
    const e = await testEngine(store(), { start: '2025-01-01T00:00:00Z' });
    const plan = await e.ledger.plans.create(e.scope, { key: 'team', name: 'Team', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900, trialDays: 14 });
    const customer = await e.ledger.customers.create(e.scope, { email: 'ada@example.com', name: 'Ada' });
    return { ...e, plan, customer };
  }

  it('mid-period: the period end (Feb 1) bills the next month in advance, 49.00; it bills something', async () => {
    const { ledger, scope, clock, plan, customer } = await engine();
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, trialDays: 0 });
    clock.set('2025-01-15T00:00:00Z');
    const { invoice, billsNothing } = await upcomingInvoice(ledger, scope, sub);
    expect(invoice).toMatchObject({ issueAt: new Date('2025-02-01T00:00:00Z'), billingReason: 'subscription_cycle', total: 4900, currency: 'USD' });
    expect(billsNothing).toBe(false);
  });

  it('a trial cancelled at its end: its last period bills nothing (a 0.00 invoice, flagged); once ended: illegal_state', async () => {
    const { ledger, scope, clock, plan, customer } = await engine();
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    const canceling = await ledger.subscriptions.cancel(scope, sub.id, { at: 'period_end' });
    const { invoice, billsNothing } = await upcomingInvoice(ledger, scope, canceling);
    expect(invoice).toMatchObject({ billingReason: 'subscription_cancel', total: 0, lines: [] });
    expect(billsNothing).toBe(true);
    clock.set('2025-02-01T00:00:00Z');
    await ledger.billing.run(scope);
    await rejectsWith(upcomingInvoice(ledger, scope, await ledger.subscriptions.get(scope, sub.id)), 'illegal_state');
  });
});
