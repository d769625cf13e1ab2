import { TRPCError } from '@trpc/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLedger, scope, silentLogger, type Ledger, type Scope, type TestClockId } from '@/server/ledger';
import { createCaller } from '@/server/trpc/root';

/**
 * Invoicing through the tRPC procedures (createCaller: the real routers and engine, no
 * HTTP): invoices, the upcoming invoice, credit notes, plan and seat changes, trials,
 * coupons, test clocks and the billing cycle.
 *
 * The plans: "team" is 20.00 USD a month plus 5.00 a seat, and API calls at 0.01 each;
 * "business" is the same at 50.00 a month, "starter" at 9.00. Three seats on team:
 * 20.00 + 15.00 = 35.00 in advance.
 */
let ledger: Ledger;
const api = (s: Scope) => createCaller({ ledger, auth: { kind: 'api_key', scope: s, keyId: 'key_test' } });

let scopes = 0;
/** A scope of its own per test: invoice and credit note numbers start at 1 in each. */
const fresh = () => scope(`inv-${++scopes}`, 'app');

/** 2025-01-15 10:00 UTC, where test clocks start; the first period ends 2025-02-15 10:00 (31 days). */
const T0 = new Date('2025-01-15T10:00:00.000Z');
const PERIOD_END = new Date('2025-02-15T10:00:00.000Z');
/** 16 of the 31 days gone: 15/31 of the period left. */
const MID = new Date('2025-01-31T10:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const UNKNOWN_INVOICE = 'inv_01h455vb4pex5vsknk084sn02q';

const features = [
  { key: 'seats', name: 'Seats', kind: 'licensed' as const, limit: 10, price: { model: 'per_unit' as const, unitPrice: '5' } },
  { key: 'api_calls', name: 'API calls', kind: 'metered' as const, aggregation: 'sum' as const, price: { model: 'per_unit' as const, unitPrice: '0.01' } },
];
const planInput = (key: string, name: string, basePrice: number) => ({
  key,
  name,
  currency: 'USD',
  interval: { unit: 'month' as const },
  basePrice,
  trialDays: 0,
  features,
});

/** Each scope's test clock, by tenant. */
const clocks = new Map<string, string>();
const clockOf = (s: Scope) => clocks.get(s.tenantId)! as TestClockId;

/**
 * Plans and a customer in `s`; with `clock`, the scope is a test scope, gets a test clock
 * at T0 and the customer is created on it.
 */
async function setup(s: Scope, opts: { clock?: boolean } = {}) {
  let testClockId: string | null = null;
  if (opts.clock) {
    await ledger.scopes.register(s, 'test');
    const clock = await api(s).testClocks.create({ at: T0 });
    expect(clock).toMatchObject({ id: expect.stringMatching(/^clk_/), now: T0 });
    clocks.set(s.tenantId, (testClockId = clock.id));
  }
  const team = await api(s).plans.create(planInput('team', 'Team', 2000));
  const business = await api(s).plans.create(planInput('business', 'Business', 5000));
  const starter = await api(s).plans.create(planInput('starter', 'Starter', 900));
  const customer = await api(s).customers.create({ email: `${s.tenantId}@example.com`, name: 'Ada', testClockId });
  return { team, business, starter, customer };
}

async function errorOf(p: Promise<unknown>): Promise<TRPCError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TRPCError);
  return e as TRPCError;
}
const codeOf = async (p: Promise<unknown>) => (await errorOf(p)).code;

const sum = (xs: { amount: number }[]) => xs.reduce((a, x) => a + x.amount, 0);
const shape = (lines: { kind: string; quantity: string; amount: number }[]) => lines.map((l) => [l.kind, l.quantity, l.amount]);

beforeAll(async () => {
  ledger = await createLedger({ logger: silentLogger });
});

