import type { BillingStore } from '../billing/store';
import type { WebhookOutStore } from '../webhooks-out/types';
import type { CouponStore } from '../coupon/store';
import type { CustomerStore } from '../customer/store';
import type { ConsumptionStore } from '../entitlement/consume-store';
import type { EventStore } from '../events/types';
import type { InvoiceStore } from '../invoice/store';
import type { UsageStore } from '../meter/store';
import type { PaymentStore } from '../payment/store';
import type { PlanStore } from '../plan/store';
import type { ScopeStore } from '../scope/store';
import type { SubscriptionStore } from '../subscription/store';
import type { TaxRateStore } from '../tax/store';
import type { WalletStore } from '../wallet/store';

/**
 * The storage the engine runs on: one interface per domain, gathered here. Two
 * implementations pass the same conformance suite (tests/store/conformance.test.ts):
 * `createMemoryStore()` and `createPostgresStore(db)` (drizzle: PGlite or PostgreSQL).
 */
export interface Store {
  readonly kind: string;
  readonly customers: CustomerStore;
  readonly plans: PlanStore;
  readonly subscriptions: SubscriptionStore;
  readonly usage: UsageStore;
  /** entitlements.consume: answers by idempotency key, and a lock per customer and feature. */
  readonly consumptions: ConsumptionStore;
  readonly coupons: CouponStore;
  readonly taxRates: TaxRateStore;
  readonly invoices: InvoiceStore;
  readonly billing: BillingStore;
  readonly scopes: ScopeStore;
  readonly payments: PaymentStore;
  readonly events: EventStore;
  /** Prepaid credit wallets (server/ledger/wallet). */
  readonly wallets: WalletStore;
  /**
   * Outbound webhooks' endpoints and messages, on the same database and transactions, so
   * an endpoint's change and its event commit together (createLedger uses it unless told
   * otherwise).
   */
  readonly webhooksOut?: WebhookOutStore;
  /**
   * Runs `work` in one transaction: the store calls it makes commit together or not at
   * all (the memory store applies them as they come). Nested calls join the outer one.
   */
  atomic<T>(work: () => Promise<T>): Promise<T>;
}
