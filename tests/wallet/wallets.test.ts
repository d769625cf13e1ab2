import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Invoice, InvoiceLine } from '../../server/ledger/invoice/types';
import { newId, type SubscriptionId } from '../../server/ledger/types';
import { rejectsWith, testEngine } from '../support/engine';
import { storeFactories, useStore } from '../support/stores';

/**
 * Prepaid credit wallets, with concrete numbers, on every store. 1 credit = 1 cent.
 * Plan "Pro": 50.00 a month in advance plus seats at 10.00 each (3 seats: 30.00), so
 * subscribing issues an invoice of 80.00 (base fee 50.00, seats 30.00).
 */
const JAN_1 = '2025-01-01T00:00:00.000Z';
const VISA = '4242 4242 4242 4242';

describe.each(storeFactories())('prepaid credit wallets on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function setup(opts: { clock?: boolean } = {}) {
    const e = await testEngine(store(), { start: JAN_1 });
    const { ledger, scope } = e;
    await ledger.scopes.register(scope, 'test');
    const plan = await ledger.plans.create(scope, {
      key: 'pro',
      name: 'Pro',
      currency: 'USD',
      interval: { unit: 'month' },
      basePrice: 5000,
      features: [{ key: 'seats', name: 'Seats', kind: 'licensed', price: { model: 'per_unit', unitPrice: '10.00' } }],
    });
    const testClock = opts.clock ? await ledger.testClocks.create(scope, { at: JAN_1, name: 'wallet' }) : null;
    const customer = await ledger.customers.create(scope, { email: 'ada@example.com', name: 'Ada', testClockId: testClock?.id ?? null });
    const { wallet } = await ledger.wallets.create(scope, { customerId: customer.id, currency: 'USD' });
    const subscribe = async (quantity = 3) => {
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity });
      const [inv] = (await ledger.invoices.listByCustomer(scope, customer.id)).items.filter((i) => i.subscriptionId === sub.id);
      return inv!;
    };
    const entries = async () => (await ledger.wallets.ledger(scope, wallet.id, { limit: 100 })).items.map((x) => [x.type, x.amount, x.balanceAfter]);
    const balance = async () => (await ledger.wallets.balance(scope, wallet.id)).balance;
    return { ...e, plan, customer, wallet, subscribe, entries, balance, testClock };
  }

  it('grants are used by priority, then soonest expiry, then age; a grant for seats pays only the seats line: 80.00 paid from 90.00 of credits, 10.00 left', async () => {
    const { ledger, scope, wallet, subscribe, entries, balance } = await setup();
    await ledger.wallets.grant(scope, { walletId: wallet.id, amount: 3000, expiresAt: '2025-02-01T00:00:00Z', description: 'Welcome' });
    await ledger.wallets.grant(scope, { walletId: wallet.id, amount: 2000, priority: 10, description: 'Priority' });
    await ledger.wallets.grant(scope, { walletId: wallet.id, amount: 4000, featureKeys: ['seats'], description: 'Seats only' });
    expect(await balance()).toBe(9000);

    const inv = await subscribe();
    // Priority 10 first (20.00), then the one expiring (30.00), both on the base fee that
    // the seats-only grant could not pay; then 30.00 of the seats-only grant on seats.
    expect(inv).toMatchObject({ total: 8000, creditApplied: 0, walletApplied: 8000, amountDue: 0, status: 'paid' });
    expect(await balance()).toBe(1000);
    expect(await entries()).toEqual([
      ['use', -3000, 1000],
      ['use', -3000, 4000],
      ['use', -2000, 7000],
      ['grant', 4000, 9000],
      ['grant', 2000, 5000],
      ['grant', 3000, 3000],
    ]);
    const { grants } = await ledger.wallets.balance(scope, wallet.id);
    expect(grants.map((g) => [g.description, g.remaining])).toEqual([['Seats only', 1000]]);
  });

  it('the wallet pays part: 25.00 of credits on an 80.00 invoice leaves 55.00 charged', async () => {
    const { ledger, scope, wallet, subscribe, balance } = await setup();
    await ledger.wallets.grant(scope, { walletId: wallet.id, amount: 2500 });
    const inv = await subscribe();
    expect(inv).toMatchObject({ total: 8000, walletApplied: 2500, amountDue: 5500, status: 'open' });
    expect(await balance()).toBe(0);
  });

  it('a top-up of 25.00 is an untaxed invoice charged to the default card; its credits arrive once it is paid, once', async () => {
    const { ledger, scope, customer, wallet, entries, balance } = await setup();
    await ledger.payments.sandbox.attachCard(scope, customer.id, { number: VISA, expMonth: 12, expYear: 2030 });
    const inv = await ledger.wallets.topUp(scope, { walletId: wallet.id, amount: 2500, idempotencyKey: 'buy-1' });
    expect(inv).toMatchObject({ billingReason: 'wallet_top_up', total: 2500, tax: 0, status: 'open' });
    expect(inv.lines).toMatchObject([{ kind: 'credits', amount: 2500, quantity: '2500' }]);
    const paid = await ledger.invoices.get(scope, inv.id);
    expect(paid).toMatchObject({ status: 'paid', amountDue: 0 });
    expect(await balance()).toBe(2500);
    // The same key: the same invoice, no second charge; paying it again is refused.
    expect((await ledger.wallets.topUp(scope, { walletId: wallet.id, amount: 2500, idempotencyKey: 'buy-1' })).id).toBe(inv.id);
    await rejectsWith(ledger.invoices.markPaid(scope, inv.id), 'illegal_state');
    expect(await balance()).toBe(2500);
    expect(await entries()).toEqual([['top_up', 2500, 2500]]);
  });

  it('a credit note of 10.00 on a paid 25.00 top-up takes back 10.00 of its credits: 15.00 left', async () => {
    const { ledger, scope, customer, wallet, entries, balance } = await setup();
    await ledger.payments.sandbox.attachCard(scope, customer.id, { number: VISA, expMonth: 12, expYear: 2030 });
    const inv = await ledger.wallets.topUp(scope, { walletId: wallet.id, amount: 2500 });
    expect(await balance()).toBe(2500);
    await ledger.invoices.createCreditNote(scope, inv.id, { amount: 1000, reason: 'order_change' });
    expect(await balance()).toBe(1500);
    expect(await entries()).toEqual([
      ['reversal', -1000, 1500],
      ['top_up', 2500, 2500],
    ]);
  });

  it('a top-up of a customer with no card waits, sent, until it is paid: then 40.00 of credits', async () => {
    const { ledger, scope, customer, wallet, balance } = await setup();
    const inv = await ledger.wallets.topUp(scope, { walletId: wallet.id, amount: 4000 });
    expect(inv).toMatchObject({ status: 'open', collectionMethod: 'send_invoice', amountDue: 4000 });
    expect(await balance()).toBe(0);
    await ledger.payments.sandbox.attachCard(scope, customer.id, { number: VISA, expMonth: 12, expYear: 2030 });
    await ledger.collectPayment(scope, inv.id);
    expect(await balance()).toBe(4000);
    // Bought credits pay the next invoice, whose remaining 40.00 is charged.
    expect(await (await setupSubscribe(ledger, scope, customer.id))).toMatchObject({ walletApplied: 4000 });
  });

  it('automatic top-up to a target of 50.00 once an invoice leaves less than 10.00: 45.00 bought', async () => {
    const { ledger, scope, customer, wallet, subscribe, balance, entries } = await setup();
    await ledger.payments.sandbox.attachCard(scope, customer.id, { number: VISA, expMonth: 12, expYear: 2030 });
    await ledger.wallets.setAutoTopUp(scope, wallet.id, { threshold: 1000, mode: 'target', amount: 5000 });
    await ledger.wallets.grant(scope, { walletId: wallet.id, amount: 8500 });
    const inv = await subscribe();
    expect(inv).toMatchObject({ walletApplied: 8000, amountDue: 0, status: 'paid' });
    expect(await balance()).toBe(5000);
    expect((await entries()).slice(0, 2)).toEqual([
      ['top_up', 4500, 5000],
      ['use', -8000, 500],
    ]);
    const topUps = (await ledger.invoices.listByCustomer(scope, customer.id)).items.filter((i) => i.billingReason === 'wallet_top_up');
    expect(topUps.map((i) => [i.total, i.status])).toEqual([[4500, 'paid']]);
  });

  it('every movement is an event of the log and an audit entry, written with it: the wallet made, a grant, the settings changed, and the use an invoice made in its finalization', async () => {
    const { ledger, scope, wallet, subscribe } = await setup();
    await ledger.wallets.grant(scope, { walletId: wallet.id, amount: 9000, description: 'Launch credits' });
    await ledger.wallets.setAutoTopUp(scope, wallet.id, { threshold: 1000, mode: 'fixed', amount: 2000 });
    const inv = await subscribe(); // 80.00 of credits used
    const events = (await ledger.events.list(scope, { typePrefix: 'wallet' }, { limit: 20 })).items.reverse();
    expect(events.map((e) => [e.type, e.data.type ?? null, e.data.amount ?? null, e.data.balanceAfter ?? null])).toEqual([
      ['wallet.created', null, null, null],
      ['wallet_transaction.created', 'grant', 9000, 9000],
      ['wallet.updated', null, null, null],
      ['wallet_transaction.created', 'use', -8000, 1000],
    ]);
    expect(events[2]!.previous).toEqual({ autoTopUp: null });
    expect(events[3]!.data).toMatchObject({ walletId: wallet.id, invoiceId: inv.id });
    const audit = (await ledger.audit.list(scope, { entityType: 'wallet_transaction' }, { limit: 10 })).items;
    expect(audit.map((a) => [a.action, a.changes.amount?.after])).toEqual([
      ['wallet_transaction.created', -8000],
      ['wallet_transaction.created', 9000],
    ]);
  });

  it('two invoices leaving the balance low at once start one automatic top-up, not two', async () => {
    const { ledger, scope, customer, wallet, subscribe, balance } = await setup();
    await ledger.payments.sandbox.attachCard(scope, customer.id, { number: VISA, expMonth: 12, expYear: 2030 });
    await ledger.wallets.grant(scope, { walletId: wallet.id, amount: 8500 });
    const inv = await subscribe(); // 80.00 of credits used: 5.00 left
    expect(await balance()).toBe(500);
    await ledger.wallets.setAutoTopUp(scope, wallet.id, { threshold: 1000, mode: 'fixed', amount: 2000 });
    // As two finalizations would, at the same moment.
    const [a, b] = await Promise.all([
      ledger.wallets.autoTopUp(scope, { ...inv, id: 'inv_01h455vb4pex5vsknk084sn02q' as never }),
      ledger.wallets.autoTopUp(scope, { ...inv, id: 'inv_01h455vb4pex5vsknk084sn02r' as never }),
    ]);
    // Either both asked for the same next top-up (one invoice by its key), or one saw the
    // other's open and started none: one top-up either way.
    const made = [a, b].filter((x) => x !== null);
    expect(made.length).toBeGreaterThanOrEqual(1);
    expect(new Set(made.map((x) => x!.id)).size).toBe(1);
    const topUps = (await ledger.invoices.listByCustomer(scope, customer.id)).items.filter((i) => i.billingReason === 'wallet_top_up');
    expect(topUps.map((i) => [i.total, i.status])).toEqual([[2000, 'paid']]);
    expect(await balance()).toBe(2500);
  });

  it('the customer credit balance is used first, then the wallet: 40.00 of balance and 40.00 of credits on 80.00', async () => {
    const { ledger, scope, customer, wallet, subscribe, balance, clock, plan } = await setup();
    // A month of Pro (80.00) canceled halfway with proration: 40.00 back as balance.
    const first = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: 3 });
    clock.set('2025-01-16T12:00:00Z');
    await ledger.subscriptions.cancel(scope, first.id, { at: 'now', prorate: true });
    const credit = await ledger.invoices.creditBalance(scope, customer.id, 'USD');
    expect(credit).toBe(4000);
    await ledger.wallets.grant(scope, { walletId: wallet.id, amount: 10000 });
    const inv = await subscribe();
    expect(inv).toMatchObject({ total: 8000, creditApplied: 4000, walletApplied: 4000, amountDue: 0, status: 'paid' });
    expect(await balance()).toBe(6000);
  });

  it('a recurring grant of 100.00 a month, each expiring at the month end, through a test clock to March 15', async () => {
    const { ledger, scope, wallet, entries, balance, testClock } = await setup({ clock: true });
    await ledger.wallets.addRecurringGrant(scope, { walletId: wallet.id, amount: 10000, description: 'Monthly credits' });
    expect(await balance()).toBe(10000);
    await ledger.billing.advanceClock(scope, { id: testClock!.id, to: new Date('2025-03-15T00:00:00Z') });
    expect(await balance()).toBe(10000);
    const page = await ledger.wallets.ledger(scope, wallet.id, { limit: 100 });
    expect(page.items.map((x) => [x.type, x.amount, x.balanceAfter, x.createdAt.toISOString()])).toEqual([
      ['grant', 10000, 10000, '2025-03-01T00:00:00.000Z'],
      ['expiry', -10000, 0, '2025-03-01T00:00:00.000Z'],
      ['grant', 10000, 10000, '2025-02-01T00:00:00.000Z'],
      ['expiry', -10000, 0, '2025-02-01T00:00:00.000Z'],
      ['grant', 10000, 10000, '2025-01-01T00:00:00.000Z'],
    ]);
    expect((await ledger.wallets.get(scope, wallet.id)).nextDueAt).toEqual(new Date('2025-04-01T00:00:00Z'));
    void entries;
  });

  it('a promotional grant expiring on Feb 1 leaves the balance at its expiry, before the cycle sweeps it', async () => {
    const { ledger, scope, wallet, balance, clock, entries } = await setup();
    await ledger.wallets.grant(scope, { walletId: wallet.id, amount: 3000, expiresAt: '2025-02-01T00:00:00Z' });
    clock.set('2025-02-01T00:00:00Z');
    expect(await balance()).toBe(0);
    await ledger.runBillingCycle(scope);
    expect(await entries()).toEqual([
      ['expiry', -3000, 0],
      ['grant', 3000, 3000],
    ]);
  });

  it('the scheduler finds a scope whose only work is a wallet\'s expiry (live scopes run the cycle when something is due)', async () => {
    const { ledger, scope, wallet, clock } = await setup();
    await ledger.wallets.grant(scope, { walletId: wallet.id, amount: 3000, expiresAt: '2025-02-01T00:00:00Z' });
    const due = async (at: string) => (await ledger.store.billing.dueWork(new Date(at), 10_000)).filter((w) => w.scope.tenantId === scope.tenantId);
    expect(await due('2025-01-31T23:59:59Z')).toEqual([]);
    expect(await due('2025-02-01T00:00:00Z')).toEqual([{ scope, testClockId: null }]);
    clock.set('2025-02-01T00:00:00Z');
    await ledger.runBillingCycle(scope);
    expect(await due('2025-02-01T00:00:00Z')).toEqual([]);
  });

  it('two invoices of 50.00 finalizing at once share 60.00 of credits: 60.00 used in all, never more', async () => {
    const { ledger, scope, customer, wallet, balance } = await setup();
    await ledger.wallets.grant(scope, { walletId: wallet.id, amount: 6000 });
    const drafts = await Promise.all([draft(ledger, scope, customer.id, 5000), draft(ledger, scope, customer.id, 5000)]);
    const done = await Promise.all(drafts.map((d) => ledger.invoices.finalize(scope, d.id)));
    expect(done.map((i) => i.walletApplied).sort()).toEqual([1000, 5000]);
    expect(done.map((i) => i.amountDue).sort()).toEqual([0, 4000]);
    expect(await balance()).toBe(0);
  });

  it('bad input: a clear error and nothing changed', async () => {
    const { ledger, scope, wallet, customer, entries } = await setup();
    await rejectsWith(ledger.wallets.grant(scope, { walletId: wallet.id, amount: -5 }), 'invalid');
    await rejectsWith(ledger.wallets.grant(scope, { walletId: wallet.id, amount: 2.5 }), 'invalid');
    await rejectsWith(ledger.wallets.grant(scope, { walletId: wallet.id, amount: 100, expiresAt: '2024-12-31T00:00:00Z' }), 'invalid');
    await rejectsWith(ledger.wallets.grant(scope, { walletId: wallet.id, amount: 100, featureKeys: ['Not A Key'] }), 'invalid');
    // A key no plan has (a typo of seats): credits nothing could use.
    await rejectsWith(ledger.wallets.grant(scope, { walletId: wallet.id, amount: 100, featureKeys: ['sets'] }), 'invalid');
    await rejectsWith(ledger.wallets.grant(scope, { walletId: newId('wallet'), amount: 100 }), 'not_found');
    await rejectsWith(ledger.wallets.topUp(scope, { walletId: wallet.id, amount: 0 }), 'invalid');
    await rejectsWith(ledger.wallets.setAutoTopUp(scope, wallet.id, { threshold: 5000, mode: 'target', amount: 1000 }), 'invalid');
    await rejectsWith(ledger.wallets.create(scope, { customerId: customer.id, currency: 'XYZ' }), 'invalid');
    // A recurring grant starting a year ago would grant twelve months at once.
    await rejectsWith(ledger.wallets.addRecurringGrant(scope, { walletId: wallet.id, amount: 10000, startsAt: '2024-01-01T00:00:00Z' }), 'invalid');
    expect((await ledger.wallets.get(scope, wallet.id)).recurringGrants).toEqual([]);
    expect(await entries()).toEqual([]);
    // One wallet per customer and currency.
    expect(await ledger.wallets.create(scope, { customerId: customer.id, currency: 'usd' })).toMatchObject({ created: false, wallet: { id: wallet.id } });
  });
});

