import { describe, expect, it } from 'vitest';
import { createLedger, createMemoryStore, ManualClock, silentLogger, type Invoice, type Ledger, type Scope } from '@/server/ledger';
import { invoicePdf } from '@/server/invoice-pdf/load';
import { moneyText, printable } from '@/server/invoice-pdf/money';
import { existsSync } from 'node:fs';
import { uniqueScope } from '../support/stores';
import { pdfText, rowOf } from './pdf-text';

/**
 * Invoice PDFs of invoices made by the real engine (memory store), read back with
 * pdftotext: every figure printed is the invoice's own amount, as the shared formatter
 * writes it.
 *
 * "Pro": 49.00 a month in advance plus 5.00 a seat; a GB customer with 3 seats, 20 % VAT
 * (exclusive) and a 10 % coupon: 64.00 − 6.40 = 57.60, VAT per line on 44.10 and 13.50:
 * 8.82 + 2.70 = 11.52, total 69.12.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const DAY = 86_400_000;
const ENV = { LEDGER_SELLER_NAME: 'Acme Cloud Ltd', LEDGER_SELLER_ADDRESS: '1 Main St;Springfield 12345', LEDGER_SELLER_EMAIL: 'billing@acme.test', LEDGER_SELLER_TAX_ID: 'GB123456789' };

async function engine() {
  const clock = new ManualClock(T0);
  const ledger = await createLedger({ store: createMemoryStore(), clock, logger: silentLogger });
  const scope = uniqueScope();
  await ledger.scopes.register(scope, 'test');
  return { ledger, clock, scope };
}

async function render(ledger: Ledger, scope: Scope, inv: Invoice, env: Record<string, string | undefined> = ENV) {
  const { pdf, view } = await invoicePdf(ledger, scope, await ledger.invoices.get(scope, inv.id), env);
  expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  return { text: pdfText(pdf), view };
}

const seats = { key: 'seats', name: 'Seats', kind: 'licensed' as const, price: { model: 'per_unit' as const, unitPrice: '5' } };
/** Metered: a period's invoice then waits as a draft for late usage (an hour) before it is finalized. */
const apiCalls = { key: 'api_calls', name: 'API calls', kind: 'metered' as const, aggregation: 'sum' as const, price: { model: 'per_unit' as const, unitPrice: '1' } };

async function subscribe(ledger: Ledger, scope: Scope, opts: { currency: string; basePrice: number; country: string; seats?: number; metered?: boolean; couponCode?: string; email?: string }) {
  const plan = await ledger.plans.create(scope, {
    key: `pro-${opts.currency.toLowerCase()}`,
    name: 'Pro',
    currency: opts.currency,
    interval: { unit: 'month' },
    basePrice: opts.basePrice,
    features: [...(opts.seats ? [seats] : []), ...(opts.metered ? [apiCalls] : [])],
  });
  const customer = await ledger.customers.create(scope, {
    email: opts.email ?? 'ada@example.com',
    name: 'Ada Lovelace',
    country: opts.country,
    address: { line1: '12 St James Sq', city: 'London', postalCode: 'SW1Y 4JH' },
    taxId: 'GB987654321',
    collectionMethod: 'send_invoice',
  });
  await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: opts.seats ?? 1, couponCode: opts.couponCode });
  const [inv] = (await ledger.invoices.listByCustomer(scope, customer.id)).items;
  return { plan, customer, inv: inv! };
}

