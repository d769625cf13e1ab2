import { EventLog } from './events/log';
import { AuditTrail, type AuditOptions } from './audit/trail';
import { createMemoryAuditStore } from './audit/memory-store';
import { BillingCycle, type CycleReport } from './billing/cycle';
import { TestClocks } from './billing/test-clocks';
import { InvoiceService } from './invoice/service';
import type { Invoice, InvoiceConfig } from './invoice/types';
import { ChangeFeed } from './changes';
import type { EngineContext } from './context';
import { CouponService } from './coupon/service';
import { CustomerService } from './customer/service';
import { EntitlementService, type EntitlementOptions } from './entitlement/service';
import type { EntitlementResult } from './entitlement/types';
import { MeterService } from './meter/service';
import { UsageReads } from './meter/series';
import type { MeterConfig } from './meter/types';
import { HostedLinks, type HostedOptions } from './payment/hosted';
import { HostedPages } from './payment/hosted-pages';
import { PaymentMethods } from './payment/methods';
import type { PaymentProvider } from './payment/provider';
import { ProviderCustomers } from './payment/provider-customers';
import { Reconciler, type ReconcileOptions } from './payment/reconcile';
import { isFinalCredit, RefundService } from './payment/refunds';
import { createSandboxProvider, type SandboxOptions } from './payment/sandbox';
import { Dunning } from './payment/dunning';
import { PaymentService, type Collection } from './payment/service';
import { WebhookInbox, type WebhookOptions } from './payment/webhooks';
import { PlanService } from './plan/service';
import type { Plugin } from './plugin/hooks';
import { PluginRegistry } from './plugin/registry';
import { ScopeModes } from './scope/service';
import { ScopeSettingsService } from './scope/settings';
import { createMemoryStore } from './store/memory';
import type { Store } from './store/store';
import { SubscriptionService } from './subscription/service';
import { TaxRateService } from './tax/service';
import { rateTableTaxCalculator } from './tax/rate-table';
import type { CouponValidator, InvoiceFormatter, PricingStrategies, TaxCalculator, UsageAggregators } from './extensions/types';
import { OutboundWebhooks, type OutboundWebhookOptions } from './webhooks-out/service';
import { createMemoryWebhookOutStore } from './store/memory-webhook-endpoints';
import { UsageCover } from './wallet/usage-cover';
import { WalletService } from './wallet/service';
import { consoleLogger, invalid, systemClock, type Clock, type Logger, type Scope } from './types';

export interface LedgerOptions {
  /** Where state lives; an in-memory store when omitted. */
  store?: Store;
  plugins?: readonly Plugin[];
  clock?: Clock;
  logger?: Logger;
  /** Metering buffer settings, like the seed's WithMeterConfig(100, 5s). */
  meter?: Partial<MeterConfig>;
  /** Entitlement cache settings, and Redis for several instances. */
  entitlements?: EntitlementOptions;
  /** Invoice numbering (prefix, digits) and the drafts' grace period for late usage. */
  invoices?: Partial<InvoiceConfig>;
  /**
   * Payment providers, by their `name`. The built-in `sandbox` (test scopes only) is
   * always there unless one given here is named `sandbox`; a scope collects through the
   * provider its payment settings name, else `defaultPaymentProvider`.
   */
  providers?: readonly PaymentProvider[];
  /** The provider of scopes whose settings name none (default `sandbox`). */
  defaultPaymentProvider?: string;
  /** The built-in sandbox's options: its webhook secret (the same on every instance), tolerance. */
  sandbox?: SandboxOptions;
  /** The webhook inbox's lease, batch and retry delay. */
  webhooks?: WebhookOptions;
  /** The reconcile pass: the minimum and maximum age of a pending payment it asks about again, its batch. */
  reconcile?: ReconcileOptions;
  /**
   * The hosted pages' links (pay an invoice, the sandbox's add-a-card and 3-D Secure
   * pages): the secret their tokens are signed with (random per engine when omitted, so
   * links die at a restart) and the app's public URL they start with.
   */
  hosted?: HostedOptions & { merchantName?: (scope: Scope) => string };
  /** The event log: how many days events are kept (default 30). */
  events?: { retentionDays?: number };
  /**
   * Outbound webhooks: their store (createPostgresWebhookOutStore(db); in memory when
   * omitted), the SSRF guard, timeout, per-endpoint concurrency, lease and poll.
   */
  webhooksOut?: OutboundWebhookOptions;
  /**
   * Price models of your own, by name: a metered feature's price `{ model: 'custom',
   * strategy: name, params }` is priced by `strategies[name]` (extensions/types.ts).
   */
  pricing?: { strategies?: PricingStrategies };
  /** Usage aggregations of your own, by name: a metered feature's `aggregator` bills it from the period's raw events. */
  aggregators?: UsageAggregators;
  /** Taxes invoices; the scope's rate table when omitted. The `tax` plugin (server/plugins/tax) asks a tax service. */
  taxCalculator?: TaxCalculator;
  /** Invoice numbers from the sequence value, and the invoice's document; the built-in numbering and PDF when omitted. */
  invoiceFormatter?: InvoiceFormatter;
  /** A rule of your own checked at every coupon redemption, after the built-in ones. */
  couponValidator?: CouponValidator;
  /** The audit trail: its store (createPostgresAuditedStores(db).audit; in memory when omitted) and retention (365 days). */
  audit?: AuditOptions;
}