type Engine = Awaited<ReturnType<typeof testEngine>>['ledger'];

async function setupSubscribe(ledger: Engine, scope: Awaited<ReturnType<typeof testEngine>>['scope'], customerId: string): Promise<Invoice> {
  const [plan] = (await ledger.plans.list(scope)).items;
  const sub = await ledger.subscriptions.create(scope, { customerId, planId: plan!.id, quantity: 3 });
  return (await ledger.invoices.listByCustomer(scope, customerId)).items.find((i) => i.subscriptionId === sub.id)!;
}

/** A draft of one 50.00 fee, as a change would leave it, for finalizations racing. */
async function draft(ledger: Engine, scope: Awaited<ReturnType<typeof testEngine>>['scope'], customerId: string, amount: number): Promise<Invoice> {
  const now = ledger.now(scope, customerId);
  const line: InvoiceLine = { id: 'proration:1', kind: 'proration', description: 'Fee', featureKey: null, quantity: '1', unitPrice: null, amount, discount: 0, tax: 0, periodStart: now, periodEnd: now };
  const inv: Invoice = {
    id: newId('invoice'), number: null, status: 'draft', subscriptionId: newId('subscription') as SubscriptionId, customerId: customerId as Invoice['customerId'],
    currency: 'USD' as Invoice['currency'], billingReason: 'subscription_update', key: 'race', issueAt: now, periodStart: now, periodEnd: now,
    lines: [line], subtotal: amount, discount: 0, tax: 0, total: amount, creditApplied: 0, credited: 0, amountDue: amount, taxInclusive: false,
    taxRate: null, taxNote: null, couponId: null, basis: { advance: null, usage: null, prorations: [line], couponId: null }, customer: null,
    finalizeAt: now, finalizedAt: null, paidAt: null, voidedAt: null, voidReason: null, markedUncollectibleAt: null, collectionMethod: 'charge_automatically',
    dueAt: null, pastDueAt: null, attemptCount: 0, nextPaymentAttemptAt: null, creditRefunded: 0, createdAt: now, updatedAt: now,
  };
  return (await ledger.store.invoices.insertOnce(scope, inv)).invoice;
}
