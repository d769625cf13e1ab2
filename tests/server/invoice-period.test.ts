import { describe, expect, it } from 'vitest';
import { invoicePeriod } from '@/server/ledger/invoice/build';
import { createLedger, createMemoryStore, ManualClock, silentLogger, type Invoice, type InvoiceBasis } from '@/server/ledger';
import { uniqueScope } from '../support/stores';

/**
 * What an invoice's period is (Stripe's model): the usage period it closes, billed in
 * arrears; each line carries its own service period (fees in advance: the coming period).
 * A 14-day trial from 2026-01-01, then monthly periods from its end, 2026-01-15.
 */
const at = (iso: string) => new Date(`${iso}T00:00:00.000Z`);
const span = (p: { start: Date; end: Date }) => [p.start.toISOString().slice(0, 10), p.end.toISOString().slice(0, 10)];

const basis = (usage: [string, string, boolean] | null, advance: [string, string] | null): Pick<InvoiceBasis, 'usage' | 'advance'> => ({
  usage: usage ? { planId: 'pln_x' as never, overrides: {}, start: at(usage[0]), end: at(usage[1]), trial: usage[2] } : null,
  advance: advance ? { planId: 'pln_x' as never, quantity: 3, overrides: {}, start: at(advance[0]), end: at(advance[1]) } : null,
});

describe("an invoice's period is the usage period it closes", () => {
  it('consecutive invoices: the trial, then each month that ended; they tile, never overlapping', () => {
    const invoices = [
      // at the trial's end: the trial's (free) usage, the first paid month's fees in advance
      { issueAt: at('2026-01-15'), basis: basis(['2026-01-01', '2026-01-15', true], ['2026-01-15', '2026-02-15']) },
      { issueAt: at('2026-02-15'), basis: basis(['2026-01-15', '2026-02-15', false], ['2026-02-15', '2026-03-15']) },
      { issueAt: at('2026-03-15'), basis: basis(['2026-02-15', '2026-03-15', false], ['2026-03-15', '2026-04-15']) },
    ];
    const periods = invoices.map((i) => span(invoicePeriod(i.basis, i.issueAt)));
    expect(periods).toEqual([
      ['2026-01-01', '2026-01-15'],
      ['2026-01-15', '2026-02-15'],
      ['2026-02-15', '2026-03-15'],
    ]);
    // each starts where the one before ended
    for (let k = 1; k < periods.length; k++) expect(periods[k]![0]).toBe(periods[k - 1]![1]);
  });

  it('an invoice that closes no usage period (the first one, a mid-period change) has an empty period at its issue instant', () => {
    const issueAt = new Date('2026-01-01T09:30:00.000Z');
    expect(invoicePeriod(basis(null, ['2026-01-01', '2026-02-01']), issueAt)).toEqual({ start: issueAt, end: issueAt });
  });

  it('a cancellation now closes the period up to that instant', () => {
    const now = new Date('2026-03-01T12:00:00.000Z');
    expect(invoicePeriod({ usage: { planId: 'pln_x' as never, overrides: {}, start: at('2026-02-15'), end: now, trial: false } }, now)).toEqual({
      start: at('2026-02-15'),
      end: now,
    });
  });
});

describe("each line carries its own service period (the cycle, on the memory store)", () => {
  it('at the trial end and at each period end: usage over the ended period, fees over the coming one', async () => {
    const clock = new ManualClock('2026-01-01T00:00:00.000Z');
    const ledger = await createLedger({ store: createMemoryStore(), clock, logger: silentLogger });
    const scope = uniqueScope();
    const plan = await ledger.plans.create(scope, {
      key: 'starter',
      name: 'Starter',
      currency: 'USD',
      interval: { unit: 'month', count: 1 },
      basePrice: 1900,
      trialDays: 14,
      features: [{ key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', price: { model: 'per_unit', unitPrice: '0.001' } }],
    });
    const customer = await ledger.customers.create(scope, { email: 'p@example.com', name: 'Period' });
    await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    for (const day of ['2026-01-15', '2026-02-15', '2026-03-15']) {
      clock.set(`${day}T00:00:00.000Z`);
      await ledger.billing.run(scope);
    }
    const { items } = await ledger.invoices.listByCustomer(scope, customer.id, { limit: 100 });
    const invoices = items.sort((a, b) => a.issueAt.getTime() - b.issueAt.getTime());
    const lines = (inv: Invoice) => Object.fromEntries(inv.lines.map((l) => [l.id, span({ start: l.periodStart, end: l.periodEnd })]));
    expect(invoices.map((i) => i.issueAt.toISOString().slice(0, 10))).toEqual(['2026-01-15', '2026-02-15', '2026-03-15']);
    expect(invoices.map(lines)).toEqual([
      { 'base_fee:plan': ['2026-01-15', '2026-02-15'] }, // the trial's usage is free: no usage line
      { 'usage:api_calls': ['2026-01-15', '2026-02-15'], 'base_fee:plan': ['2026-02-15', '2026-03-15'] },
      { 'usage:api_calls': ['2026-02-15', '2026-03-15'], 'base_fee:plan': ['2026-03-15', '2026-04-15'] },
    ]);
    // each invoice's period: the usage period it closes
    expect(invoices.map((i) => span({ start: i.periodStart, end: i.periodEnd }))).toEqual([
      ['2026-01-01', '2026-01-15'],
      ['2026-01-15', '2026-02-15'],
      ['2026-02-15', '2026-03-15'],
    ]);
  });
});
