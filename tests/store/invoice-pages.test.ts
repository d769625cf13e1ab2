import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Invoice } from '../../server/ledger/invoice/types';
import type { Store } from '../../server/ledger/store/store';
import type { CustomerId, Scope } from '../../server/ledger/types';
import { customerRow } from '../support/builders';
import { otherAppOf, storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * A customer's invoices as the portal lists them, on every store (memory, PGlite, and
 * PostgreSQL when TEST_DATABASE_URL is set): a slice newest first with the customer's
 * total, and the invoices still asking for money, oldest first. The customer has two
 * years of monthly invoices, Jan 2024 … Dec 2025 (24), issued on the 1st.
 */

const MONTHS = 24;
const monthStart = (i: number) => new Date(Date.UTC(2024, i, 1));
let seq = 0;

/** An invoice row; its id sorts after every earlier one (as TypeIDs do by creation). */
function invoiceRow(customerId: CustomerId, p: Partial<Invoice> = {}): Invoice {
  const n = ++seq;
  const issueAt = p.issueAt ?? monthStart(0);
  return {
    id: `inv_${String(Date.now()).padStart(16, '0')}${String(n).padStart(10, '0')}` as Invoice['id'],
    number: `INV-${String(n).padStart(6, '0')}`,
    status: 'paid',
    subscriptionId: 'sub_01jbench0000000000000000000' as Invoice['subscriptionId'],
    customerId,
    currency: 'USD' as Invoice['currency'],
    billingReason: 'subscription_cycle',
    key: `period:${n}`,
    issueAt,
    periodStart: issueAt,
    periodEnd: issueAt,
    lines: [],
    subtotal: 4900,
    discount: 0,
    tax: 0,
    total: 4900,
    creditApplied: 0,
    credited: 0,
    amountDue: 0,
    taxInclusive: false,
    taxRate: null,
    taxNote: null,
    couponId: null,
    basis: { advance: null, usage: null, prorations: [], couponId: null },
    customer: null,
    finalizeAt: issueAt,
    finalizedAt: issueAt,
    paidAt: issueAt,
    voidedAt: null,
    voidReason: null,
    markedUncollectibleAt: null,
    collectionMethod: 'charge_automatically',
    dueAt: issueAt,
    pastDueAt: null,
    attemptCount: 0,
    nextPaymentAttemptAt: null,
    creditRefunded: 0,
    createdAt: issueAt,
    updatedAt: issueAt,
    ...p,
  };
}

const months = (items: Invoice[]) => items.map((i) => i.issueAt.toISOString().slice(0, 7));

