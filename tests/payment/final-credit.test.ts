import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLedger, ManualClock, silentLogger, type Invoice } from '@/server/ledger';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * A final invoice's credit, on every store. Plan "Pro": 49.00 a month in advance, paid
 * through the sandbox (4242). Canceled "now" with `prorate` 10 days into the period of
 * 15 January – 15 February (31 days), the final invoice credits the unused 21 days:
 * 49.00 × 21/31 = 33.19, a total of −33.19. The scope's `finalInvoiceCredit` decides
 * whether that is refunded through the provider or kept as the customer's balance.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const DAY = 86_400_000;

describe.each(storeFactories())('a final invoice credit on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function setup(finalInvoiceCredit?: 'balance' | 'refund') {
    const clock = new ManualClock(T0);
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger });
    const scope = uniqueScope();
    await ledger.scopes.register(scope, 'test');
    // Invoices are sent, so each is collected here, when the test says.
    await ledger.payments.updateSettings(scope, { collectionMethod: 'send_invoice', ...(finalInvoiceCredit ? { finalInvoiceCredit } : {}) });
    const plan = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const customer = await ledger.customers.create(scope, { email: 'ada@example.com', name: 'Ada' });
    await ledger.payments.sandbox.attachCard(scope, customer.id, { number: '4242 4242 4242 4242', expMonth: 12, expYear: 2030 });
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    const invoices = async () => (await ledger.invoices.listByCustomer(scope, customer.id)).items;
    /** Collects the subscription's open invoices: each paid by one payment of 49.00. */
    const payOpen = async () => {
      for (const inv of await invoices()) if (inv.status === 'open') expect((await ledger.collectPayment(scope, inv.id)).invoice.status).toBe('paid');
    };
    await payOpen();
    const paymentOf = async (inv: Invoice) => (await ledger.payments.list(scope, { invoiceId: inv.id })).items.find((p) => p.status === 'succeeded')!;
    const finalInvoice = async () => (await invoices()).find((i) => i.billingReason === 'subscription_cancel')!;
    const cancelNow = async (at: number) => {
      clock.set(at);
      await ledger.subscriptions.cancel(scope, sub.id, { at: 'now', prorate: true });
      await ledger.billing.run(scope); // finalizes the final invoice if it still waits
      return finalInvoice();
    };
    return { ledger, clock, scope, customer, invoices, payOpen, paymentOf, cancelNow };
  }

  it("'refund': the credit of 33.19 is refunded from the period's payment of 49.00 and recorded on the final invoice; nothing is left as balance", async () => {
    const { ledger, scope, customer, invoices, paymentOf, cancelNow } = await setup('refund');
    const [first] = await invoices();
    const final = await cancelNow(T0.getTime() + 10 * DAY);
    expect(final).toMatchObject({ total: -3319, creditRefunded: 3319 });
    const payment = await paymentOf(first!);
    expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ amount: 4900, amountRefunded: 3319 });
    expect(await ledger.refunds.list(scope, { invoiceId: first!.id })).toEqual([
      expect.objectContaining({
        paymentId: payment.id,
        amount: 3319,
        status: 'succeeded',
        provider: 'sandbox',
        creditNoteId: null,
        reason: 'final_invoice_credit',
        idempotencyKey: `${final.id}:credit-refund:${payment.id}`,
      }),
    ]);
    expect(await ledger.invoices.creditBalance(scope, customer.id, 'USD')).toBe(0);
    // Running it again (a retried hook) refunds nothing more.
    expect(await ledger.refunds.refundFinalCredit(scope, final.id)).toEqual([]);
    expect((await ledger.payments.get(scope, payment.id)).amountRefunded).toBe(3319);
  });

  it("a run that refunded but could not record (the process died between): the next run records the 33.19 and refunds nothing more", async () => {
    const { ledger, scope, customer, invoices, paymentOf, cancelNow } = await setup('refund');
    const [first] = await invoices();
    const record = vi.spyOn(ledger.invoices, 'recordCreditRefund').mockRejectedValueOnce(new Error('connection reset'));
    const final = await cancelNow(T0.getTime() + 10 * DAY);
    expect(final).toMatchObject({ total: -3319, creditRefunded: 0 });
    const payment = await paymentOf(first!);
    expect(payment.amountRefunded).toBe(3319);
    expect(await ledger.refunds.refundFinalCredit(scope, final.id)).toEqual([]);
    expect(record).toHaveBeenLastCalledWith(scope, final.id, 3319);
    expect(await ledger.invoices.get(scope, final.id)).toMatchObject({ creditRefunded: 3319 });
    expect((await ledger.payments.get(scope, payment.id)).amountRefunded).toBe(3319);
    expect(await ledger.refunds.list(scope, { invoiceId: first!.id })).toHaveLength(1);
    expect(await ledger.invoices.creditBalance(scope, customer.id, 'USD')).toBe(0);
    record.mockRestore();
  });

  it("'balance' (the default): nothing is refunded; the 33.19 stays as the customer's balance", async () => {
    const { ledger, scope, customer, invoices, paymentOf, cancelNow } = await setup();
    expect((await ledger.payments.settings(scope)).finalInvoiceCredit).toBe('balance');
    const [first] = await invoices();
    const final = await cancelNow(T0.getTime() + 10 * DAY);
    expect(final).toMatchObject({ total: -3319, creditRefunded: 0 });
    expect((await paymentOf(first!)).amountRefunded).toBe(0);
    expect(await ledger.refunds.list(scope, { invoiceId: first!.id })).toEqual([]);
    expect(await ledger.invoices.creditBalance(scope, customer.id, 'USD')).toBe(3319);
  });

  it("'refund' from two payments, newest first, never more than each has left: 9.00 from February's (40.00 of it refunded already), 22.50 from January's", async () => {
    const { ledger, clock, scope, invoices, payOpen, paymentOf, cancelNow } = await setup('refund');
    // The second period (15 February – 15 March, 28 days) is billed and paid.
    clock.set(T0.getTime() + 31 * DAY);
    await ledger.billing.run(scope);
    await payOpen();
    const [jan, feb] = (await invoices()).sort((a, b) => a.issueAt.getTime() - b.issueAt.getTime());
    expect([jan!.status, feb!.status, feb!.total]).toEqual(['paid', 'paid', 4900]);
    await ledger.refunds.creditNote(scope, feb!.id, { amount: 4000, reason: 'product_unsatisfactory', refund: true });

    // Canceled 10 days into February's period: 49.00 × 18/28 = 31.50 of credit.
    const final = await cancelNow(T0.getTime() + 41 * DAY);
    expect(final).toMatchObject({ total: -3150, creditRefunded: 3150 });
    const [janPay, febPay] = [await paymentOf(jan!), await paymentOf(feb!)];
    expect((await ledger.payments.get(scope, febPay.id)).amountRefunded).toBe(4900);
    expect((await ledger.payments.get(scope, janPay.id)).amountRefunded).toBe(2250);
    const finalRefunds = [...(await ledger.refunds.list(scope, { invoiceId: feb!.id })), ...(await ledger.refunds.list(scope, { invoiceId: jan!.id }))].filter(
      (r) => r.reason === 'final_invoice_credit',
    );
    expect(finalRefunds.map((r) => [r.paymentId, r.amount, r.status])).toEqual([
      [febPay.id, 900, 'succeeded'],
      [janPay.id, 2250, 'succeeded'],
    ]);
  });
});