describe('invoices', () => {
  it('subscribing invoices the first period in advance: open, numbered INV-000001, base fee + seats', async () => {
    const s = fresh();
    const { team, customer } = await setup(s);
    const sub = await api(s).subscriptions.create({ customerId: customer.id, planId: team.id, quantity: 3 });
    expect(sub.status).toBe('active');

    const { items, nextCursor } = await api(s).invoices.listByCustomer({ customerId: customer.id });
    expect(items).toHaveLength(1);
    expect(nextCursor).toBeNull();
    const inv = await api(s).invoices.get({ id: items[0]!.id });
    expect(inv).toMatchObject({
      status: 'open',
      number: 'INV-000001',
      billingReason: 'subscription_create',
      subscriptionId: sub.id,
      customerId: customer.id,
      currency: 'USD',
      subtotal: 3500,
      discount: 0,
      tax: 0,
      total: 3500,
      amountDue: 3500,
    });
    expect(shape(inv.lines)).toEqual([
      ['base_fee', '1', 2000],
      ['license', '3', 1500],
    ]);
    expect(inv.lines.every((l) => l.periodStart.getTime() === sub.currentPeriodStart.getTime() && l.periodEnd.getTime() === sub.currentPeriodEnd.getTime())).toBe(true);
    expect(inv.customer).toMatchObject({ email: customer.email, name: 'Ada' });
    expect(inv.finalizedAt).toBeInstanceOf(Date);
    // An open invoice is final: finalizing it again is refused.
    expect(await codeOf(api(s).invoices.finalize({ id: inv.id }))).toBe('PRECONDITION_FAILED');
  });

  it('previews the upcoming invoice with the usage so far, and the cycle then bills exactly that', async () => {
    const s = fresh();
    const { team, customer } = await setup(s, { clock: true });
    const sub = await api(s).subscriptions.create({ customerId: customer.id, planId: team.id, quantity: 3 });
    expect(sub.currentPeriodStart).toEqual(T0);
    expect(sub.currentPeriodEnd).toEqual(PERIOD_END);

    // A day later (nothing is due yet), 100 calls made at 12:00 on the first day.
    expect(await api(s).billing.run({})).toEqual({ periods: 0, invoicesCreated: 0, invoicesFinalized: 0 });
    expect((await api(s).testClocks.advance({ id: clockOf(s), to: new Date(T0.getTime() + DAY) })).report).toEqual({ periods: 0, invoicesCreated: 0, invoicesFinalized: 0 });
    const at = new Date(T0.getTime() + 2 * HOUR).toISOString();
    const recorded = await api(s).usage.record({
      events: [
        { idempotencyKey: 'u1', customerId: customer.id, featureKey: 'api_calls', quantity: 60, timestamp: at },
        { idempotencyKey: 'u2', customerId: customer.id, featureKey: 'api_calls', quantity: 40, timestamp: at },
      ],
    });
    expect(recorded.map((r) => r.outcome.status)).toEqual(['accepted', 'accepted']);

    const preview = await api(s).invoices.preview({ subscriptionId: sub.id });
    expect(preview).toMatchObject({ issueAt: PERIOD_END, billingReason: 'subscription_cycle', currency: 'USD', subtotal: 3600, total: 3600 });
    const usage = preview.lines.find((l) => l.kind === 'usage')!;
    expect(usage).toMatchObject({ id: 'usage:api_calls', quantity: '100', unitPrice: '0.01', amount: 100 });
    // Usage so far: up to the customer's time (its clock's), not the period end.
    expect(usage.periodStart).toEqual(T0);
    expect(usage.periodEnd).toEqual(new Date(T0.getTime() + DAY));
    // The next period's fees in advance.
    expect(shape(preview.lines.filter((l) => l.kind !== 'usage'))).toEqual([
      ['base_fee', '1', 2000],
      ['license', '3', 1500],
    ]);
    expect(preview.lines.find((l) => l.kind === 'base_fee')!.periodStart).toEqual(PERIOD_END);
    // Previewing stores nothing.
    expect((await api(s).invoices.listByCustomer({ customerId: customer.id })).items).toHaveLength(1);

    // A month later and two hours: the period is billed, and finalized after the 1 h grace.
    const moved = await api(s).testClocks.advance({ id: clockOf(s), to: new Date(PERIOD_END.getTime() + 2 * HOUR) });
    expect(moved.now).toEqual(new Date(PERIOD_END.getTime() + 2 * HOUR));
    expect(moved.report).toEqual({ periods: 1, invoicesCreated: 1, invoicesFinalized: 1 });
    expect((await api(s).testClocks.get({ id: clockOf(s) })).now).toEqual(moved.now);

    const { items } = await api(s).invoices.listByCustomer({ customerId: customer.id });
    expect(items.map((i) => i.billingReason).sort()).toEqual(['subscription_create', 'subscription_cycle']);
    const cycle = items.find((i) => i.billingReason === 'subscription_cycle')!;
    expect(cycle).toMatchObject({ status: 'open', number: 'INV-000002', total: 3600, amountDue: 3600, issueAt: PERIOD_END });
    expect(cycle.finalizedAt).toEqual(new Date(PERIOD_END.getTime() + HOUR));
    expect(cycle.lines.find((l) => l.kind === 'usage')).toMatchObject({ quantity: '100', amount: 100 });
    expect(cycle.lines.find((l) => l.kind === 'usage')!.periodEnd).toEqual(PERIOD_END);

    const renewed = await api(s).subscriptions.get({ id: sub.id });
    expect(renewed.currentPeriodStart).toEqual(PERIOD_END);
    expect(renewed.currentPeriodEnd).toEqual(new Date('2025-03-15T10:00:00.000Z'));

    // Running the cycle again bills nothing twice.
    expect(await api(s).billing.run({})).toEqual({ periods: 0, invoicesCreated: 0, invoicesFinalized: 0 });
    expect((await api(s).invoices.listByCustomer({ customerId: customer.id })).items).toHaveLength(2);
  });

  it('refuses to preview a canceled subscription', async () => {
    const s = fresh();
    const { team, customer } = await setup(s);
    const sub = await api(s).subscriptions.create({ customerId: customer.id, planId: team.id });
    await api(s).subscriptions.cancel({ id: sub.id, at: 'now' });
    expect(await codeOf(api(s).invoices.preview({ subscriptionId: sub.id }))).toBe('PRECONDITION_FAILED');
  });

  it('void: open → void with the reason and nothing due; voiding again is refused', async () => {
    const s = fresh();
    const { team, customer } = await setup(s);
    await api(s).subscriptions.create({ customerId: customer.id, planId: team.id, quantity: 3 });
    const [inv] = (await api(s).invoices.listByCustomer({ customerId: customer.id })).items;
    const voided = await api(s).invoices.void({ id: inv!.id, reason: 'duplicate order' });
    expect(voided).toMatchObject({ status: 'void', voidReason: 'duplicate order', amountDue: 0, total: 3500 });
    expect(voided.voidedAt).toBeInstanceOf(Date);
    expect(await api(s).invoices.get({ id: inv!.id })).toMatchObject({ status: 'void' });
    expect(await codeOf(api(s).invoices.void({ id: inv!.id }))).toBe('PRECONDITION_FAILED');
    expect(await codeOf(api(s).invoices.markUncollectible({ id: inv!.id }))).toBe('PRECONDITION_FAILED');
    // A void invoice takes no credit note.
    expect(await codeOf(api(s).invoices.creditNotes.create({ invoiceId: inv!.id, amount: 100, reason: 'duplicate' }))).toBe('PRECONDITION_FAILED');
  });

  it('markUncollectible: open → uncollectible, which can still be voided (with the default reason)', async () => {
    const s = fresh();
    const { team, customer } = await setup(s);
    await api(s).subscriptions.create({ customerId: customer.id, planId: team.id });
    const [inv] = (await api(s).invoices.listByCustomer({ customerId: customer.id })).items;
    const bad = await api(s).invoices.markUncollectible({ id: inv!.id });
    expect(bad).toMatchObject({ status: 'uncollectible', amountDue: 2500 });
    expect(bad.markedUncollectibleAt).toBeInstanceOf(Date);
    expect(await codeOf(api(s).invoices.markUncollectible({ id: inv!.id }))).toBe('PRECONDITION_FAILED');
    expect(await api(s).invoices.void({ id: inv!.id })).toMatchObject({ status: 'void', voidReason: 'voided' });
  });

  it('credit notes lower what is due, numbered CN-000001, CN-000002; one larger than what is left is refused', async () => {
    const s = fresh();
    const { team, customer } = await setup(s);
    await api(s).subscriptions.create({ customerId: customer.id, planId: team.id, quantity: 3 });
    const [inv] = (await api(s).invoices.listByCustomer({ customerId: customer.id })).items;

    const first = await api(s).invoices.creditNotes.create({ invoiceId: inv!.id, amount: 500, reason: 'billing_error', memo: 'one seat too many' });
    expect(first.creditNote).toMatchObject({ number: 'CN-000001', amount: 500, currency: 'USD', reason: 'billing_error', memo: 'one seat too many', invoiceId: inv!.id });
    expect(first.creditNote.id).toMatch(/^crn_/);
    expect(first.invoice).toMatchObject({ total: 3500, credited: 500, amountDue: 3000, status: 'open' });

    const second = await api(s).invoices.creditNotes.create({ invoiceId: inv!.id, amount: 1000, reason: 'order_change' });
    expect(second.creditNote).toMatchObject({ number: 'CN-000002', memo: '' });
    expect(second.invoice).toMatchObject({ credited: 1500, amountDue: 2000 });

    // 2,000 left to credit: 2,001 is too much, and changes nothing.
    const e = await errorOf(api(s).invoices.creditNotes.create({ invoiceId: inv!.id, amount: 2001, reason: 'duplicate' }));
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toMatch(/2000/);
    expect(await api(s).invoices.get({ id: inv!.id })).toMatchObject({ credited: 1500, amountDue: 2000 });

    const notes = await api(s).invoices.creditNotes.list({ invoiceId: inv!.id });
    expect(notes.map((n) => [n.number, n.amount])).toEqual([
      ['CN-000001', 500],
      ['CN-000002', 1000],
    ]);
    // Exactly what is left brings the amount due to zero.
    expect((await api(s).invoices.creditNotes.create({ invoiceId: inv!.id, amount: 2000, reason: 'duplicate' })).invoice.amountDue).toBe(0);
  });
});

