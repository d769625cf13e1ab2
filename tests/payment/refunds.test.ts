import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLedger,
  ManualClock,
  silentLogger,
  type ChargeResult,
  type Invoice,
  type PaymentProvider,
  type RefundRequest,
  type RefundResult,
} from '@/server/ledger';
import { rejectsWith } from '../support/engine';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * Refunds from credit notes, on every store. Plan "Pro": 49.00 a month in advance, so
 * subscribing issues INV-000001 of 49.00, collected through a provider of the test's own
 * ("refunder": charges succeed, refunds are kept once per idempotency key as Stripe
 * does, and it can be told to time out or refuse). The scope sends invoices
 * (`send_invoice`), so each is collected here, when the test says.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');

function refunder() {
  const charged = new Map<string, ChargeResult>();
  const refunds = new Map<string, RefundResult & { amount: number | undefined }>();
  const calls: RefundRequest[] = [];
  const next: ('timeout' | 'fail' | 'pending')[] = [];
  const provider: PaymentProvider = {
    name: 'refunder',
    modes: ['test', 'live'],
    ensureCustomer: async (_s, c) => ({ providerCustomerId: `rf_cus_${c.id}` }),
    startSetup: async () => ({ url: 'https://refunder.example/setup' }),
    listMethods: async () => [{ providerRef: 'rf_pm_1', brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030 }],
    detachMethod: async () => {},
    async charge(_s, { idempotencyKey }) {
      let r = charged.get(idempotencyKey);
      if (!r) charged.set(idempotencyKey, (r = { status: 'succeeded', providerPaymentId: `rf_ch_${charged.size + 1}` }));
      return r;
    },
    async refund(_s, request) {
      calls.push(request);
      const behaviour = next.shift();
      let r = refunds.get(request.idempotencyKey);
      if (!r) {
        const id = `rf_re_${refunds.size + 1}`;
        r = behaviour === 'fail' ? { status: 'failed', providerRefundId: id, reason: 'the card was closed', amount: request.amount } : { status: behaviour === 'pending' ? 'pending' : 'succeeded', providerRefundId: id, amount: request.amount };
        refunds.set(request.idempotencyKey, r);
      }
      if (behaviour === 'timeout') throw new Error('timeout: no answer in 30 s'); // after refunding
      const { amount: _amount, ...result } = r;
      return result;
    },
    verifyWebhook: async () => [],
  };
  return { provider, refunds, calls, next: (...b: ('timeout' | 'fail' | 'pending')[]) => void next.push(...b) };
}

