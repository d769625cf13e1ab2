import { describe, expect, it } from 'vitest';
import type { Invoice, InvoiceLine, Plan, Subscription, UsageSeries } from '@/server/ledger';
import { choosePeriod, priceWords, unitPriceText, usagePeriods, usagePeriodView, type UsagePeriodChoice } from '@/server/portal/views/usage';

/**
 * The usage page's view model as pure functions, with concrete numbers: which periods a
 * customer can choose, and a period's features (used against included and limit, the
 * bar, the cost's basis, the words).
 */
const MAR = new Date('2026-03-01T00:00:00.000Z');
const APR = new Date('2026-04-01T00:00:00.000Z');
const MAY = new Date('2026-05-01T00:00:00.000Z');
const FEB = new Date('2026-02-01T00:00:00.000Z');

const sub = (p: Partial<Subscription> = {}) =>
  ({ id: 'sub_a', customerId: 'cst_a', planId: 'pln_v2', status: 'active', quantity: 4, currentPeriodStart: APR, currentPeriodEnd: MAY, priceOverrides: {}, ...p }) as Subscription;

const invoice = (p: Partial<Omit<Invoice, 'id'>> & { id?: string; usage?: Partial<NonNullable<Invoice['basis']['usage']>> | null }) => {
  const { usage, ...rest } = p;
  return {
    id: 'inv_mar',
    number: 'INV-0002',
    status: 'open',
    subscriptionId: 'sub_a',
    periodStart: MAR,
    periodEnd: APR,
    lines: [],
    basis: { advance: null, usage: usage === null ? null : { planId: 'pln_v1', overrides: {}, start: MAR, end: APR, trial: false, ...usage }, prorations: [], couponId: null },
    ...rest,
  } as unknown as Invoice;
};

describe('the periods to choose from', () => {
  it('the current period first, then each period an invoice closed, newest first; the first invoice (no usage) names none', () => {
    const periods = usagePeriods({
      live: sub(),
      invoices: [
        invoice({ id: 'inv_first', periodStart: FEB, periodEnd: FEB, usage: null }),
        invoice({ id: 'inv_feb', number: 'INV-0001', periodStart: FEB, periodEnd: MAR, usage: { start: FEB, end: MAR, trial: true } }),
        invoice({}),
      ],
    });
    expect(periods.map((p) => [p.key, p.current, p.trial, p.planId, p.invoice?.number ?? null])).toEqual([
      ['2026-04-01T00:00:00.000Z', true, false, 'pln_v2', null],
      ['2026-03-01T00:00:00.000Z', false, false, 'pln_v1', 'INV-0002'],
      ['2026-02-01T00:00:00.000Z', false, true, 'pln_v1', 'INV-0001'],
    ]);
  });

  it('of a voided invoice and its replacement for one period, the replacement is the one named (in either order)', () => {
    const voided = invoice({ id: 'inv_void', status: 'void' });
    const again = invoice({ id: 'inv_again', number: 'INV-0003' });
    expect(usagePeriods({ live: null, invoices: [voided, again] })[0]!.invoice?.id).toBe('inv_again');
    expect(usagePeriods({ live: null, invoices: [again, voided] })[0]!.invoice?.id).toBe('inv_again');
  });

  it('a mid-period change invoice that starts with the current period does not replace it', () => {
    const change = invoice({ id: 'inv_change', periodStart: APR, periodEnd: new Date('2026-04-10T00:00:00Z'), usage: { start: APR } });
    const [p] = usagePeriods({ live: sub(), invoices: [change] });
    expect([p!.current, p!.end]).toEqual([true, MAY]);
  });

  it('a period is chosen by its start as ISO 8601 (any spelling of the same instant); unknown or no date is null', () => {
    const periods = usagePeriods({ live: sub(), invoices: [invoice({})] });
    expect(choosePeriod(periods, undefined)?.key).toBe('2026-04-01T00:00:00.000Z');
    expect(choosePeriod(periods, '2026-03-01T00:00:00Z')?.invoice?.id).toBe('inv_mar');
    expect(choosePeriod(periods, '2026-03-02T00:00:00Z')).toBeNull();
    expect(choosePeriod(periods, 'march')).toBeNull();
    expect(choosePeriod([], undefined)).toBeNull();
  });
});