/**
 * The engine. Every method of every service takes a `Scope` first; nothing is global,
 * so two engines (two tests, two tenants' sandboxes) never share state.
 */
export interface Ledger {
  readonly customers: CustomerService;
  readonly plans: PlanService;
  readonly subscriptions: SubscriptionService;
  readonly coupons: CouponService;
  readonly taxRates: TaxRateService;
  readonly invoices: InvoiceService;
  /**
   * Payments: `collect(scope, invoiceId)`, `get`, `list({ invoiceId } | { customerId })`,
   * `attempts`, the customer's `methods` and `syncMethods`, the scope's `settings` and
   * `updateSettings`, and `sandbox.attachCard` (test scopes only).
   */
  readonly payments: PaymentService;
  /**
   * Webhooks in: `receive(provider, rawBody, headers)` verifies and stores a delivery once
   * (processing follows from the inbox), `processPending()` processes what is left
   * pending, `whenIdle()`, `event(provider, id)`.
   */
  readonly webhooks: WebhookInbox;
  /**
   * Refunds: `creditNote(scope, invoiceId, { amount, reason, memo, refund })` (a credit
   * note, paid back through the provider with `refund: true`), `get`, `list({ invoiceId }
   * | { paymentId })`, `retry` (a pending refund sent again with its key), and
   * `refundFinalCredit` (run when a final invoice with a credit is finalized).
   */
  readonly refunds: RefundService;
  /** Prepaid credit wallets: `create`, `grant`, `topUp`, `balance`, `ledger`, automatic top-ups, recurring grants. */
  readonly wallets: WalletService;
  /**
   * Reconcile: `run()` asks the providers again about payments and refunds left pending
   * in every scope (the billing schedule calls it), `scope(scope)` in one.
   */
  readonly reconcile: Reconciler;
  /** Customers' ids at the providers, recorded as the providers answer them: `get(scope, customerId, provider)`. */
  readonly providerCustomers: ProviderCustomers;
  /**
   * A customer's saved payment methods: `list`, `setDefault`, `detach`, and
   * `createSetupSession` (a hosted set-up of a new one through the scope's provider).
   */
  readonly paymentMethods: PaymentMethods;
  /**
   * The hosted pages: `invoiceUrl(scope, invoiceId)` (the pay page's signed link), and
   * the token-authorized operations the app's pages call (`invoice`, `pay`, `setup`,
   * `addCard`, `confirmation`, `authenticate`); `links` signs and reads the tokens.
   */
  readonly hosted: HostedPages;
  /** `payments.collect`: charges the invoice's amount due now (paid at once when nothing is due). */
  collectPayment(scope: Scope, invoiceId: string): Promise<Collection>;
  /**
   * The billing cycle: `run(scope, at?)` (customers on no test clock, at the real time),
   * `advanceClock(scope, { id, to })` and `runClock(scope, id)` for a test clock's
   * customers, `generateInvoice`.
   */
  readonly billing: BillingCycle;
  /** `billing.run`: bills every subscription of the scope's customers on no test clock whose period ended by `now`. */
  runBillingCycle(scope: Scope, now?: Date): Promise<CycleReport>;
  /**
   * Test clocks (test scopes only): `create`, `get`, `list`, `delete` (with the customers
   * created on it); advance one with `billing.advanceClock`.
   */
  readonly testClocks: TestClocks;
  /** Scopes' modes: `register(scope, 'live' | 'test')`, `mode(scope)` (unregistered: live). */
  readonly scopes: ScopeModes;
  /** A scope's billing settings: `get(scope)`, `update(scope, { roundingMode })` (half_away_from_zero | half_even). */
  readonly settings: ScopeSettingsService;
  /** The time of a customer's objects (its test clock's, if it is on one), else the real time. */
  now(scope: Scope, customerId?: string | null): Date;
  readonly meter: MeterService;
  /** Usage reads: `series(scope, …)`, a feature's usage in UTC day (week, month) buckets, for charts. */
  readonly usage: UsageReads;
  readonly entitlements: EntitlementService;
  /** `entitlements.check`: may the customer use the feature now? */
  entitled(scope: Scope, customerId: string, featureKey: string): Promise<EntitlementResult>;
  /**
   * The event log: `list(scope, query, page)`, `get`, `purgeExpired`, and `onCommitted`
   * (told after a change's events commit). Services write it through `atomic`.
   */
  readonly events: EventLog;
  /**
   * Outbound webhooks (Standard Webhooks): a scope's endpoints (`create`, `list`, `get`,
   * `update`, `delete`, `rotateSecret`, `sendTest`), `attempts`, `replay`, `replayFailed`,
   * and the worker sending the event log to them (`runOnce`, `start`, `stop`).
   */
  readonly webhooksOut: OutboundWebhooks;
  /** The audit trail of every write: `list(scope, query, page)`, `record` (writes outside the engine), `purgeExpired`. */
  readonly audit: AuditTrail;
  readonly plugins: PluginRegistry;
  readonly store: Store;
  readonly clock: Clock;
  /** Writes buffered usage, closes Redis, then runs every plugin's onShutdown. Idempotent. */
  shutdown(): Promise<void>;
}

