import type { Customer } from '../customer/types';
import type { EntitlementCheck } from '../entitlement/types';
import type { Invoice } from '../invoice/types';
import type { UsageEvent } from '../meter/types';
import type { WebhookOutcome } from '../payment/events';
import type { ProviderEvent } from '../payment/provider';
import type { Payment, PaymentMethod, Refund } from '../payment/types';
import type { Feature, Plan } from '../plan/types';
import type { Subscription } from '../subscription/types';
import type { Scope } from '../types';

/** A period a subscription moved through, half-open [start, end). */
export interface Period {
  start: Date;
  end: Date;
}

/**
 * The lifecycle hooks a plugin may implement (metrics, outbound webhooks, audit, tax …),
 * every one optional and every payload typed. All but onInit/onShutdown are called with
 * the scope. Hooks run after the operation has been stored; a hook that throws is logged
 * and the billing operation still succeeds (they are best effort: what must never be
 * lost is in the event log, written in the operation's own transaction).
 *
 * Hot paths: onUsageIngested, onUsageFlushed and onEntitlementChecked are called without
 * being awaited by the operation, and only built when some plugin implements them.
 */
export interface LedgerHooks {
  // engine
  onInit(): void | Promise<void>;
  onShutdown(): void | Promise<void>;
  // customers
  onCustomerCreated(scope: Scope, customer: Customer): void | Promise<void>;
  onCustomerUpdated(scope: Scope, old: Customer, updated: Customer): void | Promise<void>;
  // plans and features
  onPlanCreated(scope: Scope, plan: Plan): void | Promise<void>;
  onPlanUpdated(scope: Scope, old: Plan, updated: Plan): void | Promise<void>;
  onPlanArchived(scope: Scope, plan: Plan): void | Promise<void>;
  onFeatureCreated(scope: Scope, plan: Plan, feature: Feature): void | Promise<void>;
  onFeatureUpdated(scope: Scope, plan: Plan, old: Feature, updated: Feature): void | Promise<void>;
  onFeatureDeleted(scope: Scope, plan: Plan, feature: Feature): void | Promise<void>;
  onFeatureArchived(scope: Scope, plan: Plan, feature: Feature): void | Promise<void>;
  // subscriptions
  onSubscriptionCreated(scope: Scope, sub: Subscription): void | Promise<void>;
  onSubscriptionChanged(scope: Scope, sub: Subscription, oldPlan: Plan, newPlan: Plan): void | Promise<void>;
  onSubscriptionCanceled(scope: Scope, sub: Subscription): void | Promise<void>;
  onSubscriptionCancelScheduled(scope: Scope, sub: Subscription): void | Promise<void>;
  onSubscriptionExpired(scope: Scope, sub: Subscription): void | Promise<void>;
  onSubscriptionTrialEnded(scope: Scope, sub: Subscription): void | Promise<void>;
  onSubscriptionRenewed(scope: Scope, sub: Subscription, period: Period): void | Promise<void>;
  // usage
  /** Events committed by one batch write (duplicates of stored events excluded). */
  onUsageIngested(scope: Scope, events: readonly UsageEvent[]): void | Promise<void>;
  /** A batch write ended: how many events it committed, and how long it took. */
  onUsageFlushed(scope: Scope, count: number, elapsedMs: number): void | Promise<void>;
  // entitlements
  /** Every check answered (cache hit or miss). */
  onEntitlementChecked(scope: Scope, check: EntitlementCheck): void | Promise<void>;
  /** The first denied check of a metered limit, once per customer, feature and period. */
  onQuotaExceeded(scope: Scope, check: EntitlementCheck): void | Promise<void>;
  /** Usage reached the soft ratio (80 %) of a limit, once per customer, feature and period. */
  onSoftLimitReached(scope: Scope, check: EntitlementCheck): void | Promise<void>;
  // invoices
  /** A draft invoice was created (once per subscription and period). */
  onInvoiceGenerated(scope: Scope, invoice: Invoice): void | Promise<void>;
  /** The invoice was finalized: numbered, its figures fixed. */
  onInvoiceFinalized(scope: Scope, invoice: Invoice): void | Promise<void>;
  /** An invoice became `paid` (a payment succeeded, or nothing was due). */
  onInvoicePaid(scope: Scope, invoice: Invoice): void | Promise<void>;
  /** A charge of the invoice failed; the invoice stays open. `failure` is an InvoicePaymentFailure. */
  onInvoiceFailed(scope: Scope, invoice: Invoice, failure: InvoicePaymentFailure): void | Promise<void>;
  onInvoiceVoided(scope: Scope, invoice: Invoice, reason: string): void | Promise<void>;
  /**
   * The invoice became past due, once: a sent invoice unpaid at its due date, or an
   * automatic charge's first failure (dunning's retries follow). Its subscription is
   * `past_due` by then.
   */
  onInvoicePastDue(scope: Scope, invoice: Invoice): void | Promise<void>;
  // payments
  /** A payment reached `succeeded` or `failed`. */
  onPaymentProcessed(scope: Scope, payment: Payment): void | Promise<void>;
  /** Ledger caught up with a provider: a customer's methods listed, or a reconcile pass. */
  onProviderSync(scope: Scope, provider: string, result: ProviderSyncResult): void | Promise<void>;
  /** A provider's webhook event was processed from the inbox (applied or ignored). */
  onWebhookReceived(scope: Scope, provider: string, received: WebhookReceived): void | Promise<void>;
}

/** What a provider sync found: the methods a customer added at the provider, or what a reconcile pass settled. */
export type ProviderSyncResult =
  | { customerId: string; added: PaymentMethod[] }
  | { reconciled: Payment[]; refunds: Refund[] };

/** A processed provider event: its ids, Ledger's reading of it, and what was done. */
export interface WebhookReceived {
  eventId: string;
  /** Ledger's event type (payment.succeeded, refund.updated …). */
  type: ProviderEvent['type'];
  /** The provider's own type (payment_intent.succeeded …). */
  providerType: string;
  outcome: WebhookOutcome;
  event: ProviderEvent;
}

/** Why a charge of an invoice failed: the provider's code and message, and the failed payment. */
export interface InvoicePaymentFailure {
  code: string | null;
  message: string | null;
  payment: Payment;
}

export type HookName = keyof LedgerHooks;

/** Every hook, in the order above: the registry and its tests iterate this list. */
export const HOOK_NAMES = [
  'onInit', 'onShutdown',
  'onCustomerCreated', 'onCustomerUpdated',
  'onPlanCreated', 'onPlanUpdated', 'onPlanArchived',
  'onFeatureCreated', 'onFeatureUpdated', 'onFeatureDeleted', 'onFeatureArchived',
  'onSubscriptionCreated', 'onSubscriptionChanged', 'onSubscriptionCanceled',
  'onSubscriptionCancelScheduled', 'onSubscriptionExpired', 'onSubscriptionTrialEnded',
  'onSubscriptionRenewed',
  'onUsageIngested', 'onUsageFlushed',
  'onEntitlementChecked', 'onQuotaExceeded', 'onSoftLimitReached',
  'onInvoiceGenerated', 'onInvoiceFinalized', 'onInvoicePaid', 'onInvoiceFailed',
  'onInvoiceVoided', 'onInvoicePastDue',
  'onPaymentProcessed', 'onProviderSync', 'onWebhookReceived',
] as const satisfies readonly HookName[];

/** A plugin: a name and any subset of the hooks. */
export type Plugin = { readonly name: string } & Partial<LedgerHooks>;
