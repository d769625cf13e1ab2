/** Ledger's engine: framework-free; import from here. */
export { createLedger, type Ledger, type LedgerOptions } from './ledger';
export { listPlansSchema, type ListPlansInput } from './plan/service';
export * from './types';
export type { Store } from './store/store';
export { createMemoryStore } from './store/memory';
export { createPostgresStore } from './store/postgres';
export * from './customer/types';
export * from './plan/types';
export * from './subscription/types';
export { addInterval, nthPeriod, periodFor, type BillingPeriod } from './subscription/period';
export { HOOK_NAMES, type HookName, type InvoicePaymentFailure, type LedgerHooks, type Plugin, type Period, type ProviderSyncResult, type WebhookReceived } from './plugin/hooks';
export { PluginRegistry } from './plugin/registry';
export { MeterService } from './meter/service';
export { UsageReads, granularityFor, bucketsOf, type SeriesBucket, type SeriesGranularity, type SeriesQuery, type UsageSeries } from './meter/series';
export { parseMeterEvents, type ParsedMeterEvent, type EventIssue } from './meter/event';
export * from './meter/types';
export type { UsageObserver } from './meter/observer';
export type { UsageStore, InsertUsageResult } from './meter/store';
export { flushOnSignals } from './shutdown';
export { EntitlementService, type EntitlementOptions } from './entitlement/service';
export * from './entitlement/types';
export type { RedisEntitlementOptions } from './entitlement/redis';
export * from './coupon/types';
export { couponApplies, couponAppliesToPeriod, couponDiscount, couponWindowEnd } from './coupon/apply';
export type { CouponRedemption } from './coupon/service';
export * from './tax/types';
export type { TaxRate as TaxRateTerms } from './tax/calculate';
export * from './invoice/types';
export { InvoiceService, type InvoiceExtensions } from './invoice/service';
export type {
  CouponValidator,
  InvoiceDocument,
  InvoiceFormatter,
  PricingStrategies,
  PricingStrategy,
  TaxableLine,
  TaxCalculator,
  TaxRequest,
  TaxResult,
  UsageAggregator,
  UsageAggregators,
} from './extensions/types';
export { rateTableTaxCalculator } from './tax/rate-table';
export { taxForLine } from './tax/calculate';
export type { UsageWindow } from './meter/store';
export * from './payment/types';
export * from './payment/provider';
export { PaymentService, type Collection } from './payment/service';
export { createSandboxProvider, SANDBOX_CARDS, SANDBOX_SIGNATURE_HEADER, signSandboxPayload, luhnValid, type SandboxBehaviour, type SandboxEventType, type SandboxOptions, type SandboxProvider } from './payment/sandbox';
export { WebhookInbox, type WebhookOptions, type WebhookProcessReport, type WebhookReceipt } from './payment/webhooks';
export { LEDGER_IDEMPOTENCY_METADATA, chargeMetadata, newInboxRecord, type WebhookDelivery, type WebhookEventRecord, type WebhookOutcome } from './payment/events';
export type { PaymentStore } from './payment/store';
// The Paddle adapter loads its SDK only when first used, so exporting it costs nothing.
export { createPaddleProvider, paddleEnvironment, paddleMode, type PaddleEnvironment, type PaddleProviderConfig } from './payment/paddle';
export {
  RefundService,
  refundCreditNoteSchema,
  listRefundsSchema,
  creditNoteRefundKey,
  finalCreditRefundKey,
  isFinalCredit,
  FINAL_CREDIT_REASON,
  type CreditNoteRefund,
  type RefundCreditNoteInput,
  type ListRefundsInput,
} from './payment/refunds';
export { Reconciler, type ReconcileOptions, type ReconcileReport, type ScopeReconcile } from './payment/reconcile';
export { ProviderCustomers } from './payment/provider-customers';
export {
  BillingCycle,
  advanceTestClockSchema,
  MAX_ADVANCE_YEARS,
  MAX_PERIODS_PER_ADVANCE,
  MAX_TOTAL_PERIODS_PER_ADVANCE,
  type AdvanceTestClockInput,
  type CycleReport,
} from './billing/cycle';
export {
  TestClocks,
  createTestClockSchema,
  testClockSchema,
  MAX_CLOCKS_PER_SCOPE,
  MAX_CUSTOMERS_PER_CLOCK,
  type CreateTestClockInput,
  type TestClock,
} from './billing/test-clocks';
export type { DueWork, OnClock } from './billing/store';
export { ScopeModes } from './scope/service';
export { SCOPE_MODES, type ScopeMode, type ScopeSettings, type ScopeStore } from './scope/store';
export { DEFAULT_SCOPE_SETTINGS, ScopeSettingsService, scopeSettingsSchema, type ScopeSettingsInput } from './scope/settings';
export type { ChangePreview } from './subscription/service';
export { HostedLinks, HOSTED_KINDS, HOSTED_LINK_INVALID, HOSTED_PATHS, HOSTED_TTL_S, type HostedClaims, type HostedKind, type HostedOptions } from './payment/hosted';
export { HostedPages, defaultMerchantName, type HostedInvoice, type HostedPayment } from './payment/hosted-pages';
export { PaymentMethods, type SetupSessionInput } from './payment/methods';
export * from './events/types';
export { EventLog, DEFAULT_EVENT_RETENTION_DAYS, type EventRecorder, type EventsCommitted, type EventsInTransaction } from './events/log';
export { withRequest, currentRequest } from './events/request-context';
export { OutboundWebhooks, endpointInputSchema, endpointUpdateSchema, MAX_ENDPOINTS_PER_SCOPE, type EndpointInput, type EndpointUpdate, type EndpointWithSecret, type OutboundWebhookOptions } from './webhooks-out/service';
export type { WebhookEndpoint, WebhookAttempt, WebhookOutStore, WebhookPayload, DisabledReason, WebhookDelivery as OutboundDelivery } from './webhooks-out/types';
export { RETRY_SCHEDULE_MS, DISABLE_AFTER_FAILING_MS } from './webhooks-out/schedule';
export { isPrivateAddress, targetGuardFromEnv, type TargetGuard } from './webhooks-out/target-guard';
export { createMemoryWebhookOutStore } from './store/memory-webhook-endpoints';
export { createPostgresWebhookOutStore } from './store/postgres-webhook-endpoints';
export { AuditTrail, DEFAULT_AUDIT_RETENTION_DAYS, type AuditOptions } from './audit/trail';
export type { AuditEntry, AuditQuery, AuditStore, FieldChange } from './audit/types';
export { ENGINE_ACTOR, entriesOf, entryOf, type AuditInput } from './audit/entries';
export { createMemoryAuditStore } from './audit/memory-store';
export { createPostgresAuditStore, createPostgresAuditedStores, auditRow } from './audit/postgres-store';
