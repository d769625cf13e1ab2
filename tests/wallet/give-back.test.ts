import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsForNote, heldByGrant, lastUsedFirst } from '../../server/ledger/wallet/give-back';
import type { WalletEntry, WalletGrantId } from '../../server/ledger/wallet/types';
import { newId, type InvoiceId } from '../../server/ledger/types';
import { rejectsWith, testEngine } from '../support/engine';
import { storeFactories, useStore } from '../support/stores';

/**
 * Credits given back when an invoice they paid is undone, with concrete numbers. 1 credit
 * = 1 cent. Plan "Pro": 50.00 a month in advance plus seats at 10.00 (3 seats: 30.00), so
 * subscribing issues an invoice of 80.00: base fee 50.00, seats 30.00.
 *
 * The wallet in most tests: "Welcome" 30.00 for any line expiring Mar 1 and "Seats only"
 * 20.00. The 80.00 invoice takes 30.00 of "Welcome" (on the base fee: the seats-only
 * grant cannot pay it) then 20.00 of "Seats only" (on seats): 50.00 of credits, 30.00
 * due, open (the customer has no card).
 */
const JAN_1 = '2025-01-01T00:00:00.000Z';
const VISA = '4242 4242 4242 4242';

describe('the rules, pure (wallet/give-back.ts)', () => {
  const g1 = newId('walletGrant');
  const g2 = newId('walletGrant');
  const inv = newId('invoice') as InvoiceId;
  const entry = (type: WalletEntry['type'], amount: number, grantId: WalletGrantId | null): WalletEntry => ({
    id: newId('walletEntry'),
    walletId: newId('wallet'),
    type,
    amount,
    balanceAfter: 0,
    grantId,
    invoiceId: inv,
    description: '',
    createdAt: new Date(JAN_1),
  });

  it('what an invoice holds is its uses less what came back, grant by grant, in the order used: 30.00 + 20.00 used, 5.00 back → 30.00 and 15.00', () => {
    const held = heldByGrant([entry('use', -3000, g1), entry('use', -2000, g2), entry('restore', 500, g2)]);
    expect(held).toEqual([
      { grantId: g1, amount: 3000 },
      { grantId: g2, amount: 1500 },
    ]);
    expect(heldByGrant([entry('use', -3000, g1), entry('restore', 3000, g1)])).toEqual([]);
  });

  it('the last used grant gives back first: 20.00 of 30.00 + 15.00 is 15.00 of the second and 5.00 of the first', () => {
    expect(
      lastUsedFirst(
        [
          { grantId: g1, amount: 3000 },
          { grantId: g2, amount: 1500 },
        ],
        2000,
      ),
    ).toEqual([
      { grantId: g2, amount: 1500 },
      { grantId: g1, amount: 500 },
    ]);
  });

  it('a credit note on an open invoice lowers what is owed first: 80.00, 50.00 of credits, 30.00 due', () => {
    const open = { status: 'open' as const, total: 8000, creditApplied: 0 };
    // 10.00: 20.00 still due, no credits back (70.00 left to credit ≥ 50.00 held).
    expect(creditsForNote({ ...open, credited: 1000 }, 1000, 5000, false)).toBe(0);
    // 30.00 exactly: nothing due, nothing back.
    expect(creditsForNote({ ...open, credited: 3000 }, 3000, 5000, false)).toBe(0);
    // 35.00: 30.00 owed, then 5.00 of credits.
    expect(creditsForNote({ ...open, credited: 3500 }, 3500, 5000, false)).toBe(500);
    // The whole 80.00: every credit back.
    expect(creditsForNote({ ...open, credited: 8000 }, 8000, 5000, false)).toBe(5000);
    // A customer credit balance of 10.00 applied counts as neither: 60.00 due, 10.00 of credits.
    expect(creditsForNote({ status: 'uncollectible', total: 8000, creditApplied: 1000, credited: 6500 }, 6500, 1000, false)).toBe(500);
  });

  it('a credit note on a paid invoice gives credits back first; a refund gives none', () => {
    const paid = { status: 'paid' as const, total: 8000, creditApplied: 0, credited: 2000 };
    expect(creditsForNote(paid, 2000, 5000, false)).toBe(2000);
    expect(creditsForNote(paid, 2000, 1500, false)).toBe(1500);
    expect(creditsForNote(paid, 2000, 5000, true)).toBe(0);
    expect(creditsForNote(paid, 2000, 0, false)).toBe(0);
  });
});

