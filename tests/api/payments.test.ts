import { beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, scope, silentLogger, type Ledger, type Scope } from '@/server/ledger';
import { createCaller } from '@/server/trpc/root';
import { codeOf } from '../support/trpc';

/**
 * Paying invoices through the tRPC procedures (createCaller: the real routers and
 * engine, no HTTP): `invoices.pay`, `payments.list`, `payments.get`. Plan "Pro" is
 * 49.00 a month in advance, so subscribing issues an open invoice of 49.00. Cards are
 * attached with the engine's sandbox (the hosted page comes later).
 */
let ledger: Ledger;
const api = (s: Scope) => createCaller({ ledger, auth: { kind: 'api_key', scope: s, keyId: 'key_test' } });
let n = 0;
const T0 = new Date('2025-01-15T10:00:00.000Z');

/** A test scope with a customer holding `card`, and that customer's open invoice of 49.00. */
async function openInvoice(card: string | null, mode: 'test' | 'live' = 'test') {
  const s = scope(`pay-${++n}`, 'app');
  await ledger.scopes.register(s, mode);
  const plan = await api(s).plans.create({ key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
  const customer = await api(s).customers.create({ email: 'ada@example.com', name: 'Ada' });
  // The card comes after the subscription: with no card then, the invoice is sent (open),
  // not charged at finalization, and the test pays it.
  await api(s).subscriptions.create({ customerId: customer.id, planId: plan.id });
  if (card) await ledger.payments.sandbox.attachCard(s, customer.id, { number: card, expMonth: 12, expYear: 2030 });
  const [invoice] = (await api(s).invoices.listByCustomer({ customerId: customer.id })).items;
  return { s, customer, invoice: invoice! };
}

beforeAll(async () => {
  ledger = await createLedger({ logger: silentLogger, clock: new ManualClock(T0) });
});

describe('invoices.pay and payments', () => {
  it('pays an open invoice of 49.00 with 4242…: paid, one succeeded payment, listed and read back', async () => {
    const { s, customer, invoice } = await openInvoice('4242424242424242');
    const { invoice: paid, payment } = await api(s).invoices.pay({ id: invoice.id });
    expect(paid).toMatchObject({ status: 'paid', amountDue: 0 });
    expect(payment).toMatchObject({ status: 'succeeded', amount: 4900, attempt: 1, idempotencyKey: `${invoice.id}:attempt:1` });
    expect(await api(s).payments.list({ invoiceId: invoice.id })).toEqual({ items: [payment], nextCursor: null });
    expect(await api(s).payments.list({ customerId: customer.id })).toEqual({ items: [payment], nextCursor: null });
    expect(await api(s).payments.get({ id: payment!.id })).toEqual(payment);
    expect(await codeOf(api(s).invoices.pay({ id: invoice.id }))).toBe('PRECONDITION_FAILED');
  });

  it('a declined card (0002): the failed payment with card_declined, the invoice still open', async () => {
    const { s, invoice } = await openInvoice('4000000000000002');
    const r = await api(s).invoices.pay({ id: invoice.id });
    expect([r.invoice.status, r.invoice.amountDue, r.payment?.status, r.payment?.failureCode]).toEqual(['open', 4900, 'failed', 'card_declined']);
  });

  it('bad input is BAD_REQUEST; another scope\'s invoice or payment is NOT_FOUND; the sandbox in a live scope is PRECONDITION_FAILED', async () => {
    const { s, invoice } = await openInvoice('4242424242424242');
    const { payment } = await api(s).invoices.pay({ id: invoice.id });
    expect(await codeOf(api(s).invoices.pay({ id: 'pay_01h455vb4pex5vsknk084sn02q' }))).toBe('BAD_REQUEST');
    expect(await codeOf(api(s).payments.get({ id: invoice.id }))).toBe('BAD_REQUEST');
    expect(await codeOf(api(s).payments.list({ invoiceId: invoice.id, customerId: invoice.customerId } as never))).toBe('BAD_REQUEST');
    const other = scope(`pay-${++n}`, 'app');
    expect(await codeOf(api(other).invoices.pay({ id: invoice.id }))).toBe('NOT_FOUND');
    expect(await codeOf(api(other).payments.get({ id: payment!.id }))).toBe('NOT_FOUND');
    expect(await codeOf(api(other).payments.list({ invoiceId: invoice.id }))).toBe('NOT_FOUND');
    const live = await openInvoice(null, 'live');
    expect(await codeOf(api(live.s).invoices.pay({ id: live.invoice.id }))).toBe('PRECONDITION_FAILED');
  });
});

describe('credit notes with refunds, and refunds', () => {
  it('a credit note of 10.00 with refund on a paid invoice of 49.00 refunds through the sandbox; then 39.01 more is BAD_REQUEST and nothing changes', async () => {
    const { s, invoice } = await openInvoice('4242424242424242');
    const { payment } = await api(s).invoices.pay({ id: invoice.id });
    const r = await api(s).invoices.creditNotes.create({ invoiceId: invoice.id, amount: 1000, reason: 'product_unsatisfactory', refund: true });
    expect(r.creditNote).toMatchObject({ number: 'CN-000001', amount: 1000 });
    expect(r.invoice).toMatchObject({ status: 'paid', credited: 1000, amountDue: 0 });
    expect(r.refund).toMatchObject({ status: 'succeeded', amount: 1000, paymentId: payment!.id, creditNoteId: r.creditNote.id, idempotencyKey: `${r.creditNote.id}:refund` });
    expect(await api(s).payments.get({ id: payment!.id })).toMatchObject({ amountRefunded: 1000 });
    expect(await api(s).refunds.list({ invoiceId: invoice.id })).toEqual([r.refund]);
    expect(await api(s).refunds.get({ id: r.refund!.id })).toEqual(r.refund);

    const before = { invoice: await api(s).invoices.get({ id: invoice.id }), notes: await api(s).invoices.creditNotes.list({ invoiceId: invoice.id }) };
    expect(await codeOf(api(s).invoices.creditNotes.create({ invoiceId: invoice.id, amount: 3901, reason: 'billing_error', refund: true }))).toBe('BAD_REQUEST');
    expect({ invoice: await api(s).invoices.get({ id: invoice.id }), notes: await api(s).invoices.creditNotes.list({ invoiceId: invoice.id }) }).toEqual(before);
    expect(await api(s).refunds.list({ paymentId: payment!.id })).toHaveLength(1);
  });

  it('without refund a credit note is as before (refund: null); refunding an open invoice is PRECONDITION_FAILED; another scope\'s refund is NOT_FOUND', async () => {
    const { s, invoice } = await openInvoice(null);
    const plain = await api(s).invoices.creditNotes.create({ invoiceId: invoice.id, amount: 900, reason: 'billing_error' });
    expect(plain).toMatchObject({ refund: null, invoice: { status: 'open', amountDue: 4000, credited: 900 } });
    expect(await codeOf(api(s).invoices.creditNotes.create({ invoiceId: invoice.id, amount: 100, reason: 'billing_error', refund: true }))).toBe('PRECONDITION_FAILED');

    const paid = await openInvoice('4242424242424242');
    await api(paid.s).invoices.pay({ id: paid.invoice.id });
    const { refund } = await api(paid.s).invoices.creditNotes.create({ invoiceId: paid.invoice.id, amount: 4900, reason: 'billing_error', refund: true });
    expect(await codeOf(api(s).refunds.get({ id: refund!.id }))).toBe('NOT_FOUND');
    expect(await codeOf(api(s).refunds.list({ invoiceId: paid.invoice.id }))).toBe('NOT_FOUND');
    expect(await codeOf(api(s).refunds.get({ id: paid.invoice.id }))).toBe('BAD_REQUEST');
  });
});