describe('subscription changes and their invoices', () => {
  it('an upgrade mid-period takes effect now: a subscription_update invoice credits 15/31 of the old base fee and charges 15/31 of the new', async () => {
    const s = fresh();
    const { team, business, starter, customer } = await setup(s, { clock: true });
    const sub = await api(s).subscriptions.create({ customerId: customer.id, planId: team.id, quantity: 3 });
    await api(s).testClocks.advance({ id: clockOf(s), to: MID });

    const preview = await api(s).subscriptions.previewChange({ id: sub.id, planId: business.id });
    expect(preview).toMatchObject({ effective: 'now', upgrade: true });
    // −20.00 × 15/31 = −9.68, +50.00 × 15/31 = 24.19; the seats are unchanged and not prorated.
    const prorations = preview.invoice!.lines.filter((l) => l.kind === 'proration');
    expect(prorations.map((l) => l.amount)).toEqual([-968, 2419]);
    expect(preview.invoice!.total).toBe(1451);
    expect((await api(s).invoices.listByCustomer({ customerId: customer.id })).items).toHaveLength(1);

    const down = await api(s).subscriptions.previewChange({ id: sub.id, planId: starter.id });
    expect(down).toEqual({ effective: 'period_end', upgrade: false, invoice: null, prorationsBilled: null });

    const changed = await api(s).subscriptions.changePlan({ id: sub.id, planId: business.id });
    expect(changed).toMatchObject({ planId: business.id, quantity: 3, pendingChange: null });
    const update = (await api(s).invoices.listByCustomer({ customerId: customer.id })).items.find((i) => i.billingReason === 'subscription_update')!;
    // No usage on it (the period's usage is billed at its end): final at once.
    expect(update).toMatchObject({ status: 'open', number: 'INV-000002', total: 1451, amountDue: 1451 });
    expect(update.lines.every((l) => l.kind === 'proration')).toBe(true);
    const lines = update.lines.filter((l) => l.kind === 'proration');
    expect(lines.map((l) => l.amount)).toEqual([-968, 2419]);
    expect(sum(lines)).toBeGreaterThan(0);
    expect(lines[0]!.periodStart).toEqual(MID);
    expect(lines[0]!.periodEnd).toEqual(PERIOD_END);

  });

  it('a downgrade waits for the period end, where the cycle bills the new plan', async () => {
    const s = fresh();
    const { team, starter, customer } = await setup(s, { clock: true });
    const sub = await api(s).subscriptions.create({ customerId: customer.id, planId: team.id, quantity: 3 });
    await api(s).testClocks.advance({ id: clockOf(s), to: MID });
    const scheduled = await api(s).subscriptions.changePlan({ id: sub.id, planId: starter.id });
    expect(scheduled).toMatchObject({ planId: team.id, pendingChange: { planId: starter.id, quantity: 3 } });
    expect((await api(s).invoices.listByCustomer({ customerId: customer.id })).items).toHaveLength(1);

    await api(s).testClocks.advance({ id: clockOf(s), to: new Date(PERIOD_END.getTime() + 2 * HOUR) });
    expect(await api(s).subscriptions.get({ id: sub.id })).toMatchObject({ planId: starter.id, pendingChange: null });
    const cycle = (await api(s).invoices.listByCustomer({ customerId: customer.id })).items.find((i) => i.billingReason === 'subscription_cycle')!;
    expect(cycle.lines.find((l) => l.kind === 'base_fee')).toMatchObject({ amount: 900, description: 'Starter plan' });
  });

  it('a downgrade made now with downgradeAt: "now" credits the difference', async () => {
    const s = fresh();
    const { team, starter, customer } = await setup(s, { clock: true });
    const sub = await api(s).subscriptions.create({ customerId: customer.id, planId: team.id, quantity: 3 });
    await api(s).testClocks.advance({ id: clockOf(s), to: MID });
    const preview = await api(s).subscriptions.previewChange({ id: sub.id, planId: starter.id, downgradeAt: 'now' });
    expect(preview).toMatchObject({ effective: 'now', upgrade: false });
    // −20.00 × 15/31 = −9.68, +9.00 × 15/31 = 4.35
    expect(preview.invoice!.lines.filter((l) => l.kind === 'proration').map((l) => l.amount)).toEqual([-968, 435]);
    const unprorated = await api(s).subscriptions.previewChange({ id: sub.id, planId: starter.id, downgradeAt: 'now', prorate: false });
    expect(unprorated).toMatchObject({ effective: 'now', invoice: null }); // nothing to bill now
  });

  it('changeSeats from 3 to 5 mid-period prorates the seats only, invoiced and finalized at once', async () => {
    const s = fresh();
    const { team, customer } = await setup(s, { clock: true });
    const sub = await api(s).subscriptions.create({ customerId: customer.id, planId: team.id, quantity: 3 });
    await api(s).testClocks.advance({ id: clockOf(s), to: MID });
    const changed = await api(s).subscriptions.changeSeats({ id: sub.id, quantity: 5 });
    expect(changed.quantity).toBe(5);
    const update = (await api(s).invoices.listByCustomer({ customerId: customer.id })).items.find((i) => i.billingReason === 'subscription_update')!;
    // −15.00 × 15/31 = −7.26, +25.00 × 15/31 = 12.10
    expect(update.lines.map((l) => [l.kind, l.amount])).toEqual([
      ['proration', -726],
      ['proration', 1210],
    ]);
    expect(update).toMatchObject({ status: 'open', number: 'INV-000002', total: 484, amountDue: 484 });
    // Over the plan's 10 seats: refused, nothing changes.
    expect(await codeOf(api(s).subscriptions.changeSeats({ id: sub.id, quantity: 11 }))).toBe('BAD_REQUEST');
    expect((await api(s).subscriptions.get({ id: sub.id })).quantity).toBe(5);
  });

  it('cancel now with prorate credits the unused fees; without, it does not', async () => {
    const s = fresh();
    const { team, customer } = await setup(s, { clock: true });
    const other = await api(s).customers.create({ email: 'other@example.com', name: 'Other' });
    const prorated = await api(s).subscriptions.create({ customerId: customer.id, planId: team.id, quantity: 3 });
    const plain = await api(s).subscriptions.create({ customerId: other.id, planId: team.id, quantity: 3 });
    await api(s).testClocks.advance({ id: clockOf(s), to: MID });

    expect(await api(s).subscriptions.cancel({ id: prorated.id, at: 'now', prorate: true })).toMatchObject({ status: 'canceled', endedAt: MID });
    await api(s).subscriptions.cancel({ id: plain.id, at: 'now' });
    const last = async (customerId: string) =>
      (await api(s).invoices.listByCustomer({ customerId })).items.find((i) => i.billingReason === 'subscription_cancel')!;
    const credited = await last(customer.id);
    expect(credited.lines.filter((l) => l.kind === 'proration').map((l) => l.amount)).toEqual([-968, -726]);
    expect(credited.total).toBe(-1694);
    expect(credited.amountDue).toBe(0);
    expect((await last(other.id)).lines.filter((l) => l.kind === 'proration')).toEqual([]);
  });

  it('endTrial ends a trial now: active, and the first paid period invoiced', async () => {
    const s = fresh();
    const { team, customer } = await setup(s, { clock: true });
    const sub = await api(s).subscriptions.create({ customerId: customer.id, planId: team.id, quantity: 3, trialDays: 14 });
    expect(sub.status).toBe('trialing');
    expect((await api(s).invoices.listByCustomer({ customerId: customer.id })).items).toEqual([]);
    await api(s).testClocks.advance({ id: clockOf(s), to: new Date(T0.getTime() + 3 * DAY) });

    const active = await api(s).subscriptions.endTrial({ id: sub.id });
    expect(active).toMatchObject({ status: 'active', currentPeriodStart: new Date(T0.getTime() + 3 * DAY) });
    const { items } = await api(s).invoices.listByCustomer({ customerId: customer.id });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ billingReason: 'subscription_cycle', status: 'open', number: 'INV-000001', total: 3500 });
    expect(await codeOf(api(s).subscriptions.endTrial({ id: sub.id }))).toBe('PRECONDITION_FAILED');
  });

  it('coupons.redeem on a subscription: the next cycle invoice is discounted, once', async () => {
    const s = fresh();
    const { team, customer } = await setup(s, { clock: true });
    await api(s).coupons.create({ code: 'half', name: 'Half off', percentOff: '50', duration: 'once' });
    const sub = await api(s).subscriptions.create({ customerId: customer.id, planId: team.id, quantity: 3 });
    const redeemed = await api(s).coupons.redeem({ subscriptionId: sub.id, code: 'half' });
    expect(redeemed.discount).toMatchObject({ code: 'HALF', periodsApplied: 0 });
    expect((await api(s).coupons.getByCode({ code: 'HALF' })).timesRedeemed).toBe(1);

    await api(s).testClocks.advance({ id: clockOf(s), to: new Date(PERIOD_END.getTime() + 2 * HOUR) });
    const cycle = (await api(s).invoices.listByCustomer({ customerId: customer.id })).items.find((i) => i.billingReason === 'subscription_cycle')!;
    expect(cycle).toMatchObject({ subtotal: 3500, discount: 1750, total: 1750, amountDue: 1750, couponId: redeemed.discount!.couponId });

    await api(s).testClocks.advance({ id: clockOf(s), to: new Date('2025-03-15T12:00:00.000Z') });
    const all = (await api(s).invoices.listByCustomer({ customerId: customer.id })).items;
    expect(all.map((i) => i.discount)).toEqual([0, 1750, 0]);
    // An unknown code is NOT_FOUND, on either procedure.
    expect(await codeOf(api(s).coupons.redeem({ subscriptionId: sub.id, code: 'nope' }))).toBe('NOT_FOUND');
    expect(await codeOf(api(s).subscriptions.applyCoupon({ id: sub.id, code: 'nope' }))).toBe('NOT_FOUND');
  });

  it('create with a coupon code and price overrides: the first invoice uses both', async () => {
    const s = fresh();
    const { team, customer } = await setup(s);
    await api(s).coupons.create({ code: 'half', name: 'Half off', percentOff: '50', duration: 'repeating', durationPeriods: 2 });
    const sub = await api(s).subscriptions.create({
      customerId: customer.id,
      planId: team.id,
      quantity: 3,
      couponCode: 'half',
      priceOverrides: { basePrice: 1000, features: { seats: { model: 'per_unit', unitPrice: '4' } } },
    });
    expect(sub.discount).toMatchObject({ code: 'HALF', periodsApplied: 1 });
    const [inv] = (await api(s).invoices.listByCustomer({ customerId: customer.id })).items;
    expect(shape(inv!.lines)).toEqual([
      ['base_fee', '1', 1000],
      ['license', '3', 1200],
    ]);
    expect(inv).toMatchObject({ subtotal: 2200, discount: 1100, total: 1100 });
    // An override for a feature the plan does not price is refused.
    const c2 = await api(s).customers.create({ email: 'c2@example.com', name: 'C2' });
    expect(
      await codeOf(api(s).subscriptions.create({ customerId: c2.id, planId: team.id, priceOverrides: { features: { sso: { model: 'flat', amount: 1 } } } })),
    ).toBe('BAD_REQUEST');
  });
});