describe.each(storeFactories())('credits given back on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function setup(opts: { grants?: 'welcome+seats' | 'plenty' | 'none' } = {}) {
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
    const customer = await ledger.customers.create(scope, { email: 'ada@example.com', name: 'Ada' });
    const { wallet } = await ledger.wallets.create(scope, { customerId: customer.id, currency: 'USD' });
    if ((opts.grants ?? 'welcome+seats') === 'welcome+seats') {
      await ledger.wallets.grant(scope, { walletId: wallet.id, amount: 3000, expiresAt: '2025-03-01T00:00:00Z', description: 'Welcome' });
      await ledger.wallets.grant(scope, { walletId: wallet.id, amount: 2000, featureKeys: ['seats'], description: 'Seats only' });
    } else if (opts.grants === 'plenty') {
      await ledger.wallets.grant(scope, { walletId: wallet.id, amount: 10000, description: 'Plenty' });
    }
    const subscribe = async () => {
      const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, quantity: 3 });
      return (await ledger.invoices.listByCustomer(scope, customer.id)).items.find((i) => i.subscriptionId === sub.id)!;
    };
    const entries = async () => (await ledger.wallets.ledger(scope, wallet.id, { limit: 100 })).items.map((x) => [x.type, x.amount, x.balanceAfter]);
    const balance = async () => (await ledger.wallets.balance(scope, wallet.id)).balance;
    const grants = async () =>
      (await ledger.wallets.balance(scope, wallet.id)).grants.map((g) => [g.description, g.remaining, g.expiresAt?.toISOString() ?? null, g.featureKeys]);
    return { ...e, customer, wallet, subscribe, entries, balance, grants };
  }

  it('voiding an invoice gives its 50.00 of credits back to the grants they came from, with their expiry and features', async () => {
    const { ledger, scope, wallet, subscribe, entries, balance, grants } = await setup();
    const inv = await subscribe();
    expect(inv).toMatchObject({ total: 8000, walletApplied: 5000, amountDue: 3000, status: 'open' });
    expect(await balance()).toBe(0);

    const voided = await ledger.invoices.void(scope, inv.id, { reason: 'wrong seats' });
    expect(voided).toMatchObject({ status: 'void', amountDue: 0, walletApplied: 5000 });
    expect(await balance()).toBe(5000);
    // The last used first: "Seats only" 20.00, then "Welcome" 30.00.
    expect(await entries()).toEqual([
      ['restore', 3000, 5000],
      ['restore', 2000, 2000],
      ['use', -2000, 0],
      ['use', -3000, 2000],
      ['grant', 2000, 5000],
      ['grant', 3000, 3000],
    ]);
    const page = await ledger.wallets.ledger(scope, wallet.id, { limit: 2 });
    expect(page.items.map((x) => [x.invoiceId, x.description])).toEqual([
      [inv.id, `Invoice ${inv.number} voided`],
      [inv.id, `Invoice ${inv.number} voided`],
    ]);
    expect(await grants()).toEqual([
      ['Welcome', 3000, '2025-03-01T00:00:00.000Z', null],
      ['Seats only', 2000, null, ['seats']],
    ]);
  });

  it('voiding twice gives back once: the second void is illegal_state and the wallet stays at 50.00', async () => {
    const { ledger, scope, subscribe, entries, balance } = await setup();
    const inv = await subscribe();
    await ledger.invoices.void(scope, inv.id);
    await rejectsWith(ledger.invoices.void(scope, inv.id), 'illegal_state');
    expect(await balance()).toBe(5000);
    expect((await entries()).filter(([type]) => type === 'restore')).toHaveLength(2);
  });

  it('two voids at once give back once: one voids, the other is illegal_state; 50.00 back, not 100.00', async () => {
    const { ledger, scope, subscribe, entries, balance } = await setup();
    const inv = await subscribe();
    const results = await Promise.allSettled([ledger.invoices.void(scope, inv.id), ledger.invoices.void(scope, inv.id)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect((failed.reason as { code?: string }).code).toBe('illegal_state');
    expect(await balance()).toBe(5000);
    expect((await entries()).slice(0, 2)).toEqual([
      ['restore', 3000, 5000],
      ['restore', 2000, 2000],
    ]);
    expect(await entries()).toHaveLength(6);
  });

  it('credits whose grant expired before the void come back and expire at once: Welcome ended Mar 1, a void on Mar 5 gives back only the 20.00 for seats', async () => {
    const { ledger, scope, clock, subscribe, entries, balance, grants } = await setup();
    const inv = await subscribe();
    clock.set('2025-03-05T00:00:00Z');
    await ledger.invoices.void(scope, inv.id);
    expect(await balance()).toBe(2000);
    expect((await entries()).slice(0, 3)).toEqual([
      ['expiry', -3000, 2000],
      ['restore', 3000, 5000],
      ['restore', 2000, 2000],
    ]);
    expect(await grants()).toEqual([['Seats only', 2000, null, ['seats']]]);
  });

  it('credit notes on the open invoice: 10.00 and 30.00 lower the 30.00 due first, then 10.00 of credits come back; on the paid invoice then, 40.00 of credits', async () => {
    const { ledger, scope, subscribe, balance, grants } = await setup();
    const inv = await subscribe();

    const first = await ledger.invoices.createCreditNote(scope, inv.id, { amount: 1000, reason: 'order_change' });
    expect(first.invoice).toMatchObject({ status: 'open', credited: 1000, amountDue: 2000 });
    expect(await balance()).toBe(0);

    // 20.00 still owed, then 10.00 of credits: the last used ("Seats only") first. Nothing due: paid.
    const second = await ledger.invoices.createCreditNote(scope, inv.id, { amount: 3000, reason: 'order_change' });
    expect(second.invoice).toMatchObject({ status: 'paid', credited: 4000, amountDue: 0 });
    expect(await balance()).toBe(1000);
    expect(await grants()).toEqual([['Seats only', 1000, null, ['seats']]]);

    // Paid: credits first. The 40.00 left to credit are the 40.00 of credits it holds.
    const third = await ledger.invoices.createCreditNote(scope, inv.id, { amount: 4000, reason: 'order_change' });
    expect(third.invoice).toMatchObject({ status: 'paid', credited: 8000, amountDue: 0 });
    expect(await balance()).toBe(5000);
    expect(await grants()).toEqual([
      ['Welcome', 3000, '2025-03-01T00:00:00.000Z', null],
      ['Seats only', 2000, null, ['seats']],
    ]);
    // Nothing left to credit.
    await rejectsWith(ledger.invoices.createCreditNote(scope, inv.id, { amount: 1, reason: 'order_change' }), 'invalid');
    expect(await balance()).toBe(5000);
  });

  it('an invoice paid wholly by 80.00 of credits: a credit note of 25.00 gives 25.00 back (20.00 left → 45.00)', async () => {
    const { ledger, scope, subscribe, balance, entries } = await setup({ grants: 'plenty' });
    const inv = await subscribe();
    expect(inv).toMatchObject({ walletApplied: 8000, amountDue: 0, status: 'paid' });
    expect(await balance()).toBe(2000);
    await ledger.invoices.createCreditNote(scope, inv.id, { amount: 2500, reason: 'product_unsatisfactory' });
    expect(await balance()).toBe(4500);
    expect((await entries())[0]).toEqual(['restore', 2500, 4500]);
    // Paid invoices are not voided: their money is given back by credit notes.
    await rejectsWith(ledger.invoices.void(scope, inv.id), 'illegal_state');
  });

  it('a refund gives money back, not credits: 50.00 of credits and 30.00 by card; a 30.00 refund leaves the wallet at 0, then a 50.00 note gives the credits back', async () => {
    const { ledger, scope, customer, subscribe, balance } = await setup();
    await ledger.payments.sandbox.attachCard(scope, customer.id, { number: VISA, expMonth: 12, expYear: 2030 });
    const inv = await subscribe();
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ status: 'paid', walletApplied: 5000 });
    const refunded = await ledger.refunds.creditNote(scope, inv.id, { amount: 3000, reason: 'billing_error', refund: true });
    expect(refunded.refund).toMatchObject({ amount: 3000 });
    expect(await balance()).toBe(0);
    // 50.00 left to credit: all of it credits.
    await ledger.invoices.createCreditNote(scope, inv.id, { amount: 5000, reason: 'billing_error' });
    expect(await balance()).toBe(5000);
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ credited: 8000 });
  });

  it('a credit note on a top-up pays back only its credits still unused: 25.00 bought and used, a 10.00 note is refused (nothing changes); voided, the invoice gives the 25.00 back, and then a 10.00 note takes 10.00 of them: 15.00', async () => {
    const { ledger, scope, wallet, subscribe, balance, entries } = await setup({ grants: 'none' });
    const topUp = await ledger.wallets.topUp(scope, { walletId: wallet.id, amount: 2500 });
    await ledger.invoices.markPaid(scope, topUp.id); // paid out of band: 25.00 of credits
    const inv = await subscribe();
    expect(inv).toMatchObject({ walletApplied: 2500, amountDue: 5500, status: 'open' });
    // The credits were used: paying any of the top-up back would give service for free.
    await rejectsWith(ledger.invoices.createCreditNote(scope, topUp.id, { amount: 1000, reason: 'order_change' }), 'invalid');
    expect(await ledger.invoices.get(scope, topUp.id)).toMatchObject({ credited: 0 });
    expect(await balance()).toBe(0);
    await ledger.invoices.void(scope, inv.id);
    expect(await balance()).toBe(2500);
    await ledger.invoices.createCreditNote(scope, topUp.id, { amount: 1000, reason: 'order_change' });
    expect(await balance()).toBe(1500);
    expect((await entries()).slice(0, 2)).toEqual([
      ['reversal', -1000, 1500],
      ['restore', 2500, 2500],
    ]);
  });

  it('bad input changes nothing: a credit note above what is left to credit (80.00) is invalid and gives nothing back', async () => {
    const { ledger, scope, subscribe, balance } = await setup();
    const inv = await subscribe();
    await rejectsWith(ledger.invoices.createCreditNote(scope, inv.id, { amount: 8001, reason: 'order_change' }), 'invalid');
    await rejectsWith(ledger.invoices.void(scope, inv.id, { reason: 'x'.repeat(501) }), 'invalid');
    expect(await balance()).toBe(0);
    expect(await ledger.invoices.get(scope, inv.id)).toMatchObject({ status: 'open', credited: 0, amountDue: 3000 });
  });
});