describe('invoice PDFs (memory store, read back with pdftotext)', () => {
  it('exclusive VAT and a coupon, paid: the seller, the customer as billed, every line, discount, tax, total, amount due and "Paid on"', async () => {
    const { ledger, scope, clock } = await engine();
    await ledger.taxRates.create(scope, { displayName: 'VAT', country: 'GB', percentage: '20' });
    await ledger.coupons.create(scope, { code: 'TENOFF', name: 'Ten off', percentOff: '10', duration: 'forever' });
    const { customer, inv } = await subscribe(ledger, scope, { currency: 'USD', basePrice: 4900, country: 'GB', seats: 3, couponCode: 'TENOFF' });
    expect(inv).toMatchObject({ number: 'INV-000001', status: 'open', subtotal: 6400, discount: 640, tax: 1152, total: 6912, amountDue: 6912 });
    await ledger.payments.sandbox.attachCard(scope, customer.id, { number: '4242 4242 4242 4242', expMonth: 12, expYear: 2030 });
    clock.advance(2 * DAY);
    const { invoice: paid } = await ledger.collectPayment(scope, inv.id);
    expect(paid.status).toBe('paid');
    // The customer moves after finalization: the PDF shows the address billed.
    await ledger.customers.update(scope, customer.id, { name: 'Ada King' });

    const { text, view } = await render(ledger, scope, paid);
    expect(view.filename).toBe('INV-000001.pdf');
    for (const s of ['Acme Cloud Ltd', '1 Main St', 'Springfield 12345', 'billing@acme.test', 'Tax ID: GB123456789']) expect(text).toContain(s);
    for (const s of ['Ada Lovelace', '12 St James Sq', 'London, SW1Y 4JH', 'ada@example.com', 'Tax ID: GB987654321']) expect(text).toContain(s);
    expect(text).not.toContain('Ada King');
    expect(text).toContain('INV-000001');
    expect(rowOf(text, 'Date of issue')).toMatch(/Date of issue .*January 15, 2025$/);
    expect(text).toContain('Paid on January 17, 2025');
    // Each line: description, quantity, unit price, amount; its service period and discount below.
    const [base, seat] = paid.lines;
    expect(base!.amount).toBe(4900);
    expect(seat!.amount).toBe(1500);
    expect(rowOf(text, base!.description)).toMatch(/ 1 {2}\$49\.00 {2}\$49\.00$/);
    expect(rowOf(text, seat!.description)).toMatch(/ 3 {2}\$5\.00 {2}\$15\.00$/);
    expect(text.match(/Jan 15 – Feb 15, 2025/g)).toHaveLength(2);
    expect(text).toContain('Discount -$4.90');
    expect(text).toContain('Discount -$1.50');
    // Totals, each figure the invoice's own through the one formatter.
    expect(rowOf(text, 'Subtotal')).toBe(`Subtotal  ${moneyText(paid.subtotal, paid.currency)}`);
    expect(rowOf(text, 'Subtotal')).toBe('Subtotal  $64.00');
    expect(rowOf(text, 'Discount (Ten off)')).toBe('Discount (Ten off)  -$6.40');
    expect(rowOf(text, 'VAT (20% exclusive)')).toBe('VAT (20% exclusive)  $11.52');
    expect(rowOf(text, /^\s*Total\s/)).toBe('Total  $69.12');
    expect(rowOf(text, 'Amount due')).toBe('Amount due  $0.00');
    expect(rowOf(text, 'sandbox payment')).toBe('January 17, 2025, sandbox payment  $69.12');
    expect(text).not.toContain('DRAFT');
    expect(text).not.toContain('Credit applied');
  });

  it('VAT included and a credit note, open: the tax inside the total, the note taken off, "Due" with its date', async () => {
    const { ledger, scope } = await engine();
    await ledger.taxRates.create(scope, { displayName: 'MwSt', country: 'DE', percentage: '19', inclusive: true });
    await ledger.payments.updateSettings(scope, { daysUntilDue: 14 });
    const { inv } = await subscribe(ledger, scope, { currency: 'EUR', basePrice: 11900, country: 'DE' });
    expect(inv).toMatchObject({ status: 'open', subtotal: 11900, tax: 1900, total: 11900, taxInclusive: true });
    const { creditNote, invoice } = await ledger.invoices.createCreditNote(scope, inv.id, { amount: 2500, reason: 'order_change' });
    expect(invoice).toMatchObject({ credited: 2500, amountDue: 9400, status: 'open' });

    const { text } = await render(ledger, scope, invoice);
    expect(rowOf(text, 'Subtotal')).toBe('Subtotal  €119.00');
    expect(rowOf(text, 'MwSt (19% included)')).toBe('MwSt (19% included)  €19.00');
    expect(rowOf(text, /^\s*Total\s/)).toBe('Total  €119.00');
    expect(rowOf(text, `Credit note ${creditNote.number}`)).toBe('Credit note CN-000001  -€25.00');
    expect(rowOf(text, 'Amount due')).toBe(`Amount due  ${moneyText(invoice.amountDue, invoice.currency)}`);
    expect(rowOf(text, 'Amount due')).toBe('Amount due  €94.00');
    expect(text).toContain('Due January 29, 2025');
    expect(rowOf(text, 'Date due')).toMatch(/January 29, 2025$/);
    expect(text).not.toContain('DRAFT');
  });

  it('a draft in JPY (no minor unit): "Draft" for the number, the current customer, and the DRAFT watermark', async () => {
    const { ledger, scope, clock } = await engine();
    const { customer, inv: first } = await subscribe(ledger, scope, { currency: 'JPY', basePrice: 1500, country: 'JP', seats: 2, metered: true });
    expect(first).toMatchObject({ total: 1510, amountDue: 1510 }); // ¥1,500 + 2 seats at ¥5
    // The period ends: the cycle makes the next invoice, a draft for an hour.
    clock.set(new Date('2025-02-15T10:00:00.000Z'));
    await ledger.billing.run(scope);
    const draft = (await ledger.invoices.listByCustomer(scope, customer.id)).items.find((i) => i.status === 'draft')!;
    expect(draft).toMatchObject({ number: null, customer: null, total: 1510 });

    const { text, view } = await render(ledger, scope, draft);
    expect(view.filename).toBe(`draft-${draft.id}.pdf`);
    expect(text).toContain('DRAFT');
    expect(text).toContain('Draft invoice');
    expect(text).not.toContain('INV-');
    expect(text).toContain('Ada Lovelace'); // the customer now: a draft has no snapshot
    expect(rowOf(text, /^\s*Total\s/)).toBe('Total  ¥1,510');
    expect(rowOf(text, 'Subtotal')).toBe(`Subtotal  ${moneyText(1510, draft.currency)}`);
    expect(rowOf(text, draft.lines.find((l) => l.kind === 'license')!.description)).toMatch(/ 2 {2}¥5 {2}¥10$/);
    expect(rowOf(text, 'Amount due')).toBe('Amount due  ¥1,510');

    // The first invoice, issued: no watermark.
    expect((await render(ledger, scope, first)).text).not.toContain('DRAFT');
  });

  it('KWD (three decimals), void and uncollectible; the seller named after the tenant with no env', async () => {
    const { ledger, scope } = await engine();
    const { plan, inv } = await subscribe(ledger, scope, { currency: 'KWD', basePrice: 12345, country: 'KW' });
    expect(inv.total).toBe(12345);
    const voided = await ledger.invoices.void(scope, inv.id, { reason: 'duplicate' });
    const { text } = await render(ledger, scope, voided, {});
    expect(rowOf(text, /^\s*Total\s/)).toBe('Total  KWD 12.345');
    expect(rowOf(text, /^\s*Total\s/)).toBe(`Total  ${printable(moneyText(voided.total, voided.currency))}`);
    expect(text).toMatch(/^\s*Void\s*$/m);
    expect(text).toContain(scope.tenantId.split('-').map((w) => w[0]!.toUpperCase() + w.slice(1)).join(' '));

    // Another customer's invoice, marked uncollectible.
    const other = await ledger.customers.create(scope, { email: 'bob@example.com', name: 'Bob', collectionMethod: 'send_invoice' });
    await ledger.subscriptions.create(scope, { customerId: other.id, planId: plan.id });
    const second = (await ledger.invoices.listByCustomer(scope, other.id)).items[0]!;
    const bad = await ledger.invoices.markUncollectible(scope, second.id);
    const t2 = (await render(ledger, scope, bad, {})).text;
    expect(t2).toMatch(/^\s*Uncollectible\s*$/m);
    expect(rowOf(t2, 'Amount due')).toBe('Amount due  KWD 12.345');
  });

  it('a credit invoice (cancel now, prorated) and the next one taking its credit: negative amounts, "Credit applied"', async () => {
    const { ledger, scope, clock } = await engine();
    const pro = await ledger.plans.create(scope, { key: 'pro', name: 'Pro', currency: 'USD', interval: { unit: 'month' }, basePrice: 3000 });
    const basic = await ledger.plans.create(scope, { key: 'basic', name: 'Basic', currency: 'USD', interval: { unit: 'month' }, basePrice: 2500 });
    const customer = await ledger.customers.create(scope, { email: 'ada@example.com', name: 'Ada', collectionMethod: 'send_invoice' });
    clock.set('2025-04-01T00:00:00Z');
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: pro.id });
    clock.set('2025-04-16T00:00:00Z'); // half of April's 30 days left
    await ledger.subscriptions.cancel(scope, sub.id, { at: 'now', prorate: true });
    await ledger.subscriptions.create(scope, { customerId: customer.id, planId: basic.id });
    const byNumber = (await ledger.invoices.listByCustomer(scope, customer.id)).items.sort((a, b) => a.number!.localeCompare(b.number!));
    const [, final, next] = byNumber;
    expect(final).toMatchObject({ number: 'INV-000002', total: -1500, amountDue: 0 });
    expect(next).toMatchObject({ number: 'INV-000003', total: 2500, creditApplied: 1500, amountDue: 1000 });

    const f = (await render(ledger, scope, final!)).text;
    expect(rowOf(f, final!.lines[0]!.description)).toMatch(/ -\$15\.00$/);
    expect(rowOf(f, /^\s*Total\s/)).toBe('Total  -$15.00');
    expect(rowOf(f, 'Amount due')).toBe('Amount due  $0.00');

    const n = (await render(ledger, scope, next!)).text;
    expect(rowOf(n, /^\s*Total\s/)).toBe('Total  $25.00');
    expect(rowOf(n, 'Credit applied')).toBe(`Credit applied  ${moneyText(-next!.creditApplied, next!.currency)}`);
    expect(rowOf(n, 'Credit applied')).toBe('Credit applied  -$15.00');
    expect(rowOf(n, 'Amount due')).toBe('Amount due  $10.00');
  });

  it('the standard fonts: a currency symbol they cannot draw is printed by its code, other such characters as "?"', async () => {
    const { ledger, scope } = await engine();
    const { inv } = await subscribe(ledger, scope, { currency: 'INR', basePrice: 150000, country: 'IN' });
    const { text } = await render(ledger, scope, inv, { LEDGER_SELLER_NAME: 'Café Ωmega' });
    expect(rowOf(text, /^\s*Total\s/)).toBe(`Total  ${printable(moneyText(150000, inv.currency, 'code'))}`);
    expect(rowOf(text, /^\s*Total\s/)).toBe('Total  INR 1,500.00');
    expect(text).not.toContain('₹');
    expect(text).toContain('Café ?mega');
  });

  const DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
  it.skipIf(!existsSync(DEJAVU))('LEDGER_PDF_FONT: an embedded TrueType font draws "₹" and any script it covers', async () => {
    const { ledger, scope } = await engine();
    const { inv } = await subscribe(ledger, scope, { currency: 'INR', basePrice: 150000, country: 'IN' });
    const { text } = await render(ledger, scope, inv, { LEDGER_SELLER_NAME: 'Café Ωmega', LEDGER_PDF_FONT: DEJAVU });
    expect(rowOf(text, /^\s*Total\s/)).toBe(`Total  ${moneyText(150000, inv.currency)}`);
    expect(rowOf(text, /^\s*Total\s/)).toBe('Total  ₹1,500.00');
    expect(text).toContain('Café Ωmega');
  });
});