describe('test clocks and the billing cycle', () => {
  it('clocks exist in test scopes only, several per scope, moving forward only; deleting one takes its customers', async () => {
    const s = fresh();
    const UNKNOWN_CLOCK = 'clk_01h455vb4pex5vsknk084sn02q';
    // A live scope (nobody registered it as a test scope) has no clocks: 412.
    expect(await codeOf(api(s).testClocks.create({ at: T0 }))).toBe('PRECONDITION_FAILED');
    expect((await errorOf(api(s).testClocks.list({}))).message).toBe('test clocks exist only in test scopes; this scope is live (its keys start ldg_live_)');
    expect(await codeOf(api(s).customers.create({ email: 'l@example.com', name: 'L', testClockId: UNKNOWN_CLOCK }))).toBe('PRECONDITION_FAILED');
    await ledger.scopes.register(s, 'test');
    expect(await codeOf(api(s).testClocks.get({ id: UNKNOWN_CLOCK }))).toBe('NOT_FOUND');
    const clock = await api(s).testClocks.create({ at: T0, name: 'first' });
    const second = await api(s).testClocks.create({});
    expect((await api(s).testClocks.list({})).items.map((c) => c.id)).toEqual([clock.id, second.id]);
    expect(await codeOf(api(s).testClocks.advance({ id: clock.id, to: new Date(T0.getTime() - 1) }))).toBe('BAD_REQUEST');
    expect(await codeOf(api(s).testClocks.advance({ id: clock.id, to: new Date('2027-01-15T10:00:01.000Z') }))).toBe('BAD_REQUEST'); // over 2 years
    // The cycle cannot run in the future of the real time.
    expect(await codeOf(api(s).billing.run({ at: new Date(Date.now() + DAY) }))).toBe('BAD_REQUEST');
    expect(await api(s).billing.run({ at: T0 })).toEqual({ periods: 0, invoicesCreated: 0, invoicesFinalized: 0 });
    const customer = await api(s).customers.create({ email: 'c@example.com', name: 'C', testClockId: clock.id });
    expect(await api(s).testClocks.delete({ id: clock.id })).toEqual({ id: clock.id, deleted: true, customersDeleted: [customer.id] });
    expect(await codeOf(api(s).testClocks.get({ id: clock.id }))).toBe('NOT_FOUND');
    expect(await codeOf(api(s).customers.get({ id: customer.id }))).toBe('NOT_FOUND');
    expect(await codeOf(api(s).testClocks.delete({ id: clock.id }))).toBe('NOT_FOUND');
    expect((await api(s).testClocks.get({ id: second.id })).id).toBe(second.id);
  });

  it('billing.run never moves a clock’s customer; an advance bills what a move left undone', async () => {
    const s = fresh();
    const { team, customer } = await setup(s, { clock: true });
    const sub = await api(s).subscriptions.create({ customerId: customer.id, planId: team.id, quantity: 3 });
    // Move the clock without running the cycle (the engine's own call, as a crash midway would leave it).
    const to = new Date(PERIOD_END.getTime() + 2 * HOUR);
    await ledger.testClocks.move(s, clockOf(s), to);
    // The real-time cycle leaves the clock's customers alone…
    expect(await api(s).billing.run({})).toEqual({ periods: 0, invoicesCreated: 0, invoicesFinalized: 0 });
    expect((await api(s).subscriptions.get({ id: sub.id })).currentPeriodStart).toEqual(T0);
    // …an advance to where the clock is bills them (so does the schedule: billing.runClock).
    expect((await api(s).testClocks.advance({ id: clockOf(s), to })).report).toEqual({ periods: 1, invoicesCreated: 1, invoicesFinalized: 1 });
    expect((await api(s).subscriptions.get({ id: sub.id })).currentPeriodStart).toEqual(PERIOD_END);
    expect((await api(s).testClocks.advance({ id: clockOf(s), to })).report).toEqual({ periods: 0, invoicesCreated: 0, invoicesFinalized: 0 });
  });
});