export async function createLedger(options: LedgerOptions = {}): Promise<Ledger> {
  const logger = options.logger ?? consoleLogger;
  const store = options.store ?? createMemoryStore();
  const clock = options.clock ?? systemClock;
  const scopes = new ScopeModes(store.scopes);
  const testClocks = new TestClocks(store.billing, clock, scopes, undefined, store.customers);
  await testClocks.load();
  const ctx: EngineContext = {
    store,
    plugins: new PluginRegistry(logger, options.plugins),
    clock,
    logger,
    changes: new ChangeFeed(),
    events: new EventLog(store, clock, logger, options.events?.retentionDays),
    now: (scope, customerId) => testClocks.now(scope, customerId),
    nowMs: (scope, customerId) => testClocks.nowMs(scope, customerId),
    customerNow: (scope, customerId) => testClocks.customerNow(scope, customerId),
    customerSeen: (scope, customer) => testClocks.know(scope, customer),
  };
  // Before any service: every change's events are audited in its own transaction.
  const audit = new AuditTrail(ctx.events, options.audit?.store ?? createMemoryAuditStore(), clock, options.audit?.retentionDays);
  const meter = new MeterService(ctx, options.meter);
  const entitlements = new EntitlementService(ctx, meter, options.entitlements);
  // Customers deleted with their test clock: their usage is refused and their entries dropped.
  testClocks.recordWith(ctx.events);
  testClocks.onCustomersDeleted((scope, ids) => {
    meter.forgetCustomers(scope, ids);
    for (const id of ids) void entitlements.invalidate(scope, id);
  });
  // Engine-internal reactions to plan changes, registered ahead of user plugins.
  const forget = (scope: Scope) => meter.forgetFeatures(scope);
  ctx.plugins.registerFirst({ name: 'ledger:meter', onPlanCreated: forget, onPlanUpdated: forget, onPlanArchived: forget });
  const taxRates = new TaxRateService(ctx);
  const coupons = new CouponService(ctx, options.couponValidator ?? null);
  const planExtensions = { strategies: options.pricing?.strategies ?? {}, aggregators: options.aggregators ?? {} };
  const invoices = new InvoiceService(
    ctx,
    {
      ...planExtensions,
      taxCalculator: options.taxCalculator ?? rateTableTaxCalculator(taxRates),
      ...(options.invoiceFormatter ? { formatter: options.invoiceFormatter } : {}),
    },
    options.invoices,
  );
  const billing = new BillingCycle(ctx, invoices, testClocks, scopes);
  const links = new HostedLinks(clock, options.hosted);
  // The sandbox's hosted pages are this app's, behind signed links.
  const sandbox = createSandboxProvider({
    actionUrl: (providerPaymentId, charge) => links.confirmUrl(charge.scope, charge.invoiceId, providerPaymentId),
    setupUrl: (scope, customer, urls) => links.setupUrl(scope, customer.id, urls),
    ...options.sandbox,
  });
  const providers = new Map<string, PaymentProvider>([['sandbox', sandbox]]);
  for (const p of options.providers ?? []) providers.set(p.name, p);
  // Every provider records the customer ids it answers, so a webhook's customer can be checked.
  const providerCustomers = new ProviderCustomers(ctx);
  for (const [name, p] of providers) providers.set(name, providerCustomers.wrap(p));
  const defaultProvider = options.defaultPaymentProvider ?? 'sandbox';
  if (!providers.has(defaultProvider)) throw invalid(`the default payment provider "${defaultProvider}" is not among the providers given`);
  const payments = new PaymentService(ctx, invoices, scopes, providers, defaultProvider);
  // Collection at finalization and dunning (retries, past due, the final policy).
  const dunning = new Dunning(ctx, invoices, payments);
  invoices.collectWith(dunning);
  ctx.plugins.registerFirst(dunning.plugin());
  const refunds = new RefundService(ctx, invoices, scopes, providers);
  // Prepaid credits: used at finalization, topped up automatically after an invoice took some.
  const wallets = new WalletService(ctx, invoices);
  invoices.payWithWallets(wallets);
  // Features limited by credits: consume checks the usage against the wallet.
  entitlements.useCredits(new UsageCover(ctx, invoices));
  ctx.plugins.registerFirst({ name: 'ledger:wallets', onInvoiceFinalized: async (scope, inv) => void (await wallets.autoTopUp(scope, inv as Invoice)) });
  // A final invoice's credit is refunded when the scope says so, before user plugins see the invoice.
  ctx.plugins.registerFirst({
    name: 'ledger:final-credit',
    onInvoiceFinalized: async (scope, inv) => {
      const invoice = inv as Invoice;
      if (isFinalCredit(invoice)) await refunds.refundFinalCredit(scope, invoice.id);
    },
  });
  const webhooks = new WebhookInbox(ctx, payments, scopes, providers, options.webhooks, refunds);
  const reconcile = new Reconciler(ctx, payments, refunds, options.reconcile);
  const paymentMethods = new PaymentMethods(ctx, payments, providers);
  const hosted = new HostedPages(ctx, links, invoices, payments, paymentMethods, webhooks, providers, options.hosted?.merchantName);
  const { store: webhooksOutStore, ...webhooksOutOptions } = options.webhooksOut ?? {};
  const webhooksOut = new OutboundWebhooks(ctx, webhooksOutStore ?? store.webhooksOut ?? createMemoryWebhookOutStore(store.events), webhooksOutOptions);
  await ctx.plugins.emit('onInit');
  let stopped: Promise<void> | null = null;
  return {
    customers: new CustomerService(ctx, testClocks),
    plans: new PlanService(ctx, planExtensions),
    subscriptions: new SubscriptionService(ctx, { invoices, coupons, cycle: billing }),
    coupons,
    taxRates,
    invoices,
    payments,
    webhooks,
    refunds,
    wallets,
    reconcile,
    providerCustomers,
    paymentMethods,
    hosted,
    collectPayment: (scope, invoiceId) => payments.collect(scope, invoiceId),
    billing,
    runBillingCycle: (scope, now) => billing.run(scope, now),
    testClocks,
    scopes,
    now: (scope, customerId) => testClocks.now(scope, customerId),
    settings: new ScopeSettingsService(ctx),
    meter,
    usage: new UsageReads(ctx.store.usage),
    entitlements,
    entitled: (scope, customerId, featureKey) => entitlements.check(scope, customerId, featureKey),
    events: ctx.events,
    webhooksOut,
    audit,
    plugins: ctx.plugins,
    store: ctx.store,
    clock: ctx.clock,
    shutdown: () =>
      (stopped ??= (async () => {
        await meter.close();
        await webhooksOut.stop();
        await webhooks.close();
        await entitlements.close();
        await ctx.plugins.emit('onShutdown');
      })()),
  };
}
