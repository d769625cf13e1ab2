import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger, type CustomerId, type Ledger, type Scope } from '@/server/ledger';
import type { PortalRole } from '@/server/portal/session';
import { createCaller } from '@/server/trpc/root';
import { storeFactories, uniqueScope, useStore } from '../support/stores';
import { codeOf, portalContext } from '../support/trpc';

/**
 * The /portal/billing procedures (`accountBilling.*`) through createCaller with a portal
 * session context, on every store: billing details (an edit reaches the next invoice, a
 * finalized one keeps its snapshot; bad input changes nothing) and saved cards (default,
 * remove, add through the sandbox's hosted set-up); members read only; another
 * customer's card is NOT_FOUND.
 */
const T0 = new Date('2026-03-10T12:00:00.000Z');

describe.each(storeFactories())('portal billing on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let ledger: Ledger;
  let clock: ManualClock;
  let s: Scope;

  const portal = (customerId: CustomerId, role: PortalRole) => portalContext(s, customerId, role);
  const as = (customerId: CustomerId, role: PortalRole = 'owner') => createCaller({ ledger, auth: { kind: 'portal', scope: s, portal: portal(customerId, role) } }).accountBilling;
  const customer = async (name: string, extra: Record<string, unknown> = {}) =>
    (await ledger.customers.create(s, { email: `${name}@example.com`, name, collectionMethod: 'send_invoice', ...extra })).id;
  const card = (c: CustomerId, number = '4242 4242 4242 4242', expYear = 2030, expMonth = 12) => ledger.payments.sandbox.attachCard(s, c, { number, expMonth, expYear });

  beforeAll(async () => {
    clock = new ManualClock(T0);
    ledger = await createLedger({ store: store(), clock, logger: silentLogger });
    s = uniqueScope();
    await ledger.scopes.register(s, 'test');
    for (const [key, basePrice] of [
      ['basic', 1000],
      ['extra', 2000],
    ] as const) {
      await ledger.plans.create(s, { key, name: key, currency: 'USD', interval: { unit: 'month' }, basePrice });
    }
  });

  it('reads the details; an edit (tax id included) reaches the next invoice while a finalized one keeps its snapshot', async () => {
    const c = await customer('Acme', { country: 'DE', taxId: 'DE111111111', address: { line1: 'Alte Str. 1', city: 'Berlin' } });
    const basic = await ledger.plans.getByKey(s, 'basic');
    await ledger.subscriptions.create(s, { customerId: c, planId: basic.id });
    const [first] = (await ledger.invoices.listByCustomer(s, c)).items;
    expect(first).toMatchObject({ status: 'open', total: 1000 });
    expect(first!.customer?.taxId).toBe('DE111111111');

    expect(await as(c, 'member').details()).toMatchObject({ name: 'Acme', country: 'DE', taxId: 'DE111111111', taxStatus: 'taxable', canManageBilling: false });

    const saved = await as(c, 'billing').updateDetails({
      name: 'Acme GmbH',
      email: 'ap@acme.example',
      address: { line1: 'Neue Str. 2', line2: null, city: 'Munich', postalCode: '80331', state: null },
      country: 'DE',
      region: 'BY',
      taxId: ' DE999999999 ',
    });
    expect(saved).toMatchObject({ name: 'Acme GmbH', email: 'ap@acme.example', taxId: 'DE999999999', region: 'BY', address: { city: 'Munich', postalCode: '80331' } });
    expect((await ledger.customers.get(s, c)).taxId).toBe('DE999999999');

    // The finalized invoice keeps what it was issued with.
    const again = await ledger.invoices.get(s, first!.id);
    expect(again.customer).toMatchObject({ name: 'Acme', taxId: 'DE111111111', address: { city: 'Berlin' } });

    // The next invoice (a new subscription's, the first one ended) bills the new details.
    await ledger.subscriptions.cancel(s, (await ledger.subscriptions.listByCustomer(s, c)).items[0]!.id, { at: 'now', prorate: false });
    const extra = await ledger.plans.getByKey(s, 'extra');
    await ledger.subscriptions.create(s, { customerId: c, planId: extra.id });
    const next = (await ledger.invoices.listByCustomer(s, c)).items.find((i) => i.total === 2000)!;
    expect(next.total).toBe(2000);
    expect(next.customer).toMatchObject({ name: 'Acme GmbH', taxId: 'DE999999999', address: { city: 'Munich' } });
  });

  it('refuses bad input (an unknown country, text too long, a stray field) with BAD_REQUEST and changes nothing', async () => {
    const c = await customer('Careful', { country: 'FR', taxId: 'FR12345678901' });
    const before = await ledger.customers.get(s, c);
    expect(await codeOf(as(c).updateDetails({ country: 'XX', taxId: 'FR0' }))).toBe('BAD_REQUEST');
    expect(await codeOf(as(c).updateDetails({ taxId: 'x'.repeat(51) }))).toBe('BAD_REQUEST');
    expect(await codeOf(as(c).updateDetails({ name: 'y'.repeat(201) }))).toBe('BAD_REQUEST');
    expect(await codeOf(as(c).updateDetails({ email: 'not-an-email' }))).toBe('BAD_REQUEST');
    // Tax status is the merchant's to set, not the customer's.
    expect(await codeOf(as(c).updateDetails({ taxStatus: 'exempt' } as never))).toBe('BAD_REQUEST');
    const after = await ledger.customers.get(s, c);
    expect([after.country, after.taxId, after.name, after.email, after.taxStatus]).toEqual([before.country, before.taxId, before.name, before.email, 'taxable']);
  });

  it('lists cards with the default and an expired flag; makes another the default; removes one', async () => {
    const c = await customer('Cards');
    const a = await card(c);
    const b = await card(c, '5555 5555 5555 4444', 2026, 3); // good through March 2026
    expect((await as(c).methods()).methods.map((m) => m.expired)).toEqual([false, false]);
    clock.set('2026-04-01T00:00:00.000Z');
    const listed = await as(c, 'member').methods();
    expect(listed.canManageBilling).toBe(false);
    // The sandbox makes the card just added the default.
    expect(listed.methods.map((m) => [m.id, m.last4, m.isDefault, m.expired])).toEqual([
      [a.id, '4242', false, false],
      [b.id, '4444', true, true],
    ]);

    expect(await as(c, 'billing').setDefault({ id: a.id })).toMatchObject({ id: a.id, isDefault: true });
    expect((await as(c).methods()).methods.map((m) => [m.last4, m.isDefault])).toEqual([
      ['4242', true],
      ['4444', false],
    ]);

    expect(await as(c).remove({ id: b.id })).toEqual({ id: b.id, removed: true });
    expect((await ledger.paymentMethods.list(s, c)).map((m) => [m.id, m.isDefault])).toEqual([[a.id, true]]);
    // Gone: a second removal is NOT_FOUND.
    expect(await codeOf(as(c).remove({ id: b.id }))).toBe('NOT_FOUND');
  });

  it("adds a card through the sandbox's hosted set-up, coming back to /portal/billing", async () => {
    const c = await customer('Adder');
    const { url } = await as(c, 'billing').addCard({ origin: 'https://billing.example.com/anything?x=1' });
    expect(url).toMatch(/\/sandbox\/setup\/\S+/);
    expect(await codeOf(as(c).addCard())).toBe('BAD_REQUEST'); // no public URL known here: the caller must say where to come back to
  });

  it('a member may read but not change; another customer\'s card is NOT_FOUND and stays', async () => {
    const mine = await customer('Mine');
    const theirs = await customer('Theirs', { taxId: 'GB123' });
    const m = await card(mine);
    const t = await card(theirs);
    expect(await codeOf(as(mine, 'member').updateDetails({ taxId: 'NEW' }))).toBe('FORBIDDEN');
    expect(await codeOf(as(mine, 'member').setDefault({ id: m.id }))).toBe('FORBIDDEN');
    expect(await codeOf(as(mine, 'member').remove({ id: m.id }))).toBe('FORBIDDEN');
    expect(await codeOf(as(mine, 'member').addCard({ origin: 'https://x.example' }))).toBe('FORBIDDEN');
    expect((await ledger.customers.get(s, mine)).taxId).toBeNull();
    expect(await ledger.paymentMethods.list(s, mine)).toHaveLength(1);

    expect(await codeOf(as(mine).setDefault({ id: t.id }))).toBe('NOT_FOUND');
    expect(await codeOf(as(mine).remove({ id: t.id }))).toBe('NOT_FOUND');
    expect((await ledger.paymentMethods.list(s, theirs)).map((x) => [x.id, x.isDefault])).toEqual([[t.id, true]]);
    expect((await as(theirs).details()).taxId).toBe('GB123');
  });
});