describe('input, tenancy and authentication', () => {
  it('bad input is BAD_REQUEST: wrong-prefixed ids, negative or fractional amounts, unknown reasons, bad dates', async () => {
    const s = fresh();
    const { team, customer } = await setup(s);
    const sub = await api(s).subscriptions.create({ customerId: customer.id, planId: team.id });
    const [inv] = (await api(s).invoices.listByCustomer({ customerId: customer.id })).items;
    const a = api(s);
    const cases: [string, Promise<unknown>][] = [
      ['invoices.get with a subscription id', a.invoices.get({ id: sub.id })],
      ['invoices.listByCustomer with an invoice id', a.invoices.listByCustomer({ customerId: inv!.id })],
      ['invoices.finalize with a malformed id', a.invoices.finalize({ id: 'inv_nope' })],
      ['invoices.void with an empty reason', a.invoices.void({ id: inv!.id, reason: ' ' })],
      ['invoices.preview with a customer id', a.invoices.preview({ subscriptionId: customer.id })],
      ['a negative credit note', a.invoices.creditNotes.create({ invoiceId: inv!.id, amount: -100, reason: 'duplicate' })],
      ['a fractional credit note', a.invoices.creditNotes.create({ invoiceId: inv!.id, amount: 10.5, reason: 'duplicate' })],
      ['a credit note with an unknown reason', a.invoices.creditNotes.create({ invoiceId: inv!.id, amount: 100, reason: 'because' as never })],
      ['creditNotes.list with a plan id', a.invoices.creditNotes.list({ invoiceId: team.id })],
      ['changePlan to a customer id', a.subscriptions.changePlan({ id: sub.id, planId: customer.id })],
      ['previewChange of an invoice id', a.subscriptions.previewChange({ id: inv!.id, planId: team.id })],
      ['changeSeats to 0', a.subscriptions.changeSeats({ id: sub.id, quantity: 0 })],
      ['changeSeats to −1', a.subscriptions.changeSeats({ id: sub.id, quantity: -1 })],
      ['endTrial of a plan id', a.subscriptions.endTrial({ id: team.id })],
      ['applyCoupon with an empty code', a.subscriptions.applyCoupon({ id: sub.id, code: '' })],
      ['coupons.redeem on a coupon id', a.coupons.redeem({ subscriptionId: 'cpn_01h455vb4pex5vsknk084sn02q', code: 'x' })],
      ['cancel with an unknown "at"', a.subscriptions.cancel({ id: sub.id, at: 'tomorrow' as never })],
      ['testClocks.advance to no date', a.testClocks.advance({ id: 'clk_01h455vb4pex5vsknk084sn02q', to: 'soon' as never })],
      ['testClocks.advance of a customer id', a.testClocks.advance({ id: customer.id, to: T0 })],
      ['testClocks.create with a name too long', a.testClocks.create({ name: 'x'.repeat(201) })],
      ['billing.run at no date', a.billing.run({ at: 'soon' as never })],
    ];
    for (const [what, p] of cases) expect(await codeOf(p), what).toBe('BAD_REQUEST');
    // Nothing changed.
    expect(await a.invoices.get({ id: inv!.id })).toMatchObject({ status: 'open', credited: 0, amountDue: 2500 });
    expect(await a.subscriptions.get({ id: sub.id })).toMatchObject({ status: 'active', quantity: 1, planId: team.id });
  });

  it('another tenant’s invoices and subscriptions are NOT_FOUND, and stay untouched', async () => {
    const s = fresh();
    const other = fresh();
    const { team, customer } = await setup(s);
    const sub = await api(s).subscriptions.create({ customerId: customer.id, planId: team.id });
    const [inv] = (await api(s).invoices.listByCustomer({ customerId: customer.id })).items;
    const b = api(other);
    for (const p of [
      b.invoices.get({ id: inv!.id }),
      b.invoices.listByCustomer({ customerId: customer.id }),
      b.invoices.finalize({ id: inv!.id }),
      b.invoices.void({ id: inv!.id }),
      b.invoices.markUncollectible({ id: inv!.id }),
      b.invoices.creditNotes.create({ invoiceId: inv!.id, amount: 100, reason: 'duplicate' }),
      b.invoices.creditNotes.list({ invoiceId: inv!.id }),
      b.invoices.preview({ subscriptionId: sub.id }),
      b.subscriptions.changeSeats({ id: sub.id, quantity: 2 }),
      b.subscriptions.changePlan({ id: sub.id, planId: team.id }),
      b.coupons.redeem({ subscriptionId: sub.id, code: 'x' }),
      b.invoices.get({ id: UNKNOWN_INVOICE }),
    ]) {
      expect(await codeOf(p)).toBe('NOT_FOUND');
    }
    expect(await api(s).invoices.get({ id: inv!.id })).toMatchObject({ status: 'open', credited: 0, amountDue: 2500 });
    expect((await api(s).subscriptions.get({ id: sub.id })).quantity).toBe(1);
  });

  it('every invoicing procedure needs an API key, and nothing runs without one', async () => {
    const anonymous = createCaller({ ledger, auth: null });
    const clocks = (await ledger.store.billing.allTestClocks()).length;
    const calls: Promise<unknown>[] = [
      anonymous.invoices.get({ id: UNKNOWN_INVOICE }),
      anonymous.invoices.listByCustomer({ customerId: 'cst_01h455vb4pex5vsknk084sn02q' }),
      anonymous.invoices.void({ id: UNKNOWN_INVOICE }),
      anonymous.invoices.creditNotes.create({ invoiceId: UNKNOWN_INVOICE, amount: 1, reason: 'duplicate' }),
      anonymous.invoices.preview({ subscriptionId: 'sub_01h455vb4pex5vsknk084sn02q' }),
      anonymous.subscriptions.changePlan({ id: 'sub_01h455vb4pex5vsknk084sn02q', planId: 'pln_01h455vb4pex5vsknk084sn02q' }),
      anonymous.coupons.redeem({ subscriptionId: 'sub_01h455vb4pex5vsknk084sn02q', code: 'x' }),
      anonymous.testClocks.create({ at: T0 }),
      anonymous.testClocks.advance({ id: 'clk_01h455vb4pex5vsknk084sn02q', to: T0 }),
      anonymous.testClocks.list({}),
      anonymous.billing.run({}),
    ];
    for (const p of calls) expect(await codeOf(p)).toBe('UNAUTHORIZED');
    expect((await ledger.store.billing.allTestClocks()).length).toBe(clocks);
  });
});
