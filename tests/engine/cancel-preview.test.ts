import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger } from '@/server/ledger';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * What cancelling now would credit (`subscriptions.previewCancel`, which the portal's
 * cancel dialog shows) is what the cancellation then writes: over the period the fees were
 * priced for (a calendar plan's short first period counts against its calendar month) and
 * less a percent-off coupon's share.
 */
describe.each(storeFactories())('cancel preview on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  it('calendar 50.00 a month from August 10 with 20 % off, cancelled August 20: the preview and the final invoice both credit 50.00 × 12/31 less 20 % = 15.48', async () => {
    const clock = new ManualClock('2025-08-10T14:00:00Z');
    const ledger = await createLedger({ store: store(), clock, logger: silentLogger });
    const scope = uniqueScope();
    const plan = await ledger.plans.create(scope, { key: 'cal', name: 'Cal', currency: 'USD', interval: { unit: 'month' }, basePrice: 5000, billingCycle: 'calendar' });
    await ledger.coupons.create(scope, { code: 'TWENTY', name: '20 % off', percentOff: '20', duration: 'forever' });
    const customer = await ledger.customers.create(scope, { email: 'c@example.com', name: 'Cal' });
    const sub = await ledger.subscriptions.create(scope, { customerId: customer.id, planId: plan.id, couponCode: 'TWENTY' });
    clock.set('2025-08-20T00:00:00Z');

    const preview = await ledger.subscriptions.previewCancel(scope, sub.id);
    // 5000 × 12/31 = 1935.48 → 1935; paid at 80 %: 1548.
    expect(preview).toMatchObject({ credit: 1548, currency: 'USD' });
    await ledger.subscriptions.cancel(scope, sub.id, { at: 'now', prorate: true });
    const final = (await ledger.invoices.listByCustomer(scope, customer.id, { limit: 10 })).items.find((i) => i.billingReason === 'subscription_cancel')!;
    expect(final.lines.filter((l) => l.amount < 0).reduce((a, l) => a - l.amount, 0)).toBe(preview.credit);
  });
});
