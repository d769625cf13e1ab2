import type { Customer } from '../customer/types';
import type { Invoice } from '../invoice/types';
import type { Payment } from '../payment/types';
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
 * every one optional. All but onInit/onShutdown are called with the scope. Hooks run
 * after the operation has been stored; a hook that throws is logged and the billing
 * operation still succeeds.
 *
 * Which hooks fire today: engine, customer, plan, feature and subscription hooks. The
 * usage, entitlement, invoice and payment hooks are declared with their final names so
 * plugins can be written against them; they fire once metering (issue 3), invoicing
 * (issue 4) and payments land. Their payload types are `unknown` until then.
 * Payments (issue 8, first part) fire onPaymentProcessed, onInvoicePaid and
 * onInvoiceFailed from collecting an invoice (onInvoiceFailed on every failed attempt,
 * automatic or manual), onProviderSync from syncing a customer's methods,
 * onWebhookReceived for each provider event processed from the inbox, and
 * onInvoicePastDue from dunning (payment/dunning.ts). onInvoicePaid also fires for an
 * invoice finalized with nothing due.
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
  onUsageIngested(scope: Scope, events: readonly unknown[]): void | Promise<void>;
  onUsageFlushed(scope: Scope, count: number, elapsedMs: number): void | Promise<void>;
  // entitlements
  onEntitlementChecked(scope: Scope, result: unknown): void | Promise<void>;
  onQuotaExceeded(scope: Scope, result: unknown): void | Promise<void>;
  onSoftLimitReached(scope: Scope, result: unknown): void | Promise<void>;
  // invoices
  onInvoiceGenerated(scope: Scope, invoice: unknown): void | Promise<void>;
  onInvoiceFinalized(scope: Scope, invoice: unknown): void | Promise<void>;
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
  onProviderSync(scope: Scope, provider: string, result: unknown): void | Promise<void>;
  onWebhookReceived(scope: Scope, provider: string, payload: unknown): void | Promise<void>;
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
