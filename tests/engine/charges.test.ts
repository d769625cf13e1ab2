import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, type CreatePlanInput, type Invoice } from '@/server/ledger';
import { upcomingInvoice } from '@/server/ledger/invoice/upcoming';
import { rejectsWith } from '../support/engine';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * Percentage charges, minimums and the scope's rounding mode through the engine, on
 * every store: the per-transaction sums run in the usage store (SQL on PGlite and
 * PostgreSQL, a scan in memory) and must agree to the cent. A month from Jan 15, 10:00
 * UTC; usage is billed at its end, Feb 15.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const END = new Date('2025-02-15T10:00:00.000Z');
const HOUR = 3_600_000;

describe.each(storeFactories())('charges on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function setup(plan: CreatePlanInput, subscription: { priceOverrides?: Record<string, unknown> } = {}) {
    const clock = new ManualClock(T0);
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger, invoices: { finalizeGraceMs: HOUR } });
    const scope = uniqueScope();
    const p = await ledger.plans.create(scope, plan);
    const customer = await ledger.customers.create(scope, { email: 'p@example.com', name: 'Pat' });
    await ledger.subscriptions.create(scope, { customerId: customer.id, planId: p.id, ...subscription } as never);
    let n = 0;
    // Usage is metered as it happens: the clock moves to it (events from the future are refused).
    const event = async (featureKey: string, properties: Record<string, string | number>, at: Date | string = '2025-02-01T00:00:00Z', quantity = 1) => {
      if (new Date(at) > clock.now()) clock.set(at);
      const [r] = await ledger.meter.meterDurable(scope, [{ idempotencyKey: `e${++n}`, customerId: customer.id, featureKey, quantity, timestamp: new Date(at).toISOString(), properties }]);
      expect(r!.outcome.status).toBe('accepted');
    };
    /** The invoice that closes the first month. */
    const periodEnd = async (): Promise<Invoice> => {
      clock.set(END);
      await ledger.billing.run(scope);
      const all = (await ledger.invoices.listByCustomer(scope, customer.id, { limit: 10 })).items;
      return all.find((i) => i.issueAt.getTime() === END.getTime())!;
    };
    return { ledger, clock, scope, plan: p, customer, event, periodEnd };
  }
  const lines = (inv: Invoice) => inv.lines.map((l) => [l.id, l.amount]);

  it('percentage, 2.9 % + 0.30 per payment, at least 0.50 and at most 5.00: payments of 10.00, 1.00, 500.00 and one without an amount cost 0.59 + 0.50 + 5.00 + 0.50 = 6.59', async () => {
    const { event, periodEnd } = await setup({
      key: 'payments',
      name: 'Payments',
      currency: 'USD',
      interval: { unit: 'month' },
      features: [
        {
          key: 'card_payments',
          name: 'Card payments',
          kind: 'metered',
          aggregation: 'count',
          amountProperty: 'amount',
          price: { model: 'percentage', rate: '2.9', fixedFee: 30, minPerTransaction: 50, maxPerTransaction: 500 },
        },
      ],
    });
    await event('card_payments', { amount: '10.00' }); // 0.29 + 0.30 = 0.59
    await event('card_payments', { amount: 1 }); // 0.029 + 0.30 = 0.329 → the minimum 0.50
    await event('card_payments', { amount: '500' }); // 14.50 + 0.30 = 14.80 → the maximum 5.00
    await event('card_payments', { amount: 'n/a' }); // no amount: 0 + 0.30 → 0.50
    await event('card_payments', { amount: '99' }, '2025-01-10T00:00:00Z'); // before the period
    await event('card_payments', { amount: '99' }, END); // at its end: the next period's
    const inv = await periodEnd();
    expect(inv.lines).toMatchObject([
      { id: 'usage:card_payments', kind: 'usage', quantity: '511', amount: 659, description: 'Card payments: 4 transactions, 511 USD at 2.9% + $0.30 each' },
    ]);
    expect(inv.total).toBe(659);
  });

  it('percentage with Lago’s numbers, 1.2 % + 0.10 per transaction (no free units): 200 + 100 + 100 + 50 = 450 cost 5.40 + 0.40 = 5.80', async () => {
    const { event, periodEnd } = await setup({
      key: 'transfers',
      name: 'Transfers',
      currency: 'USD',
      interval: { unit: 'month' },
      features: [{ key: 'transfers', name: 'Bank transfers', kind: 'metered', aggregation: 'count', amountProperty: 'amount', price: { model: 'percentage', rate: '1.2', fixedFee: 10 } }],
    });
    for (const amount of [200, 100, 100, 50]) await event('transfers', { amount });
    expect(lines(await periodEnd())).toEqual([['usage:transfers', 580]]);
  });

  const freePlan = (price: Record<string, unknown>): CreatePlanInput => ({
    key: 'transfers',
    name: 'Transfers',
    currency: 'USD',
    interval: { unit: 'month' },
    features: [{ key: 'transfers', name: 'Bank transfers', kind: 'metered', aggregation: 'count', amountProperty: 'amount', price: { model: 'percentage', rate: '1.2', fixedFee: 10, ...price } as never }],
  });

  it('Lago’s documented example, the first 3 transactions or 500.00 free: 200, 100 and 100 are free, the 4th of 50 costs 0.10 + 1.2 % × 50 = 0.70', async () => {
    const { event, periodEnd } = await setup(freePlan({ freeTransactions: 3, freeAmount: 50000 }));
    for (const [i, amount] of [200, 100, 100, 50].entries()) await event('transfers', { amount }, new Date(Date.parse('2025-02-01T00:00:00Z') + i * 60_000));
    expect(lines(await periodEnd())).toEqual([['usage:transfers', 70]]);
  });

  it('free amount 500.00 only: 200 free, 400 charged on the 100 above it (1.30), the next 100 in full (1.30): 2.60', async () => {
    const { event, periodEnd } = await setup(freePlan({ freeAmount: 50000 }));
    for (const [i, amount] of [200, 400, 100].entries()) await event('transfers', { amount }, new Date(Date.parse('2025-02-01T00:00:00Z') + i * 60_000));
    expect(lines(await periodEnd())).toEqual([['usage:transfers', 260]]);
  });

  it('free units follow the transactions’ time, not their arrival: with 1 free, 10.00 on Feb 1 (sent second) is free and 100.00 on Feb 2 costs 1.30', async () => {
    const { event, periodEnd } = await setup(freePlan({ freeTransactions: 1 }));
    await event('transfers', { amount: 100 }, '2025-02-02T00:00:00Z');
    await event('transfers', { amount: 10 }, '2025-02-01T00:00:00Z');
    expect(lines(await periodEnd())).toEqual([['usage:transfers', 130]]);
  });

  it('graduated percentage with Lago’s tiers: transactions of 500, 550 and 4,000 in the month cost 591.00', async () => {
    const { event, periodEnd } = await setup({
      key: 'fintech',
      name: 'Fintech',
      currency: 'USD',
      interval: { unit: 'month' },
      features: [
        {
          key: 'volume',
          name: 'Volume',
          kind: 'metered',
          aggregation: 'count',
          amountProperty: 'amount',
          price: {
            model: 'graduated_percentage',
            tiers: [
              { upTo: 1000, rate: '1', flatFee: 20000 },
              { upTo: 10000, rate: '2', flatFee: 30000 },
              { upTo: null, rate: '3', flatFee: 40000 },
            ],
          },
        },
      ],
    });
    for (const amount of ['500', '550', '4000.00']) await event('volume', { amount });
    const inv = await periodEnd();
    expect(inv.lines).toMatchObject([{ id: 'usage:volume', quantity: '5050', amount: 59100 }]);
  });

  const usagePlan = (more: Partial<CreatePlanInput> = {}): CreatePlanInput => ({
    key: 'metered',
    name: 'Metered',
    currency: 'USD',
    interval: { unit: 'month' },
    features: [{ key: 'calls', name: 'API calls', kind: 'metered', aggregation: 'sum', price: { model: 'per_unit', unitPrice: '0.002' } }],
    ...more,
  });

  it('minimum commitment 100.00 with a 20.00 base fee: 20,000 calls (40.00) leave a 40.00 true-up, before the next month’s fee in advance', async () => {
    const { event, periodEnd } = await setup(usagePlan({ basePrice: 2000, minimumCommitment: 10000 }));
    await event('calls', {}, '2025-02-01T00:00:00Z', 20000);
    const inv = await periodEnd();
    expect(lines(inv)).toEqual([
      ['usage:calls', 4000],
      ['minimum:plan', 4000],
      ['base_fee:plan', 2000],
    ]);
    expect(inv.lines.find((l) => l.id === 'minimum:plan')).toMatchObject({ description: 'Minimum commitment true-up', periodStart: T0, periodEnd: END });
    expect(inv.total).toBe(10000);
  });

  it('the upcoming invoice mid-period shows the whole period’s commitment: 5,000 calls (10.00) so far leave a 70.00 true-up, not a part of it', async () => {
    const { ledger, clock, scope, customer, event } = await setup(usagePlan({ basePrice: 2000, minimumCommitment: 10000 }));
    await event('calls', {}, '2025-02-01T00:00:00Z', 5000);
    clock.set('2025-02-01T01:00:00Z');
    const sub = (await ledger.subscriptions.listByCustomer(scope, customer.id)).items[0]!;
    const preview = (await upcomingInvoice({ billing: ledger.billing, invoices: ledger.invoices, now: (s, c) => ledger.now(s, c) }, scope, sub)).invoice;
    expect(preview.lines.map((l) => [l.id, l.amount])).toEqual([
      ['usage:calls', 1000],
      ['minimum:plan', 7000],
      ['base_fee:plan', 2000],
    ]);
  });

  it('calendar billing, Lago’s example: 50.00 a month with a 100.00 commitment from August 10 bills 35.48 for August; on September 1 the true-up is (100.00 − 50.00) × 22/31 = 35.48', async () => {
    const clock = new ManualClock('2025-08-10T14:00:00Z');
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger, invoices: { finalizeGraceMs: HOUR } });
    const scope = uniqueScope();
    const plan = await ledger.plans.create(scope, usagePlan({ basePrice: 5000, minimumCommitment: 10000, billingCycle: 'calendar' }));
    const customer = await ledger.customers.create(scope, { email: 'c@example.com', name: 'Cal' });
    await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    clock.set('2025-09-01T00:00:00Z');
    await ledger.billing.run(scope);
    const all = (await ledger.invoices.listByCustomer(scope, customer.id, { limit: 10 })).items.sort((x, y) => x.issueAt.getTime() - y.issueAt.getTime());
    expect(all.map((i) => i.total)).toEqual([3548, 3548 + 5000]);
    expect(lines(all[1]!)).toEqual([
      ['usage:calls', 0],
      ['minimum:plan', 3548],
      ['base_fee:plan', 5000],
    ]);
  });

  it('a commitment counts the seats that paid for the period even when no fees follow it: canceled at the period end, 100.00 − 20.00 − 5 seats × 10.00 = 30.00 true-up, not 80.00', async () => {
    const seatPlan = usagePlan({
      basePrice: 2000,
      minimumCommitment: 10000,
      features: [
        { key: 'calls', name: 'API calls', kind: 'metered', aggregation: 'sum', price: { model: 'per_unit', unitPrice: '0.002' } },
        { key: 'seats', name: 'Seats', kind: 'licensed', price: { model: 'per_unit', unitPrice: '10' } },
      ],
    });
    const clock = new ManualClock(T0);
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger, invoices: { finalizeGraceMs: HOUR } });
    const scope = uniqueScope();
    const plan = await ledger.plans.create(scope, seatPlan);
    const customer = await ledger.customers.create(scope, { email: 's@example.com', name: 'Seats' });
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: 5 });
    await ledger.subscriptions.cancel(scope, sub.id, { at: 'period_end' });
    clock.set(END);
    await ledger.billing.run(scope);
    const last = (await ledger.invoices.listByCustomer(scope, customer.id, { limit: 10 })).items.find((i) => i.issueAt.getTime() === END.getTime())!;
    expect(lines(last)).toEqual([
      ['usage:calls', 0],
      ['minimum:plan', 3000],
    ]);
  });

  it('a calendar commitment is prorated in the subscription’s time zone, fixed when it was made: the customer moving to New York later leaves September’s true-up at 35.48', async () => {
    const clock = new ManualClock('2025-08-10T14:00:00Z');
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger, invoices: { finalizeGraceMs: HOUR } });
    const scope = uniqueScope();
    const plan = await ledger.plans.create(scope, usagePlan({ basePrice: 5000, minimumCommitment: 10000, billingCycle: 'calendar' }));
    const customer = await ledger.customers.create(scope, { email: 'z@example.com', name: 'Zone' });
    await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id });
    await ledger.customers.update(scope, customer.id, { timeZone: 'America/New_York' });
    clock.set('2025-09-01T00:00:00Z');
    await ledger.billing.run(scope);
    const all = (await ledger.invoices.listByCustomer(scope, customer.id, { limit: 10 })).items.sort((x, y) => x.issueAt.getTime() - y.issueAt.getTime());
    expect(all.map((i) => i.total)).toEqual([3548, 3548 + 5000]);
  });

  it('a subscription’s override of the commitment (50.00) wins: 20,000 calls and the fee reach it, no true-up', async () => {
    const { event, periodEnd } = await setup(usagePlan({ basePrice: 2000, minimumCommitment: 10000 }), { priceOverrides: { minimumCommitment: 5000 } });
    await event('calls', {}, '2025-02-01T00:00:00Z', 20000);
    expect(lines(await periodEnd())).toEqual([
      ['usage:calls', 4000],
      ['base_fee:plan', 2000],
    ]);
  });

  it('a minimum per charge of 50.00 with no usage: a 50.00 true-up line for the feature (a first tier’s flat fee would bill nothing)', async () => {
    const { ledger, scope, plan, periodEnd } = await setup(
      usagePlan({ features: [{ key: 'calls', name: 'API calls', kind: 'metered', aggregation: 'sum', price: { model: 'per_unit', unitPrice: '0.002', minimum: 5000 } }] }),
    );
    expect(((await ledger.plans.get(scope, plan.id)).features[0] as { price: unknown }).price).toEqual({ model: 'per_unit', unitPrice: '0.002', minimum: 5000 });
    expect(lines(await periodEnd())).toEqual([
      ['usage:calls', 0],
      ['minimum:calls', 5000],
    ]);
  });

  it('the scope’s rounding mode: 25 calls at 0.005 = 0.125 bill 0.13 by default and 0.12 once the scope chooses half to even', async () => {
    const plan = usagePlan({ features: [{ key: 'calls', name: 'API calls', kind: 'metered', aggregation: 'sum', price: { model: 'per_unit', unitPrice: '0.005' } }] });
    const a = await setup(plan);
    await a.event('calls', {}, '2025-02-01T00:00:00Z', 25);
    expect(lines(await a.periodEnd())).toEqual([['usage:calls', 13]]);

    const b = await setup(plan);
    expect(await b.ledger.settings.get(b.scope)).toEqual({ roundingMode: 'half_away_from_zero' });
    expect(await b.ledger.settings.update(b.scope, { roundingMode: 'half_even' })).toEqual({ roundingMode: 'half_even' });
    expect(await b.ledger.settings.get(b.scope)).toEqual({ roundingMode: 'half_even' });
    await rejectsWith(b.ledger.settings.update(b.scope, { roundingMode: 'up' as never }), 'invalid');
    expect(await b.ledger.settings.get(b.scope)).toEqual({ roundingMode: 'half_even' });
    // Setting the rounding does not register the scope: it is still live by default.
    expect(await b.ledger.store.scopes.mode(b.scope)).toBeNull();
    await b.event('calls', {}, '2025-02-01T00:00:00Z', 25);
    expect(lines(await b.periodEnd())).toEqual([['usage:calls', 12]]);
    const changes = (await b.ledger.events.list(b.scope, { type: 'scope_settings.updated' }, { limit: 10 })).items;
    expect(changes).toHaveLength(1); // the refused update wrote nothing
  });
});