describe.each(storeFactories())('refunds from credit notes on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function setup() {
    const rf = refunder();
    const ledger = await createLedger({ store: store(), clock: new ManualClock(T0), logger: silentLogger, providers: [rf.provider] });
    const scope = uniqueScope();
    await ledger.scopes.register(scope, 'test');
    await ledger.payments.updateSettings(scope, { provider: 'refunder', collectionMethod: 'send_invoice' });
    const plan = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const customer = await ledger.customers.create(scope, { email: 'ada@example.com', name: 'Ada' });
    await ledger.payments.syncMethods(scope, customer.id);
    const openInvoice = async (): Promise<Invoice> => {
      await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
      const [inv] = (await ledger.invoices.listByCustomer(scope, customer.id)).items;
      expect(inv).toMatchObject({ status: 'open', total: 4900, amountDue: 4900 });
      return inv!;
    };
    const paidInvoice = async () => {
      const inv = await openInvoice();
      const { invoice, payment } = await ledger.collectPayment(scope, inv.id);
      expect(invoice.status).toBe('paid');
      expect(payment).toMatchObject({ status: 'succeeded', amount: 4900, amountRefunded: 0 });
      return { invoice, payment: payment! };
    };
    /** What must not have changed after a refused refund. */
    const state = async (invoiceId: string) => ({
      invoice: await ledger.invoices.get(scope, invoiceId),
      creditNotes: await ledger.invoices.listCreditNotes(scope, invoiceId),
      refunds: await ledger.refunds.list(scope, { invoiceId }),
      payments: (await ledger.payments.list(scope, { invoiceId })).items,
    });
    return { ledger, scope, customer, rf, openInvoice, paidInvoice, state };
  }

  it('a partial refund of 10.00, then the rest (39.00): two credit notes, two refunds through the provider with the key <credit note id>:refund, the payment refunded in full', async () => {
    const { ledger, scope, rf, paidInvoice } = await setup();
    const { invoice, payment } = await paidInvoice();

    const first = await ledger.refunds.creditNote(scope, invoice.id, { amount: 1000, reason: 'product_unsatisfactory', memo: 'two days down', refund: true });
    expect(first.creditNote).toMatchObject({ number: 'CN-000001', amount: 1000, reason: 'product_unsatisfactory', memo: 'two days down' });
    // A paid invoice owes nothing after a credit note: the money went back through the provider.
    expect(first.invoice).toMatchObject({ status: 'paid', credited: 1000, amountDue: 0 });
    expect(first.refund).toMatchObject({
      status: 'succeeded',
      amount: 1000,
      currency: 'USD',
      paymentId: payment.id,
      invoiceId: invoice.id,
      creditNoteId: first.creditNote.id,
      provider: 'refunder',
      providerRefundId: 'rf_re_1',
      idempotencyKey: `${first.creditNote.id}:refund`,
      reason: 'product_unsatisfactory',
      failureMessage: null,
    });
    expect(first.refund!.id).toMatch(/^rfd_/);
    expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ status: 'succeeded', amountRefunded: 1000 });

    const rest = await ledger.refunds.creditNote(scope, invoice.id, { amount: 3900, reason: 'billing_error', refund: true });
    expect(rest.refund).toMatchObject({ status: 'succeeded', amount: 3900 });
    expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ amountRefunded: 4900 });
    expect(rest.invoice).toMatchObject({ credited: 4900, amountDue: 0 });
    expect(rf.calls).toEqual([
      { providerPaymentId: payment.providerPaymentId, amount: 1000, idempotencyKey: `${first.creditNote.id}:refund` },
      { providerPaymentId: payment.providerPaymentId, amount: 3900, idempotencyKey: `${rest.creditNote.id}:refund` },
    ]);
    expect((await ledger.refunds.list(scope, { invoiceId: invoice.id })).map((r) => [r.amount, r.status])).toEqual([
      [1000, 'succeeded'],
      [3900, 'succeeded'],
    ]);
    expect(await ledger.refunds.list(scope, { paymentId: payment.id })).toEqual(await ledger.refunds.list(scope, { invoiceId: invoice.id }));
    expect(await ledger.refunds.get(scope, first.refund!.id)).toEqual(first.refund);

    // Nothing is left to refund: even 0.01 more is invalid, and nothing changes.
    const before = await state(invoice.id);
    await rejectsWith(ledger.refunds.creditNote(scope, invoice.id, { amount: 1, reason: 'billing_error', refund: true }), 'invalid');
    expect(await state(invoice.id)).toEqual(before);
    expect(rf.calls).toHaveLength(2);

    async function state(invoiceId: string) {
      return {
        invoice: await ledger.invoices.get(scope, invoiceId),
        notes: await ledger.invoices.listCreditNotes(scope, invoiceId),
        refunds: await ledger.refunds.list(scope, { invoiceId }),
        payment: await ledger.payments.get(scope, payment.id),
      };
    }
  });

  it('a refund larger than what was paid (50.00 of 49.00, or 40.00 after 10.00 refunded) is invalid: no credit note, no refund, no provider call', async () => {
    const { ledger, scope, rf, paidInvoice, state } = await setup();
    const { invoice } = await paidInvoice();
    const before = await state(invoice.id);
    const err = await rejectsWith(ledger.refunds.creditNote(scope, invoice.id, { amount: 5000, reason: 'billing_error', refund: true }), 'invalid');
    expect(err.message).toMatch(/exceeds what payment pay_\w+ has left to refund \(4900 of 4900 paid\)/);
    expect(await state(invoice.id)).toEqual(before);

    await ledger.refunds.creditNote(scope, invoice.id, { amount: 1000, reason: 'billing_error', refund: true });
    const after = await state(invoice.id);
    await rejectsWith(ledger.refunds.creditNote(scope, invoice.id, { amount: 4000, reason: 'billing_error', refund: true }), 'invalid');
    expect(await state(invoice.id)).toEqual(after);
    expect(rf.calls.map((c) => c.amount)).toEqual([1000]);
    // Malformed amounts are invalid before anything is read.
    for (const amount of [0, -100, 12.5]) await rejectsWith(ledger.refunds.creditNote(scope, invoice.id, { amount, reason: 'billing_error', refund: true }), 'invalid');
    expect(await state(invoice.id)).toEqual(after);
  });

  it('a refund on an open (unpaid) or a void invoice is illegal_state, and nothing changes; without refund the credit note is as before', async () => {
    const { ledger, scope, rf, openInvoice, state } = await setup();
    const inv = await openInvoice();
    const before = await state(inv.id);
    const err = await rejectsWith(ledger.refunds.creditNote(scope, inv.id, { amount: 1000, reason: 'billing_error', refund: true }), 'illegal_state');
    expect(err.message).toMatch(/is open: only a paid invoice can be refunded/);
    expect(await state(inv.id)).toEqual(before);

    // Without refund: today's credit note, lowering what the open invoice asks for.
    const plain = await ledger.refunds.creditNote(scope, inv.id, { amount: 900, reason: 'billing_error' });
    expect(plain.refund).toBeNull();
    expect(plain.invoice).toMatchObject({ status: 'open', credited: 900, amountDue: 4000 });
    expect(await ledger.refunds.list(scope, { invoiceId: inv.id })).toEqual([]);

    await ledger.invoices.void(scope, inv.id);
    const voided = await state(inv.id);
    await rejectsWith(ledger.refunds.creditNote(scope, inv.id, { amount: 100, reason: 'billing_error', refund: true }), 'illegal_state');
    expect(await state(inv.id)).toEqual(voided);
    expect(rf.calls).toEqual([]);
  });

  it('an invoice paid with nothing due (credited in full) has no payment to refund: illegal_state, nothing changes', async () => {
    const { ledger, scope, openInvoice, state } = await setup();
    const inv = await openInvoice();
    await ledger.invoices.createCreditNote(scope, inv.id, { amount: 4000, reason: 'billing_error' });
    expect((await ledger.invoices.createCreditNote(scope, inv.id, { amount: 900, reason: 'billing_error' })).invoice.status).toBe('paid');
    expect((await ledger.payments.list(scope, { invoiceId: inv.id })).items).toEqual([]);
    const before = await state(inv.id);
    await rejectsWith(ledger.refunds.creditNote(scope, inv.id, { amount: 1, reason: 'billing_error', refund: true }), 'illegal_state');
    expect(await state(inv.id)).toEqual(before);
  });

  it('the provider does not answer (it refunded, then timed out): the refund stays pending with the amount reserved; retry sends the same key and it is refunded once', async () => {
    const { ledger, scope, rf, paidInvoice } = await setup();
    const { invoice, payment } = await paidInvoice();
    rf.next('timeout');
    const { refund, creditNote } = await ledger.refunds.creditNote(scope, invoice.id, { amount: 2500, reason: 'order_change', refund: true });
    expect(refund).toMatchObject({ status: 'pending', providerRefundId: null, amount: 2500 });
    expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ amountRefunded: 2500 });
    // The reserved amount counts: only 24.00 more can be refunded meanwhile.
    await rejectsWith(ledger.refunds.creditNote(scope, invoice.id, { amount: 2401, reason: 'order_change', refund: true }), 'invalid');

    const retried = await ledger.refunds.retry(scope, refund!.id);
    expect(retried).toMatchObject({ id: refund!.id, status: 'succeeded', providerRefundId: 'rf_re_1' });
    expect(rf.calls.map((c) => c.idempotencyKey)).toEqual([`${creditNote.id}:refund`, `${creditNote.id}:refund`]);
    expect(rf.refunds.size).toBe(1); // refunded once
    expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ amountRefunded: 2500 });
    // Retrying a settled refund changes nothing and asks nobody.
    expect(await ledger.refunds.retry(scope, refund!.id)).toEqual(retried);
    expect(rf.calls).toHaveLength(2);
  });

  it('the provider refuses the refund: it is failed with the reason, the amount goes back to the payment, the credit note stands', async () => {
    const { ledger, scope, rf, paidInvoice } = await setup();
    const { invoice, payment } = await paidInvoice();
    rf.next('fail');
    const { refund, invoice: after } = await ledger.refunds.creditNote(scope, invoice.id, { amount: 2000, reason: 'billing_error', refund: true });
    expect(refund).toMatchObject({ status: 'failed', failureMessage: 'the card was closed', providerRefundId: 'rf_re_1' });
    expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ amountRefunded: 0 });
    expect(after).toMatchObject({ credited: 2000 });
    // The whole 49.00 can still be refunded… up to what the invoice has left to credit (29.00).
    await rejectsWith(ledger.refunds.creditNote(scope, invoice.id, { amount: 4900, reason: 'billing_error', refund: true }), 'invalid');
    expect((await ledger.refunds.creditNote(scope, invoice.id, { amount: 2900, reason: 'billing_error', refund: true })).refund).toMatchObject({ status: 'succeeded' });
    expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ amountRefunded: 2900 });
  });

  it('two refunds of 30.00 racing on a payment of 49.00: one is made, the other is refused, and the payment is refunded 30.00', async () => {
    const { ledger, scope, rf, paidInvoice } = await setup();
    const { invoice, payment } = await paidInvoice();
    const results = await Promise.allSettled([
      ledger.refunds.creditNote(scope, invoice.id, { amount: 3000, reason: 'duplicate', refund: true }),
      ledger.refunds.creditNote(scope, invoice.id, { amount: 3000, reason: 'duplicate', refund: true }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await ledger.payments.get(scope, payment.id)).toMatchObject({ amountRefunded: 3000 });
    expect(rf.calls.map((c) => c.amount)).toEqual([3000]);
    expect((await ledger.refunds.list(scope, { invoiceId: invoice.id })).map((r) => r.amount)).toEqual([3000]);
  });

  it("another scope's invoice or refund is not_found there", async () => {
    const { ledger, scope, paidInvoice } = await setup();
    const { invoice } = await paidInvoice();
    const { refund } = await ledger.refunds.creditNote(scope, invoice.id, { amount: 100, reason: 'billing_error', refund: true });
    const other = uniqueScope();
    await rejectsWith(ledger.refunds.creditNote(other, invoice.id, { amount: 100, reason: 'billing_error', refund: true }), 'not_found');
    await rejectsWith(ledger.refunds.get(other, refund!.id), 'not_found');
    await rejectsWith(ledger.refunds.retry(other, refund!.id), 'not_found');
    await rejectsWith(ledger.refunds.list(other, { invoiceId: invoice.id }), 'not_found');
  });
});