describe.each(storeFactories())('$name store: a customer\'s invoices, newest first', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let s: Scope;
  beforeEach(() => {
    s = uniqueScope();
  });

  async function twoYears(st: Store, sc: Scope) {
    const customer = customerRow();
    await st.customers.insert(sc, customer);
    // Inserted in a shuffled order: the store orders, not the insertion.
    const order = Array.from({ length: MONTHS }, (_, i) => (i * 7) % MONTHS);
    const rows = order.map((i) => invoiceRow(customer.id, { issueAt: monthStart(i) }));
    for (const r of rows) await st.invoices.insertOnce(sc, r);
    return { customer, rows };
  }

  it('24 monthly invoices in pages of 10: Dec 2025…Mar 2025, Feb 2025…May 2024, then the last 4 (Apr…Jan 2024); the total is 24 on each', async () => {
    const { customer } = await twoYears(store(), s);
    const p1 = await store().invoices.sliceByCustomer(s, customer.id, { offset: 0, limit: 10 });
    const p2 = await store().invoices.sliceByCustomer(s, customer.id, { offset: 10, limit: 10 });
    const p3 = await store().invoices.sliceByCustomer(s, customer.id, { offset: 20, limit: 10 });
    expect(months(p1.items)).toEqual(['2025-12', '2025-11', '2025-10', '2025-09', '2025-08', '2025-07', '2025-06', '2025-05', '2025-04', '2025-03']);
    expect(months(p2.items)).toEqual(['2025-02', '2025-01', '2024-12', '2024-11', '2024-10', '2024-09', '2024-08', '2024-07', '2024-06', '2024-05']);
    expect(months(p3.items)).toEqual(['2024-04', '2024-03', '2024-02', '2024-01']);
    expect([p1.total, p2.total, p3.total]).toEqual([24, 24, 24]);
    // Whole invoices come back, Dates and all.
    expect(p1.items[0]!.issueAt).toBeInstanceOf(Date);
    expect(p1.items[0]!.total).toBe(4900);
  });

  it('past the end: no rows, the total still 24; a customer with none: no rows, total 0', async () => {
    const { customer } = await twoYears(store(), s);
    expect(await store().invoices.sliceByCustomer(s, customer.id, { offset: 30, limit: 10 })).toEqual({ items: [], total: 24 });
    const nobody = customerRow();
    await store().customers.insert(s, nobody);
    expect(await store().invoices.sliceByCustomer(s, nobody.id, { offset: 0, limit: 10 })).toEqual({ items: [], total: 0 });
  });

  it('two invoices issued at the same instant (a change and a renewal): the later-made one (greater id) first', async () => {
    const customer = customerRow();
    await store().customers.insert(s, customer);
    const first = invoiceRow(customer.id, { issueAt: monthStart(3) });
    const second = invoiceRow(customer.id, { issueAt: monthStart(3) });
    const older = invoiceRow(customer.id, { issueAt: monthStart(2) });
    for (const r of [older, second, first]) await store().invoices.insertOnce(s, r);
    const { items } = await store().invoices.sliceByCustomer(s, customer.id, { offset: 0, limit: 3 });
    expect(items.map((i) => i.id)).toEqual([second.id, first.id, older.id]);
  });

  it('no slice crosses the scope or the customer: another customer, and the same customer id in another app, count nothing here', async () => {
    const { customer } = await twoYears(store(), s);
    const other = customerRow();
    await store().customers.insert(s, other);
    await store().invoices.insertOnce(s, invoiceRow(other.id, { issueAt: monthStart(30) }));
    const elsewhere = otherAppOf(s);
    await store().customers.insert(elsewhere, customer);
    await store().invoices.insertOnce(elsewhere, invoiceRow(customer.id, { issueAt: monthStart(40) }));

    const here = await store().invoices.sliceByCustomer(s, customer.id, { offset: 0, limit: 2 });
    expect(months(here.items)).toEqual(['2025-12', '2025-11']);
    expect(here.total).toBe(24);
    const there = await store().invoices.sliceByCustomer(elsewhere, customer.id, { offset: 0, limit: 10 });
    expect(months(there.items)).toEqual(['2027-05']);
    expect(there.total).toBe(1);
  });

  it('payable: open 19.00 (Mar) and uncollectible 5.00 (Jan), oldest first; paid, void, draft and an open one credited to 0 are not', async () => {
    const customer = customerRow();
    await store().customers.insert(s, customer);
    const rows = [
      invoiceRow(customer.id, { issueAt: monthStart(2), status: 'open', amountDue: 1900, paidAt: null }),
      invoiceRow(customer.id, { issueAt: monthStart(0), status: 'uncollectible', amountDue: 500, paidAt: null }),
      invoiceRow(customer.id, { issueAt: monthStart(1), status: 'open', amountDue: 0, credited: 4900, paidAt: null }),
      invoiceRow(customer.id, { issueAt: monthStart(3), status: 'paid', amountDue: 0 }),
      invoiceRow(customer.id, { issueAt: monthStart(4), status: 'void', amountDue: 0, paidAt: null }),
      invoiceRow(customer.id, { issueAt: monthStart(5), status: 'draft', number: null, amountDue: 4900, paidAt: null, finalizedAt: null }),
    ];
    for (const r of rows) await store().invoices.insertOnce(s, r);
    // Another app's open invoice of the same customer id is not owed here.
    await store().invoices.insertOnce(otherAppOf(s), invoiceRow(customer.id, { status: 'open', amountDue: 700 }));

    const payable = await store().invoices.listPayableByCustomer(s, customer.id);
    expect(payable.map((i) => [i.status, i.amountDue, i.issueAt.toISOString().slice(0, 7)])).toEqual([
      ['uncollectible', 500, '2024-01'],
      ['open', 1900, '2024-03'],
    ]);
  });
});
