import type { ChargeResult, PaymentProvider, RefundResult } from '@/server/ledger';

/**
 * A payment provider of the tests' own: it charges and refunds once per idempotency key
 * (as Stripe does), records every call's key, and can be told to time out after charging
 * or refunding: the case a retry with the same key must not charge or refund twice.
 */
export function flakyProvider(name = 'flaky') {
  const charged = new Map<string, ChargeResult>();
  const refunded = new Map<string, RefundResult>();
  const charges: string[] = [];
  const refunds: string[] = [];
  let chargeTimeouts = 0;
  let refundTimeouts = 0;
  const provider: PaymentProvider = {
    name,
    modes: ['test', 'live'],
    ensureCustomer: async (_s, c) => ({ providerCustomerId: `flaky_${c.id}` }),
    startSetup: async () => ({ url: 'https://flaky.example/setup' }),
    listMethods: async () => [{ providerRef: 'flaky_pm_1', brand: 'visa', last4: '1881', expMonth: 4, expYear: 2031 }],
    detachMethod: async () => {},
    async charge(_s, { idempotencyKey }) {
      charges.push(idempotencyKey);
      let r = charged.get(idempotencyKey);
      if (!r) charged.set(idempotencyKey, (r = { status: 'succeeded', providerPaymentId: `flaky_ch_${charged.size + 1}` }));
      if (chargeTimeouts > 0) {
        chargeTimeouts--;
        throw new Error('timeout: no answer in 30 s'); // after charging
      }
      return r;
    },
    async refund(_s, { idempotencyKey }) {
      refunds.push(idempotencyKey);
      let r = refunded.get(idempotencyKey);
      if (!r) refunded.set(idempotencyKey, (r = { status: 'succeeded', providerRefundId: `flaky_re_${refunded.size + 1}` }));
      if (refundTimeouts > 0) {
        refundTimeouts--;
        throw new Error('timeout: no answer in 30 s'); // after refunding
      }
      return r;
    },
    verifyWebhook: async () => [],
  };
  return {
    provider,
    charged,
    refunded,
    charges,
    refunds,
    chargeTimesOut: (n = 1) => void (chargeTimeouts = n),
    refundTimesOut: (n = 1) => void (refundTimeouts = n),
  };
}
