import { describe, expect, it } from 'vitest';
import { formatMoney, minorToMajor } from '@/app/_lib/format';
import type { CreditNote, Invoice, InvoiceLine, Payment, PaymentMethod, Plan, Subscription, UsageSummary } from '@/server/ledger';
import { coveredPeriod, invoiceDetail, invoicePage, invoiceRow } from '@/server/portal/views/invoices';
import { overviewView, trialDaysLeft, usageAlerts } from '@/server/portal/views/overview';

/**
 * The portal's view models: pure functions from engine data to what a page shows, with
 * concrete numbers. Builders below make engine objects with only what a test changes.
 */
const NOW = new Date('2026-11-26T12:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(NOW.getTime() + ms);

function usage(features: Partial<UsageSummary['features'][number]>[]): UsageSummary {
  return {
    customerId: 'cst_a',
    subscriptionId: 'sub_a',
    status: 'active',
    planId: 'pln_a',
    planKey: 'starter',
    planName: 'Starter',
    features: features.map((f, i) => ({
      featureKey: `f${i}`,
      name: `Feature ${i}`,
      kind: 'metered',
      unitName: 'call',
      used: 0,
      limit: null,
      remaining: null,
      allowed: true,
      reason: 'within_limit',
      period: { start: at(-DAY), end: at(29 * DAY) },
      ...f,
    })),
  };
}

function line(p: Partial<InvoiceLine>): InvoiceLine {
  return { id: 'base_fee', kind: 'base_fee', description: 'Starter plan', featureKey: null, quantity: '1', unitPrice: '19', amount: 1900, discount: 0, tax: 0, periodStart: NOW, periodEnd: at(30 * DAY), ...p };
}

let invoices = 0;
function invoice(p: Partial<Invoice> = {}): Invoice {
  const n = ++invoices;
  return {
    id: `inv_${String(n).padStart(26, '0')}` as Invoice['id'],
    number: `INV-${String(n).padStart(6, '0')}`,
    status: 'open',
    subscriptionId: 'sub_a' as Invoice['subscriptionId'],
    customerId: 'cst_a' as Invoice['customerId'],
    currency: 'USD' as Invoice['currency'],
    billingReason: 'subscription_cycle',
    key: `k${n}`,
    issueAt: NOW,
    periodStart: NOW,
    periodEnd: NOW,
    lines: [line({})],
    subtotal: 1900,
    discount: 0,
    tax: 0,
    total: 1900,
    creditApplied: 0,
    credited: 0,
    amountDue: 1900,
    taxInclusive: false,
    taxRate: null,
    taxNote: null,
    couponId: null,
    basis: { advance: null, usage: null, prorations: [], couponId: null },
    customer: { name: 'Ada', email: 'ada@example.com', address: null, country: 'US', region: 'CA', taxId: null },
    finalizeAt: NOW,
    finalizedAt: NOW,
    paidAt: null,
    voidedAt: null,
    voidReason: null,
    markedUncollectibleAt: null,
    collectionMethod: 'send_invoice',
    dueAt: at(30 * DAY),
    pastDueAt: null,
    attemptCount: 0,
    nextPaymentAttemptAt: null,
    creditRefunded: 0,
    createdAt: NOW,
    updatedAt: NOW,
    ...p,
  };
}

function subscription(p: Partial<Subscription> = {}): Subscription {
  return {
    id: 'sub_a' as Subscription['id'],
    customerId: 'cst_a' as Subscription['customerId'],
    planId: 'pln_a' as Subscription['planId'],
    currency: 'USD' as Subscription['currency'],
    status: 'active',
    quantity: 3,
    trialStart: null,
    trialEnd: null,
    billingAnchor: at(-DAY),
    currentPeriodStart: at(-DAY),
    currentPeriodEnd: at(29 * DAY),
    cancelAtPeriodEnd: false,
    billingCycle: 'anniversary',
    timeZone: null,
    pendingProrations: [],
    canceledAt: null,
    endedAt: null,
    unbilledFrom: at(-DAY),
    discount: null,
    priceOverrides: {},
    pendingChange: null,
    outbox: [],
    version: 1,
    metadata: {},
    createdAt: at(-DAY),
    updatedAt: at(-DAY),
    ...p,
  };
}

const plan = { id: 'pln_a', key: 'starter', name: 'Starter', currency: 'USD', interval: { unit: 'month', count: 1 }, basePrice: 1900, trialDays: 14 } as unknown as Plan;

function method(p: Partial<PaymentMethod> = {}): PaymentMethod {
  return { id: 'pm_1' as PaymentMethod['id'], customerId: 'cst_a' as PaymentMethod['customerId'], provider: 'sandbox', providerRef: 'x', brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030, isDefault: true, createdAt: NOW, detachedAt: null, ...p };
}

const overview = (p: Partial<Parameters<typeof overviewView>[0]> = {}) =>
  overviewView({ now: NOW, customer: { name: 'Ada', email: 'ada@example.com' }, subscription: subscription(), plan, upcoming: null, usage: usage([]), invoices: [], methods: [], ...p });

describe('usage alerts', () => {
  it('warn at 80 % of a metered limit (8,000 of 10,000), not at 79.99 % (7,999)', () => {
    expect(usageAlerts(usage([{ used: 7_999, limit: 10_000 }]))).toEqual([]);
    const [a] = usageAlerts(usage([{ used: 8_000, limit: 10_000, name: 'API calls', featureKey: 'api_calls' }]));
    expect(a).toMatchObject({ kind: 'near_limit', tone: 'warning', featureKey: 'api_calls', percent: 80, title: 'API calls: 80 % used' });
    expect(a!.detail).toBe('8,000 of 10,000 calls used this period.');
    expect(usageAlerts(usage([{ used: 9_999, limit: 10_000 }]))[0]).toMatchObject({ kind: 'near_limit', percent: 99 });
  });

  it('say the limit is reached at 100 % (10,000 of 10,000) and beyond (12,500: 125 %)', () => {
    expect(usageAlerts(usage([{ used: 10_000, limit: 10_000, name: 'API calls' }]))[0]).toMatchObject({ kind: 'limit_reached', tone: 'danger', percent: 100, title: 'API calls: limit reached' });
    expect(usageAlerts(usage([{ used: 12_500, limit: 10_000 }]))[0]).toMatchObject({ kind: 'limit_reached', percent: 125 });
  });

  it('never for an unlimited metered feature, seats or a boolean feature, and one per feature that needs it', () => {
    const alerts = usageAlerts(
      usage([
        { used: 1_000_000, limit: null },
        { kind: 'licensed', used: null, limit: 3 },
        { kind: 'boolean', used: null, limit: null },
        { used: 90, limit: 100, featureKey: 'a' },
        { used: 100, limit: 100, featureKey: 'b' },
      ]),
    );
    expect(alerts.map((a) => [a.featureKey, a.kind, a.percent])).toEqual([
      ['a', 'near_limit', 90],
      ['b', 'limit_reached', 100],
    ]);
  });
});

describe('trial days left', () => {
  it('counts whole days up: 13 days and 1 hour left is 14, exactly 14 days is 14, 1 ms is 1, an ended trial 0', () => {
    expect(trialDaysLeft(at(13 * DAY + HOUR), NOW)).toBe(14);
    expect(trialDaysLeft(at(14 * DAY), NOW)).toBe(14);
    expect(trialDaysLeft(at(1), NOW)).toBe(1);
    expect(trialDaysLeft(NOW, NOW)).toBe(0);
    expect(trialDaysLeft(at(-DAY), NOW)).toBe(0);
  });

  it('the overview of a trial shows its end and the days left, and the trial badge', () => {
    const o = overview({ subscription: subscription({ status: 'trialing', trialStart: at(-DAY), trialEnd: at(9 * DAY + 5 * HOUR) }) });
    expect(o.subscription!.trial).toEqual({ endsAt: at(9 * DAY + 5 * HOUR), daysLeft: 10 });
    expect(o.subscription!.status).toEqual({ status: 'trialing', label: 'Trial', tone: 'info' });
  });

  it('warns 3 days before the end of a trial with no card, not with one', () => {
    const sub = subscription({ status: 'trialing', trialEnd: at(2 * DAY + HOUR) });
    expect(overview({ subscription: sub }).alerts.map((a) => [a.kind, a.title])).toEqual([['trial_ending', 'Your trial ends in 3 days']]);
    expect(overview({ subscription: sub, methods: [method()] }).alerts).toEqual([]);
  });
});

describe('overview', () => {
  it("shows the next invoice's date and amount from its preview (35.00 USD at the period end)", () => {
    const o = overview({ upcoming: { issueAt: at(29 * DAY), total: 3500, currency: 'USD' }, methods: [method()] });
    expect(o.nextInvoice).toEqual({ issueAt: at(29 * DAY), total: 3500, currency: 'USD' });
    expect(o.subscription).toMatchObject({ planName: 'Starter', quantity: 3, basePrice: 1900, currentPeriod: { start: at(-DAY), end: at(29 * DAY) }, cancelsAt: null });
    expect(o.paymentMethod).toEqual({ brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030, expired: false });
    expect(o.alerts).toEqual([]);
  });

  it('a price override replaces the base price shown (9.00 instead of 19.00)', () => {
    expect(overview({ subscription: subscription({ priceOverrides: { basePrice: 900 } }) }).subscription!.basePrice).toBe(900);
  });

  it('a cancellation scheduled: the day access ends, the badge, and no next invoice once canceled', () => {
    const o = overview({ subscription: subscription({ cancelAtPeriodEnd: true }) });
    expect(o.subscription).toMatchObject({ cancelsAt: at(29 * DAY), status: { status: 'canceling', label: 'Cancels at period end' } });
    const ended = overview({ subscription: subscription({ status: 'canceled', endedAt: NOW }), upcoming: { issueAt: at(DAY), total: 100, currency: 'USD' } });
    expect(ended.nextInvoice).toBeNull();
    expect(ended.subscription).toMatchObject({ status: { status: 'canceled' }, endedAt: NOW, cancelsAt: null, trial: null });
  });

  it('past due: the past-due invoice comes first to pay, what is owed is summed, and an alert says so', () => {
    const older = invoice({ issueAt: at(-60 * DAY), amountDue: 1900 });
    const pastDue = invoice({ issueAt: at(-30 * DAY), amountDue: 2038, pastDueAt: at(-29 * DAY) });
    const paid = invoice({ status: 'paid', amountDue: 0 });
    const voided = invoice({ status: 'void', amountDue: 500 });
    const o = overview({ subscription: subscription({ status: 'past_due' }), invoices: [paid, older, pastDue, voided], methods: [method()] });
    expect(o.toPay).toEqual({ id: pastDue.id, number: pastDue.number, amountDue: 2038, currency: 'USD', pastDue: true, dueAt: pastDue.dueAt });
    expect(o.owed).toEqual([{ currency: 'USD', amount: 3938, invoices: 2 }]);
    expect(o.alerts.map((a) => a.kind)).toEqual(['past_due']);
    expect(o.subscription!.status).toEqual({ status: 'past_due', label: 'Past due', tone: 'danger' });
  });

  it('unpaid: the alert says access is paused; an expired default card is flagged', () => {
    const o = overview({ subscription: subscription({ status: 'unpaid' }), invoices: [invoice({ pastDueAt: NOW })], methods: [method({ expMonth: 10, expYear: 2026 })] });
    expect(o.alerts[0]).toMatchObject({ kind: 'unpaid', tone: 'danger' });
    expect(o.paymentMethod!.expired).toBe(true);
    // Good through the last day of its month: a card expiring 11/2026 still works on Nov 26.
    expect(overview({ methods: [method({ expMonth: 11, expYear: 2026 })] }).paymentMethod!.expired).toBe(false);
  });

  it('no subscription: no plan, no next invoice, nothing to pay', () => {
    const o = overview({ subscription: null, plan: null });
    expect(o).toMatchObject({ subscription: null, nextInvoice: null, toPay: null, owed: [], paymentMethod: null, alerts: [] });
  });
});

describe('invoices', () => {
  it('a row: number, date, the period its fees cover, total, amount due, status (open and found past due: "Past due")', () => {
    const inv = invoice({ total: 2038, amountDue: 1538, pastDueAt: NOW, finalizedAt: at(HOUR), lines: [line({ periodStart: at(DAY), periodEnd: at(31 * DAY) }), line({ id: 'usage:api', kind: 'usage', periodStart: at(-29 * DAY), periodEnd: at(DAY) })] });
    expect(invoiceRow(inv)).toEqual({
      id: inv.id,
      number: inv.number,
      date: at(HOUR),
      period: { start: at(DAY), end: at(31 * DAY) },
      currency: 'USD',
      total: 2038,
      amountDue: 1538,
      status: { status: 'past_due', label: 'Past due', tone: 'danger' },
    });
  });

  it('the period of a final invoice (usage only) spans its usage lines; an empty one is null', () => {
    expect(coveredPeriod({ periodStart: NOW, periodEnd: NOW, lines: [line({ kind: 'usage', periodStart: at(-30 * DAY), periodEnd: NOW })] })).toEqual({ start: at(-30 * DAY), end: NOW });
    expect(coveredPeriod({ periodStart: NOW, periodEnd: NOW, lines: [] })).toBeNull();
  });

  it('25 invoices, 10 a page: newest first, 3 pages, the last has 5, a page past the end is the last', () => {
    const all = Array.from({ length: 25 }, (_, i) => invoice({ issueAt: at(i * 30 * DAY) }));
    const p1 = invoicePage(all, 1, 10);
    expect(p1).toMatchObject({ page: 1, pageCount: 3, total: 25 });
    expect(p1.rows.map((r) => r.id)).toEqual(all.slice(15).reverse().map((i) => i.id));
    const p3 = invoicePage(all, 3, 10);
    expect(p3.rows.map((r) => r.id)).toEqual(all.slice(0, 5).reverse().map((i) => i.id));
    expect(invoicePage(all, 99, 10).page).toBe(3);
    expect(invoicePage([], 1, 10)).toEqual({ rows: [], page: 1, pageCount: 1, total: 0 });
  });

  it('the detail: the tax with its rate, credit notes, payments in order, the PDF; a pay URL only while something is due', () => {
    const inv = invoice({ subtotal: 1900, tax: 138, total: 2038, credited: 500, amountDue: 1538, taxRate: { id: 'txr_1', displayName: 'CA sales tax', percentage: '7.25', inclusive: false } });
    const note = { id: 'crn_1', number: 'CN-000001', invoiceId: inv.id, customerId: inv.customerId, amount: 500, currency: inv.currency, reason: 'billing_error', memo: 'Seat count corrected', createdAt: at(HOUR) } as CreditNote;
    const pay = (status: Payment['status'], ms: number) =>
      ({ id: `pay_${ms}`, invoiceId: inv.id, amount: 1538, status, createdAt: at(ms), amountRefunded: 0, failureCode: status === 'failed' ? 'card_declined' : null, failureMessage: status === 'failed' ? 'Your card was declined.' : null }) as Payment;
    const d = invoiceDetail({ invoice: inv, creditNotes: [note], payments: [pay('succeeded', 2 * HOUR), pay('failed', HOUR)], payUrl: '/pay/tok' });
    expect(d.tax).toEqual({ amount: 138, label: 'CA sales tax 7.25 %', inclusive: false });
    expect(d.creditNotes).toEqual([{ id: 'crn_1', number: 'CN-000001', date: at(HOUR), amount: 500, reason: 'Billing error', memo: 'Seat count corrected' }]);
    expect(d.payments.map((p) => [p.label, p.failure])).toEqual([
      ['Failed', 'Your card was declined.'],
      ['Succeeded', null],
    ]);
    expect(d).toMatchObject({ amountDue: 1538, credited: 500, payUrl: '/pay/tok', pdfUrl: `/api/invoices/${inv.id}/pdf` });
    expect(invoiceDetail({ invoice: { ...inv, status: 'paid', amountDue: 0 }, creditNotes: [], payments: [], payUrl: '/pay/tok' }).payUrl).toBeNull();
    expect(invoiceDetail({ invoice: { ...inv, status: 'void' }, creditNotes: [], payments: [], payUrl: '/pay/tok' }).payUrl).toBeNull();
  });
});

describe('money', () => {
  it('in the currency of the amount, by its exponent: USD 2, JPY 0, KWD 3; negative and large amounts exact', () => {
    expect(formatMoney(123456, 'USD')).toBe('$1,234.56');
    expect(formatMoney(-5, 'USD')).toBe('-$0.05');
    expect(formatMoney(500, 'JPY')).toBe('¥500');
    expect(formatMoney(1250, 'KWD')).toBe('KWD\u00a01.250'); // a no-break space, as Intl writes it
    expect(formatMoney(1999, 'EUR', 'de-DE')).toBe('19,99\u00a0€');
    expect(minorToMajor(9_007_199_254_740_991, 'USD')).toBe('90071992547409.91');
    expect(formatMoney(9_007_199_254_740_991, 'USD')).toBe('$90,071,992,547,409.91');
    expect(() => formatMoney(1.5, 'USD')).toThrow(/integer/);
  });
});
