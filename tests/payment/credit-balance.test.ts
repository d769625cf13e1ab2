import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectsWith, testEngine } from '../support/engine';
import { otherAppOf, storeFactories, useStore } from '../support/stores';

/**
 * The customer's credit balance, per currency, across its subscriptions. Plan "Pro" is
 * 30.00 a month in advance, "Basic" 10.00. Subscribed to Pro on April 1 (30 days), the
 * customer cancels now with proration on April 16: the final invoice credits the unused
 * half, −15.00. That credit is the customer's balance: its next subscription's first
 * invoice takes from it, and a refund through the provider (recordCreditRefund) takes
 * it out of the balance.
 */
const APRIL_1 = '2025-04-01T00:00:00Z';
const APRIL_16 = '2025-04-16T00:00:00Z';

describe.each(storeFactories())('customer credit balance on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function canceledWithCredit() {
    const e = await testEngine(store(), { start: APRIL_1 });
    const { ledger, scope, clock } = e;
    await ledger.scopes.register(scope, 'test');
    const pro = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 3000 });
    const basic = await ledger.plans.create(scope, { key: 'basic', name: 'Basic', currency: 'USD', interval: { unit: 'month' }, basePrice: 1000 });
    const customer = await ledger.customers.create(scope, { email: 'ada@example.com', name: 'Ada' });
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: pro.id });
    clock.set(APRIL_16);
    await ledger.subscriptions.cancel(scope, sub.id, { at: 'now', prorate: true });
    const invoices = async () => (await ledger.invoices.listByCustomer(scope, customer.id)).items.sort((a, b) => a.number!.localeCompare(b.number!));
    const [, final] = await invoices();
    expect(final).toMatchObject({ billingReason: 'subscription_cancel', total: -1500, amountDue: 0, creditRefunded: 0 });
    return { ...e, basic, customer, final: final!, invoices };
  }

  it('a final invoice of −15.00 leaves 15.00 of balance, which the next subscription\'s 10.00 invoice takes: 5.00 left', async () => {
    const { ledger, scope, basic, customer, invoices } = await canceledWithCredit();
    expect(await ledger.invoices.creditBalance(scope, customer.id, 'USD')).toBe(1500);
    expect(await ledger.invoices.creditBalance(scope, customer.id, 'EUR')).toBe(0);
    await ledger.subscriptions.create(scope, { customerId: customer.id, planId: basic.id });
    const [, , next] = await invoices();
    expect(next).toMatchObject({ billingReason: 'subscription_create', total: 1000, creditApplied: 1000, amountDue: 0 });
    expect(await ledger.invoices.creditBalance(scope, customer.id, 'USD')).toBe(500);
  });

  it('recordCreditRefund: 10.00 refunded leaves 5.00, which the next 10.00 invoice takes, 5.00 due', async () => {
    const { ledger, scope, basic, customer, final, invoices } = await canceledWithCredit();
    const refunded = await ledger.invoices.recordCreditRefund(scope, final.id, 1000);
    expect(refunded).toMatchObject({ id: final.id, creditRefunded: 1000, total: -1500 });
    expect(await ledger.invoices.creditBalance(scope, customer.id, 'USD')).toBe(500);
    await ledger.subscriptions.create(scope, { customerId: customer.id, planId: basic.id });
    const [, , next] = await invoices();
    expect(next).toMatchObject({ total: 1000, creditApplied: 500, amountDue: 500 });
    expect(await ledger.invoices.creditBalance(scope, customer.id, 'USD')).toBe(0);
  });

  it('recordCreditRefund never exceeds the credit still unapplied; bad input changes nothing', async () => {
    const { ledger, scope, basic, customer, final, invoices } = await canceledWithCredit();
    await rejectsWith(ledger.invoices.recordCreditRefund(scope, final.id, 1501), 'invalid');
    await rejectsWith(ledger.invoices.recordCreditRefund(scope, final.id, 0), 'invalid');
    await rejectsWith(ledger.invoices.recordCreditRefund(scope, final.id, 2.5), 'invalid');
    const [first] = await invoices();
    await rejectsWith(ledger.invoices.recordCreditRefund(scope, first!.id, 100), 'illegal_state'); // a 30.00 invoice has no credit
    expect((await ledger.invoices.get(scope, final.id)).creditRefunded).toBe(0);
    await ledger.invoices.recordCreditRefund(scope, final.id, 1500);
    await rejectsWith(ledger.invoices.recordCreditRefund(scope, final.id, 1), 'invalid');
    expect((await ledger.invoices.get(scope, final.id)).creditRefunded).toBe(1500);
    expect(await ledger.invoices.creditBalance(scope, customer.id, 'USD')).toBe(0);
    // Once applied to a later invoice, the credit cannot be refunded any more.
    const again = await canceledWithCredit();
    await again.ledger.subscriptions.create(again.scope, { customerId: again.customer.id, planId: again.basic.id });
    await rejectsWith(again.ledger.invoices.recordCreditRefund(again.scope, again.final.id, 501), 'invalid');
    expect(await again.ledger.invoices.recordCreditRefund(again.scope, again.final.id, 500)).toMatchObject({ creditRefunded: 500 });
    void basic;
  });

  it('two refunds racing for the last 15.00: one is recorded, the other refused', async () => {
    const { ledger, scope, customer, final } = await canceledWithCredit();
    const results = await Promise.allSettled([
      ledger.invoices.recordCreditRefund(scope, final.id, 1000),
      ledger.invoices.recordCreditRefund(scope, final.id, 1000),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await ledger.invoices.get(scope, final.id)).creditRefunded).toBe(1000);
    expect(await ledger.invoices.creditBalance(scope, customer.id, 'USD')).toBe(500);
  });

  it('another app of the tenant sees neither the balance nor the invoice', async () => {
    const { ledger, scope, customer, final } = await canceledWithCredit();
    const other = otherAppOf(scope);
    await rejectsWith(ledger.invoices.creditBalance(other, customer.id, 'USD'), 'not_found');
    await rejectsWith(ledger.invoices.recordCreditRefund(other, final.id, 100), 'not_found');
    expect((await ledger.invoices.get(scope, final.id)).creditRefunded).toBe(0);
  });
});
