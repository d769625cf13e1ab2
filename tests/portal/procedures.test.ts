import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, type CustomerId, type Ledger, type Scope } from '@/server/ledger';
import type { PortalRole } from '@/server/portal/session';
import { createCaller } from '@/server/trpc/root';
import { otherAppOf, storeFactories, uniqueScope, useStore } from '../support/stores';
import { codeOf, portalContext } from '../support/trpc';

/**
 * The portal's reads (`account.*`) through createCaller with a portal session context,
 * on every store. Plan "team": 20.00 a month plus 5.00 a seat, API calls metered up to
 * 1,000 a period at 0.01 each. Customer A has 3 seats (35.00 in advance), B 1 seat
 * (25.00), and C the same plan in another app of the tenant. Scope and customer come
 * from the session only: A never sees B's or C's.
 */
const T0 = new Date('2026-01-15T10:00:00.000Z');
const PERIOD_END = new Date('2026-02-15T10:00:00.000Z');
const DAY = 86_400_000;

describe.each(storeFactories())('portal reads on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let ledger: Ledger;
  let clock: ManualClock;
  let s: Scope;
  let other: Scope;
  const ids = {} as Record<'a' | 'b' | 'c' | 'trial', CustomerId>;

  const portal = portalContext;
  const as = (scope: Scope, customerId: CustomerId, role: PortalRole = 'owner') =>
    createCaller({ ledger, auth: { kind: 'portal', scope, portal: portal(scope, customerId, role) } }).account;

  async function subscribe(scope: Scope, name: string, quantity: number, trialDays = 0): Promise<CustomerId> {
    const plan = await ledger.plans.getByKey(scope, 'team');
    const c = await ledger.customers.create(scope, { email: `${name}@example.com`, name, collectionMethod: 'send_invoice' });
    await ledger.subscriptions.create(scope, { customerId: c.id, planId: plan.id, quantity, trialDays });
    return c.id;
  }
  const meter = (scope: Scope, customerId: string, quantity: number, key: string) =>
    ledger.meter.meterDurable(scope, [{ idempotencyKey: key, customerId, featureKey: 'api_calls', quantity, timestamp: new Date(clock.nowMs() - 3_600_000).toISOString() }]); // an hour ago: the usage read ends at now, excluded

  beforeAll(async () => {
    clock = new ManualClock(T0);
    ledger = await createLedger({ store: store(), clock, logger: silentLogger });
    s = uniqueScope();
    other = otherAppOf(s);
    for (const scope of [s, other]) {
      await ledger.scopes.register(scope, 'test');
      await ledger.plans.create(scope, {
        key: 'team',
        name: 'Team',
        currency: 'USD',
        interval: { unit: 'month' },
        basePrice: 2000,
        trialDays: 14,
        features: [
          { key: 'seats', name: 'Seats', kind: 'licensed', price: { model: 'per_unit', unitPrice: '5' } },
          { key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', limit: 1000, unitName: 'call', price: { model: 'per_unit', unitPrice: '0.01' } },
        ],
      });
    }
    ids.a = await subscribe(s, 'Ada', 3);
    ids.b = await subscribe(s, 'Bob', 1);
    ids.c = await subscribe(other, 'Cy', 1);
    ids.trial = await subscribe(s, 'Tess', 1, 14);
    clock.set(T0.getTime() + DAY);
    // A at 80 % of its limit, B at 100 %.
    expect((await meter(s, ids.a, 800, 'a1'))[0]!.outcome).toMatchObject({ status: 'accepted' });
    expect((await meter(s, ids.b, 1000, 'b1'))[0]!.outcome).toMatchObject({ status: 'accepted' });
  });

  it("the overview of A: its plan, 3 seats, the next invoice (35.00 + 800 calls at 0.01 = 43.00 on Feb 15), its open invoice to pay, the 80 % alert; nothing of B's", async () => {
    const o = await as(s, ids.a).overview();
    expect(o.customer).toEqual({ name: 'Ada', email: 'Ada@example.com' });
    expect(o.subscription).toMatchObject({ planName: 'Team', planKey: 'team', quantity: 3, status: { status: 'active' }, trial: null, cancelsAt: null, currentPeriod: { start: T0, end: PERIOD_END } });
    expect(o.nextInvoice).toEqual({ issueAt: PERIOD_END, total: 4300, currency: 'USD' });
    const [invA] = (await ledger.invoices.listByCustomer(s, ids.a)).items;
    expect(o.toPay).toMatchObject({ id: invA!.id, number: 'INV-000001', amountDue: 3500, pastDue: false });
    expect(o.toPay!.payUrl).toMatch(/^\/pay\/[\w.-]+\?return=%2Fportal$/);
    expect(o.owed).toEqual([{ currency: 'USD', amount: 3500, invoices: 1 }]);
    expect(o.recentInvoices.rows.map((r) => r.id)).toEqual([invA!.id]);
    expect(o.alerts.map((a) => [a.kind, a.featureKey, a.percent])).toEqual([['near_limit', 'api_calls', 80]]);

    const b = await as(s, ids.b).overview();
    expect(b.alerts.map((a) => [a.kind, a.percent])).toEqual([['limit_reached', 100]]);
    expect(b.toPay).toMatchObject({ number: 'INV-000002', amountDue: 2500 });
    expect(b.toPay!.id).not.toBe(invA!.id);
  });

  it('a trial: 13 days left a day in; a member sees the invoice to pay but gets no pay link', async () => {
    const t = await as(s, ids.trial, 'member').overview();
    expect(t.subscription!.trial).toMatchObject({ daysLeft: 13 });
    expect(t.subscription!.status).toMatchObject({ status: 'trialing' });
    const m = await as(s, ids.a, 'member').overview();
    expect(m.canManageBilling).toBe(false);
    expect(m.toPay).toMatchObject({ amountDue: 3500, payUrl: null });
  });

  it("the invoice list holds the customer's own invoices only, newest first, paged", async () => {
    const a = await as(s, ids.a).invoices.list();
    expect(a).toMatchObject({ page: 1, pageCount: 1, total: 1 });
    expect(a.rows.map((r) => [r.number, r.total, r.amountDue, r.status.status])).toEqual([['INV-000001', 3500, 3500, 'due']]);
    expect(a.rows[0]!.period).toEqual({ start: T0, end: PERIOD_END });
    const b = await as(s, ids.b).invoices.list({ page: 1, perPage: 1 });
    expect(b.rows.map((r) => r.number)).toEqual(['INV-000002']);
    const c = await as(other, ids.c).invoices.list();
    expect(c.rows.map((r) => r.number)).toEqual(['INV-000001']);
    expect(c.rows[0]!.id).not.toBe(a.rows[0]!.id);
  });

  it("an invoice's detail for its customer: lines, payments, PDF and pay URL (owner and billing), none for a member", async () => {
    const [invA] = (await ledger.invoices.listByCustomer(s, ids.a)).items;
    const d = await as(s, ids.a).invoices.get({ id: invA!.id });
    expect(d.lines.map((l) => [l.description, l.quantity, l.amount])).toEqual([
      [expect.any(String), '1', 2000],
      [expect.any(String), '3', 1500],
    ]);
    expect(d).toMatchObject({ number: 'INV-000001', subtotal: 3500, total: 3500, amountDue: 3500, payments: [], creditNotes: [], pdfUrl: `/api/invoices/${invA!.id}/pdf` });
    expect(d.payUrl).toMatch(/^\/pay\//);
    expect((await as(s, ids.a, 'billing').invoices.get({ id: invA!.id })).payUrl).toMatch(/^\/pay\//);
    expect((await as(s, ids.a, 'member').invoices.get({ id: invA!.id })).payUrl).toBeNull();
  });

  it("another customer's invoice (same scope, another app) and a malformed id are NOT_FOUND", async () => {
    const [invB] = (await ledger.invoices.listByCustomer(s, ids.b)).items;
    const [invC] = (await ledger.invoices.listByCustomer(other, ids.c)).items;
    expect(await codeOf(as(s, ids.a).invoices.get({ id: invB!.id }))).toBe('NOT_FOUND');
    expect(await codeOf(as(s, ids.a).invoices.get({ id: invC!.id }))).toBe('NOT_FOUND');
    // C's own scope does find it: the scope is what hides it from A.
    expect((await as(other, ids.c).invoices.get({ id: invC!.id })).id).toBe(invC!.id);
    expect(await codeOf(as(s, ids.a).invoices.get({ id: 'not-an-id' }))).toBe('NOT_FOUND');
  });

  it('no session: UNAUTHORIZED for every read; an API key is not a portal session either', async () => {
    const anon = createCaller({ ledger, auth: null }).account;
    expect(await codeOf(anon.overview())).toBe('UNAUTHORIZED');
    expect(await codeOf(anon.invoices.list())).toBe('UNAUTHORIZED');
    expect(await codeOf(anon.profile())).toBe('UNAUTHORIZED');
    const [invA] = (await ledger.invoices.listByCustomer(s, ids.a)).items;
    expect(await codeOf(anon.invoices.get({ id: invA!.id }))).toBe('UNAUTHORIZED');
    const key = createCaller({ ledger, auth: { kind: 'api_key', scope: s, keyId: 'key_1' } }).account;
    expect(await codeOf(key.overview())).toBe('UNAUTHORIZED');
  });

  it("the profile: the customer's name, the role, the way back, the merchant and test mode", async () => {
    const p = await createCaller({ ledger, auth: { kind: 'portal', scope: s, portal: { ...portal(s, ids.b, 'billing'), returnUrl: 'https://app.example.com/settings' } } }).account.profile();
    expect(p).toMatchObject({ customer: { name: 'Bob' }, role: 'billing', canManageBilling: true, returnUrl: 'https://app.example.com/settings', testMode: true });
  });
  it("a cancellation scheduled: B's access ends at the period end, and the next invoice is its last: the period's 1,000 calls at 0.01 = 10.00; once ended, no next invoice", async () => {
    const [sub] = (await ledger.subscriptions.listByCustomer(s, ids.b)).items;
    await ledger.subscriptions.cancel(s, sub!.id, { at: 'period_end' });
    const o = await as(s, ids.b).overview();
    expect(o.subscription).toMatchObject({ cancelsAt: PERIOD_END, status: { status: 'canceling', label: 'Cancels at period end' } });
    expect(o.nextInvoice).toEqual({ issueAt: PERIOD_END, total: 1000, currency: 'USD' });

    await ledger.subscriptions.cancel(s, sub!.id, { at: 'now' });
    const ended = await as(s, ids.b).overview();
    expect(ended.subscription).toMatchObject({ id: sub!.id, status: { status: 'canceled' }, cancelsAt: null, endedAt: expect.any(Date) });
    expect(ended.nextInvoice).toBeNull();
    expect(ended.alerts).toEqual([]);
  });
});
