import { afterEach, describe, expect, it, vi } from 'vitest';
import { startBillingSchedule, type BillingSchedule } from '@/server/billing-schedule';
import { createLedger, ManualClock, silentLogger, type ChargeResult, type PaymentProvider } from '@/server/ledger';
import { capturingLogger } from '../support/engine';
import { uniqueScope } from '../support/stores';

/**
 * The billing schedule reconciles payments left pending before each run: a provider that
 * charged and then timed out is asked again with the payment's key on a later tick, and
 * the invoice is paid with one charge. A reconcile that throws is logged; ticks go on.
 */
const T0 = new Date('2025-01-15T10:00:00.000Z');

let schedule: BillingSchedule | null = null;
afterEach(async () => {
  await schedule?.stop();
  schedule = null;
  vi.restoreAllMocks();
});

describe('billing schedule: reconcile', () => {
  it('a charge that timed out is settled by a tick (charged once); a reconcile that fails is logged and the next tick settles it', async () => {
    const charged = new Map<string, ChargeResult>();
    let timeouts = 1;
    const flaky: PaymentProvider = {
      name: 'flaky',
      modes: ['test'],
      ensureCustomer: async (_s, c) => ({ providerCustomerId: `flaky_${c.id}` }),
      startSetup: async () => ({ url: 'https://flaky.example/setup' }),
      listMethods: async () => [{ providerRef: 'flaky_pm_1', brand: 'visa', last4: '1881', expMonth: 4, expYear: 2031 }],
      detachMethod: async () => {},
      async charge(_s, { idempotencyKey }) {
        let r = charged.get(idempotencyKey);
        if (!r) charged.set(idempotencyKey, (r = { status: 'succeeded', providerPaymentId: `flaky_ch_${charged.size + 1}` }));
        if (timeouts-- > 0) throw new Error('timeout');
        return r;
      },
      refund: async () => ({ status: 'succeeded', providerRefundId: 'flaky_re_1' }),
      verifyWebhook: async () => [],
    };
    const clock = new ManualClock(T0);
    const ledger = await createLedger({ clock, logger: silentLogger, providers: [flaky] });
    const s = uniqueScope();
    await ledger.scopes.register(s, 'test');
    await ledger.payments.updateSettings(s, { provider: 'flaky', collectionMethod: 'send_invoice' });
    const plan = await ledger.plans.create(s, { key: 'p', name: 'P', currency: 'USD', interval: { unit: 'month' }, basePrice: 4900 });
    const customer = await ledger.customers.create(s, { email: 'c@example.com', name: 'C' });
    await ledger.payments.syncMethods(s, customer.id);
    await ledger.subscriptions.create(s, { customerId: customer.id, planId: plan.id });
    const [inv] = (await ledger.invoices.listByCustomer(s, customer.id)).items;
    expect((await ledger.collectPayment(s, inv!.id)).payment).toMatchObject({ status: 'pending' });
    clock.set(T0.getTime() + 2 * 60_000);

    const run = vi.spyOn(ledger.reconcile, 'run').mockRejectedValueOnce(new Error('database down'));
    const log = capturingLogger();
    schedule = startBillingSchedule({ ledger }, 20, log);
    await vi.waitFor(async () => expect((await ledger.invoices.get(s, inv!.id)).status).toBe('paid'), { timeout: 20_000, interval: 20 });
    await schedule.stop();
    expect(run.mock.calls.length).toBeGreaterThanOrEqual(2);
    expect(log.entries.some((e) => e.level === 'error' && e.msg === 'billing schedule: could not reconcile pending payments')).toBe(true);
    expect(log.entries.some((e) => e.msg === 'billing schedule: reconciled pending payments' && (e.data?.settled as number) >= 1)).toBe(true);
    expect(charged.size).toBe(1);
  });
});