const plan = {
  id: 'pln_v2',
  name: 'Scale',
  currency: 'USD',
  features: [
    { key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', includedUnits: 1000, limit: 5000, unitName: 'call', price: { model: 'per_unit', unitPrice: '0.002' } },
    { key: 'tokens', name: 'Tokens', kind: 'metered', aggregation: 'sum', includedUnits: 10_000, limit: null, unitName: 'token', price: { model: 'package', size: 1000, packagePrice: '0.5' } },
    { key: 'storage', name: 'Storage', kind: 'metered', aggregation: 'max', includedUnits: 0, limit: null, unitName: 'GB' },
    { key: 'seats', name: 'Seats', kind: 'licensed', includedUnits: 2, limit: 10, price: { model: 'per_unit', unitPrice: '8' } },
    { key: 'sso', name: 'SSO', kind: 'boolean', enabled: false },
  ],
} as unknown as Plan;

const current: UsagePeriodChoice = usagePeriods({ live: sub(), invoices: [] })[0]!;
const usageLine = (featureKey: string, amount: number) => ({ id: `usage:${featureKey}`, kind: 'usage', featureKey, amount }) as InvoiceLine;
const noSeries = new Map<string, UsageSeries>();

function view(used: Record<string, string>, p: Partial<Parameters<typeof usagePeriodView>[0]> = {}) {
  return usagePeriodView({ choice: current, plan, asOf: new Date('2026-04-10T00:00:00Z'), quantity: 4, used: new Map(Object.entries(used)), series: noSeries, usageLines: [], ...p });
}

describe('one period', () => {
  it('4,200 of 5,000 calls: 84 %, near the limit; the bar is on a 5,000 scale with the included 1,000 at 20 %', () => {
    const calls = view({ api_calls: '4200' }, { usageLines: [usageLine('api_calls', 640)] }).metered[0]!;
    expect(calls).toMatchObject({ used: 4200, included: 1000, limit: 5000, percent: 84, tone: 'near_limit', bar: { fill: 84, includedAt: 20, scale: 5000 } });
    expect(calls.summary).toBe('4,200 of 5,000 calls used; 3,200 above the included 1,000.');
    expect(calls.cost).toEqual({ amount: 640, currency: 'USD', basis: 'estimate', priceText: '$0.002 per call above 1,000 included' });
  });

  it('at the limit: limit reached, the bar full, and the words say more is refused', () => {
    const calls = view({ api_calls: '5000' }).metered[0]!;
    expect([calls.tone, calls.percent, calls.bar?.fill]).toEqual(['limit_reached', 100, 100]);
    expect(calls.summary).toMatch(/more is refused until the period ends or the plan changes\.$/);
  });

  it('79.9 % is 79 and not near the limit; within the included units the tone is ok', () => {
    expect(view({ api_calls: '3995' }).metered[0]!).toMatchObject({ percent: 79, tone: 'over_included' });
    expect(view({ api_calls: '999' }).metered[0]!).toMatchObject({ tone: 'ok', summary: '999 of 5,000 calls used; 1,000 included.' });
  });

  it('no limit but 10,000 included: 25,000 tokens draw on a 25,000 scale with the included mark at 40 %', () => {
    const tokens = view({ tokens: '25000' }).metered[1]!;
    expect(tokens).toMatchObject({ percent: null, tone: 'over_included', bar: { fill: 100, includedAt: 40, scale: 25000 } });
    expect(tokens.cost.priceText).toBe('$0.50 per 1,000 tokens above 10,000 included');
  });

  it('unlimited and unpriced: no bar, the cost is "included"; a unit in capitals is not made plural', () => {
    const storage = view({ storage: '12.5' }).metered[2]!;
    expect(storage).toMatchObject({ used: 12.5, bar: null, cost: { amount: null, basis: 'included' }, summary: '12.5 GB used, no limit.' });
  });

  it('a trial is free, an ended period is invoiced, a voided invoice has no cost', () => {
    expect(view({}, { choice: { ...current, trial: true } }).metered[0]!.cost).toMatchObject({ amount: 0, basis: 'trial' });
    const ended = { ...current, current: false, invoice: { id: 'inv_mar', number: 'INV-0002', status: 'paid' as const } };
    expect(view({}, { choice: ended, usageLines: [usageLine('api_calls', 160), usageLine('tokens', 50)] }).metered.map((m) => m.cost.amount)).toEqual([160, 50, null]);
    const voided = { ...ended, invoice: { ...ended.invoice, status: 'void' as const } };
    expect(view({}, { choice: voided, usageLines: [usageLine('api_calls', 160)] }).metered[0]!.cost).toMatchObject({ amount: null, basis: 'voided' });
  });

  it('the subscriber’s own prices win over the plan’s; the total adds the priced features', () => {
    const v = view({}, { choice: { ...current, overrides: { features: { api_calls: { model: 'per_unit', unitPrice: '0.001' } } } }, usageLines: [usageLine('api_calls', 100), usageLine('tokens', 50)] });
    expect(v.metered[0]!.cost.priceText).toBe('$0.001 per call above 1,000 included');
    expect(v.totalCost).toBe(150);
  });

  it('seats: 4 in use of at most 10, 2 included; SSO listed as off', () => {
    const v = view({});
    expect(v.seats).toEqual([{ key: 'seats', name: 'Seats', seats: 4, included: 2, limit: 10, percent: 40, priceText: '$8.00 per seat above 2 included' }]);
    expect(v.switches).toEqual([{ key: 'sso', name: 'SSO', enabled: false }]);
  });

  it('the series keeps exact figures beside the numbers; a day not reached is null; the max is of the days counted', () => {
    const series: UsageSeries = {
      granularity: 'day',
      buckets: [
        { start: APR, end: APR, from: APR, to: APR, value: '0.25' },
        { start: APR, end: APR, from: APR, to: APR, value: '7' },
        { start: APR, end: APR, from: APR, to: APR, value: null },
      ],
    };
    const s = view({ api_calls: '7.25' }, { series: new Map([['api_calls', series]]) }).metered[0]!.series;
    expect(s.points.map((p) => [p.value, p.exact])).toEqual([
      [0.25, '0.25'],
      [7, '7'],
      [null, null],
    ]);
    expect([s.max, s.total, s.granularity]).toEqual([7, '7.25', 'day']);
  });
});

describe('prices in words', () => {
  it('unit prices keep their decimals exactly; yen has none; flat fees and tiers read plainly', () => {
    expect(unitPriceText('0.0004', 'USD')).toBe('$0.0004');
    expect(unitPriceText('8', 'USD')).toBe('$8.00');
    expect(unitPriceText('3', 'JPY')).toBe('¥3');
    expect(priceWords({ model: 'flat', amount: 1250 }, 0, 'call', 'USD')).toBe('$12.50 a period, whatever the use');
    expect(priceWords({ model: 'graduated', tiers: [{ upTo: 100, unitPrice: '0.10', flatFee: 0 }, { upTo: null, unitPrice: '0.05', flatFee: 0 }] }, 0, 'call', 'USD')).toBe('Tiered, from $0.10 per call');
    expect(priceWords(undefined, 0, 'call', 'USD')).toBeNull();
  });
});
