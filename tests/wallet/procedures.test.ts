import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, type CustomerId, type Ledger, type Scope } from '@/server/ledger';
import type { PortalRole } from '@/server/portal/session';
import { createCaller } from '@/server/trpc/root';
import { storeFactories, uniqueScope, useStore } from '../support/stores';
import { codeOf, portalContext } from '../support/trpc';

/**
 * The wallet procedures through createCaller, on every store: `wallets.*` with an API key
 * (create, grant, topUp, balance, ledger, automatic top-ups, recurring grants) and the
 * portal's `accountCredits.*` (the session's customer only; a member may read, not buy).
 * 1 credit = 1 cent.
 */
const T0 = new Date('2026-03-10T12:00:00.000Z');
const VISA = '4242424242424242';

describe.each(storeFactories())('wallet procedures on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let ledger: Ledger;
  let s: Scope;
  const api = () => createCaller({ ledger, auth: { kind: 'api_key', scope: s, keyId: 'key_test' } }).wallets;
  const as = (customerId: CustomerId, role: PortalRole = 'owner') =>
    createCaller({ ledger, auth: { kind: 'portal', scope: s, portal: portalContext(s, customerId, role) } }).accountCredits;

  beforeAll(async () => {
    ledger = await createLedger({ store: store(), clock: new ManualClock(T0), logger: silentLogger, hosted: { secret: 'a-test-secret-of-32-characters!!', baseUrl: 'https://billing.example.com/' } });
  });

  async function customer(name: string) {
    s = uniqueScope();
    await ledger.scopes.register(s, 'test');
    return ledger.customers.create(s, { email: `${name.toLowerCase()}@example.com`, name });
  }

  it('API: a plan with a feature limited by credits, then entitlements.consume: allowed while 1.00 of credits covers 0.10 a call, then insufficient_credits with the shortfall', async () => {
    const c = await customer('Lin');
    const caller = createCaller({ ledger, auth: { kind: 'api_key', scope: s, keyId: 'key_test' } });
    const plan = await caller.plans.create({
      key: 'prepaid',
      name: 'Prepaid',
      currency: 'USD',
      interval: { unit: 'month' },
      features: [{ key: 'renders', name: 'Renders', kind: 'metered', aggregation: 'count', limitByCredits: true, price: { model: 'per_unit', unitPrice: '0.10' } }],
    });
    expect(plan.features[0]).toMatchObject({ key: 'renders', limitByCredits: true });
    await caller.subscriptions.create({ customerId: c.id, planId: plan.id });
    const { wallet } = await api().create({ customerId: c.id, currency: 'USD' });
    await api().grant({ walletId: wallet.id, amount: 100 });
    const consume = (k: string) => caller.entitlements.consume({ customerId: c.id, featureKey: 'renders', quantity: 1, idempotencyKey: k });
    for (let i = 0; i < 10; i++) expect(await consume(`r${i}`)).toMatchObject({ allowed: true });
    expect(await consume('r10')).toEqual({
      allowed: false,
      limit: null,
      used: 10,
      remaining: null,
      reason: 'insufficient_credits',
      recorded: false,
      replayed: false,
      credits: { currency: 'USD', balance: 100, charged: 110, shortfall: 10 },
    });
    // A count feature limited by credits still takes 1 at a time; other aggregations are refused by the plan.
    expect(await codeOf(caller.entitlements.consume({ customerId: c.id, featureKey: 'renders', quantity: 2, idempotencyKey: 'r11' }))).toBe('BAD_REQUEST');
    expect(
      await codeOf(caller.plans.create({ key: 'bad', name: 'Bad', currency: 'USD', interval: { unit: 'month' }, features: [{ key: 'gb', name: 'GB', kind: 'metered', aggregation: 'max', limitByCredits: true }] })),
    ).toBe('BAD_REQUEST');
  });

  it('API: a wallet in EUR, 12.00 granted, a 30.00 top-up charged to the card: 42.00, three ledger entries in two pages of 2', async () => {
    const c = await customer('Ada');
    await ledger.payments.sandbox.attachCard(s, c.id, { number: VISA, expMonth: 12, expYear: 2030 });
    const { wallet, created } = await api().create({ customerId: c.id, currency: 'eur' });
    expect(created).toBe(true);
    expect(wallet).toMatchObject({ currency: 'EUR', balance: 0 });
    await api().grant({ walletId: wallet.id, amount: 1200, priority: 5 });
    const inv = await api().topUp({ walletId: wallet.id, amount: 3000, idempotencyKey: 'k1' });
    expect(inv).toMatchObject({ billingReason: 'wallet_top_up', currency: 'EUR', total: 3000 });
    expect(await api().balance({ walletId: wallet.id })).toMatchObject({ balance: 4200, currency: 'EUR' });
    await api().grant({ walletId: wallet.id, amount: 100 });
    const first = await api().ledger({ walletId: wallet.id, page: { limit: 2 } });
    expect(first.items.map((e) => [e.type, e.amount, e.balanceAfter])).toEqual([
      ['grant', 100, 4300],
      ['top_up', 3000, 4200],
    ]);
    const second = await api().ledger({ walletId: wallet.id, page: { limit: 2, cursor: first.nextCursor! } });
    expect(second.items.map((e) => [e.type, e.amount, e.balanceAfter])).toEqual([['grant', 1200, 1200]]);
    expect(second.nextCursor).toBeNull();

    expect(await api().setAutoTopUp({ walletId: wallet.id, autoTopUp: { threshold: 500, mode: 'fixed', amount: 2000 } })).toMatchObject({ autoTopUp: { threshold: 500, mode: 'fixed', amount: 2000 } });
    const withRule = await api().recurringGrants.add({ walletId: wallet.id, amount: 5000, interval: { unit: 'month' } });
    expect(withRule.recurringGrants).toMatchObject([{ amount: 5000, made: 1, nextAt: new Date('2026-04-10T12:00:00.000Z') }]);
    expect(await api().balance({ walletId: wallet.id })).toMatchObject({ balance: 9300 });
    const removed = await api().recurringGrants.remove({ walletId: wallet.id, ruleId: withRule.recurringGrants[0]!.id });
    expect(removed.recurringGrants).toEqual([]);
  });

  it('API: bad input is BAD_REQUEST and changes nothing; another scope\'s wallet is NOT_FOUND', async () => {
    const c = await customer('Bob');
    const { wallet } = await api().create({ customerId: c.id, currency: 'USD' });
    expect(await codeOf(api().grant({ walletId: wallet.id, amount: 0 }))).toBe('BAD_REQUEST');
    expect(await codeOf(api().grant({ walletId: wallet.id, amount: 100, priority: 101 }))).toBe('BAD_REQUEST');
    expect(await codeOf(api().topUp({ walletId: 'cst_nope', amount: 100 } as never))).toBe('BAD_REQUEST');
    expect(await codeOf(api().setAutoTopUp({ walletId: wallet.id, autoTopUp: { threshold: 10, mode: 'target', amount: 5 } }))).toBe('BAD_REQUEST');
    expect((await api().ledger({ walletId: wallet.id })).items).toEqual([]);
    const mine = s;
    await customer('Eve');
    expect(await codeOf(api().balance({ walletId: wallet.id }))).toBe('NOT_FOUND');
    s = mine;
  });

  it('portal: the session\'s customer sees 0.00, buys 25.00 (no card: a pay link back to /portal/credits); a member may read but not buy', async () => {
    const c = await customer('Cleo');
    const empty = await as(c.id).overview();
    expect(empty).toMatchObject({ currency: 'USD', balance: 0, grants: [], entries: [], pendingTopUps: [], hasDefaultCard: false, canManageBilling: true });
    const bought = await as(c.id, 'billing').topUp({ amount: 2500 });
    expect(bought).toMatchObject({ amount: 2500, currency: 'USD', paid: false });
    expect(bought.payUrl).toMatch(/^\/pay\/[\w-]+\.[\w-]+\?return=%2Fportal%2Fcredits$/);
    const waiting = await as(c.id).overview();
    expect(waiting).toMatchObject({ balance: 0, pendingTopUps: [{ id: bought.invoiceId, amountDue: 2500 }] });
    // Paid (as the hosted page would): the credits arrive.
    await ledger.payments.sandbox.attachCard(s, c.id, { number: VISA, expMonth: 12, expYear: 2030 });
    await ledger.collectPayment(s, bought.invoiceId);
    const after = await as(c.id, 'member').overview();
    expect(after).toMatchObject({ balance: 2500, pendingTopUps: [], canManageBilling: false, hasDefaultCard: true });
    expect(after.entries.map((e) => [e.type, e.amount, e.balanceAfter])).toEqual([['top_up', 2500, 2500]]);
    expect(await codeOf(as(c.id, 'member').topUp({ amount: 2500 }))).toBe('FORBIDDEN');
    expect(await codeOf(as(c.id).topUp({ amount: 99 }))).toBe('BAD_REQUEST');
    // With a default card now: charged at once. The form sent twice (its one key): bought once.
    const requestKey = '3f1c2a9e-7b4d-4c1a-9e2f-5d6b7a8c9d0e';
    const once = await as(c.id).topUp({ amount: 1000, requestKey });
    expect(once).toMatchObject({ paid: true, payUrl: null });
    expect((await as(c.id).topUp({ amount: 1000, requestKey })).invoiceId).toBe(once.invoiceId);
    expect(await codeOf(as(c.id).topUp({ amount: 1000, requestKey: 'not-a-uuid' }))).toBe('BAD_REQUEST');
    const latest = await as(c.id).overview();
    expect(latest.balance).toBe(3500);
    expect(latest.entries.map((e) => [e.type, e.amount, e.balanceAfter])).toEqual([['top_up', 1000, 3500], ['top_up', 2500, 2500]]);
    // Older activity: the page after the newest entry.
    expect((await as(c.id).ledger({ cursor: latest.entries[0]!.id })).entries.map((e) => e.amount)).toEqual([2500]);
  });
});
