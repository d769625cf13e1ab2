import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EntitlementCheck, Invoice, Ledger, Payment, Plugin, Scope, UsageEvent, UsageObserver, WebhookReceived } from '../../ledger';
import { CheckTally, type TimedCheck } from './check-tally';
import { processRegistry } from './process-metrics';
import { metricsSink, setMetricsSink, type MetricsSink, type WebhookDeliveryOutcome } from './recorder';

export interface MetricsPluginOptions {
  /** Label engine metrics with `tenant` and `app` (LEDGER_METRICS_TENANT_LABELS=1). Off: no label grows with the number of customers of Ledger. */
  tenantLabels?: boolean;
  /** Include Node's default metrics (one set per process) in `metrics()`. Default true. */
  defaultMetrics?: boolean;
}

/** The metrics plugin: engine hooks, plus what the app records through the process-wide sink. */
export interface MetricsPlugin extends Plugin {
  /** This plugin's own metrics (not prom-client's global registry: two engines in one process do not collide). */
  readonly registry: Registry;
  /** Receives what server/plugins/metrics/recorder.ts records; install it with `installSink()`. */
  readonly sink: MetricsSink;
  /** Makes this plugin the process's sink (requests, database and Redis errors, webhook deliveries); undone at the engine's shutdown. */
  installSink(): void;
  /** Gauges read from the engine when scraped (buffered usage, Redis health). */
  attach(ledger: Pick<Ledger, 'meter' | 'entitlements'>): void;
  /** The Prometheus text format: this plugin's metrics and Node's default metrics. */
  metrics(): Promise<string>;
  readonly contentType: string;
}

/** Outcomes of metered events besides `accepted` (a proposed UsageObserver.onRefused reports them). */
type RefusedOutcome = 'duplicate' | 'conflict' | 'rejected';

type InvoiceState = 'finalized' | 'paid' | 'voided' | 'past_due' | 'payment_failed';

const statusClass = (status: number) => (status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other');

export function createMetricsPlugin(options: MetricsPluginOptions = {}): MetricsPlugin {
  const tenantLabels = options.tenantLabels ?? false;
  const withDefaults = options.defaultMetrics ?? true;
  const registry = new Registry();
  const registers = [registry];
  const scoped = (names: string[]) => (tenantLabels ? [...names, 'tenant', 'app'] : names);
  /** Labels plus tenant and app when asked for. */
  const labelsOf = <L extends Record<string, string>>(scope: Scope, labels: L): L =>
    tenantLabels ? { ...labels, tenant: scope.tenantId, app: scope.appId } : labels;

  // --- metering ------------------------------------------------------------------------
  const meterEvents = new Counter({
    name: 'ledger_meter_events_total',
    help: 'Usage events metered, by outcome: accepted (stored once), duplicate, conflict (same key, other payload), rejected.',
    labelNames: scoped(['outcome']),
    registers,
  });
  const batchSize = new Histogram({
    name: 'ledger_usage_batch_events',
    help: 'Events committed per usage batch write.',
    labelNames: scoped([]),
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000],
    registers,
  });
  const batchSeconds = new Histogram({
    name: 'ledger_usage_batch_write_seconds',
    help: 'Time to write one usage batch (checks, retries and the commit).',
    labelNames: scoped([]),
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  let attached: Pick<Ledger, 'meter' | 'entitlements'> | null = null;
  new Gauge({
    name: 'ledger_meter_buffered_events',
    help: 'Usage events held in this process, not yet committed.',
    registers,
    collect() {
      if (attached) this.set(attached.meter.buffered);
    },
  });

  // --- entitlements --------------------------------------------------------------------
  const checks = new CheckTally(tenantLabels);
  new Counter({
    name: 'ledger_entitlement_checks_total',
    help: 'Entitlement checks answered, by cache (hit, miss; unknown when the engine does not say), answer (allowed, denied) and reason.',
    labelNames: scoped(['cache', 'answer', 'reason']),
    registers,
    collect() {
      // Counted in plain numbers on the hot path (check-tally.ts), copied here when scraped.
      this.reset();
      for (const r of checks.rows()) {
        const labels = { cache: r.cache, answer: r.allowed ? 'allowed' : 'denied', reason: r.reason };
        this.inc(tenantLabels ? { ...labels, tenant: r.tenant, app: r.app } : labels, r.n);
      }
    },
  });
  const checkSeconds = new Histogram({
    name: 'ledger_entitlement_check_duration_seconds',
    help: 'Time from an entitlement check to its answer, for the checks the engine times (misses: the customer read from the store or Redis).',
    labelNames: scoped(['cache']),
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  });
  const quotaExceeded = new Counter({
    name: 'ledger_entitlement_quota_exceeded_total',
    help: 'Metered limits reached: the first denied check per customer, feature and period.',
    labelNames: scoped([]),
    registers,
  });

  // --- invoices and payments -------------------------------------------------------------
  const invoices = new Counter({
    name: 'ledger_invoices_total',
    help: 'Invoice state changes: finalized, paid, voided, past_due, payment_failed.',
    labelNames: scoped(['state']),
    registers,
  });
  const invoiceAmounts = new Counter({
    name: 'ledger_invoice_amount_minor_total',
    help: "Invoice amounts by state change, in the currency's minor units: the total when finalized, paid or voided; the amount due when past due or a charge failed.",
    labelNames: scoped(['state', 'currency']),
    registers,
  });
  const payments = new Counter({
    name: 'ledger_payments_total',
    help: 'Payments that reached succeeded or failed, by provider.',
    labelNames: scoped(['status', 'provider']),
    registers,
  });
  const paymentAmounts = new Counter({
    name: 'ledger_payment_amount_minor_total',
    help: "Amounts of payments that reached succeeded or failed, in the currency's minor units.",
    labelNames: scoped(['status', 'currency']),
    registers,
  });
  const providerWebhooks = new Counter({
    name: 'ledger_provider_webhooks_total',
    help: "Payment providers' webhook events processed from the inbox, by provider and outcome (applied, ignored).",
    labelNames: scoped(['provider', 'outcome']),
    registers,
  });

  // --- recorded by the app through the process-wide sink (recorder.ts) -------------------
  const httpSeconds = new Histogram({
    name: 'ledger_http_request_duration_seconds',
    help: 'Time to answer an /api request, by route (its name in the code), method and status class.',
    labelNames: ['route', 'method', 'status_class'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const dependencyErrors = new Counter({
    name: 'ledger_dependency_errors_total',
    help: 'Errors from the database (kind: connection, transient, unavailable) or Redis (kind: unavailable, command), where they are caught.',
    labelNames: ['dependency', 'kind'],
    registers,
  });
  const webhookDeliveries = new Counter({
    name: 'ledger_webhook_deliveries_total',
    help: 'Outbound webhook delivery attempts, by outcome: delivered (2xx), failed (another status), timeout, error.',
    labelNames: ['outcome'],
    registers,
  });
  const webhookSeconds = new Histogram({
    name: 'ledger_webhook_delivery_duration_seconds',
    help: 'Time of one outbound webhook delivery attempt, by outcome.',
    labelNames: ['outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers,
  });

  const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
  const sink: MetricsSink = {
    httpRequest(route, method, status, seconds) {
      // The method comes from the client: any other word is one label value, not many.
      httpSeconds.observe({ route, method: HTTP_METHODS.has(method) ? method : 'other', status_class: statusClass(status) }, seconds);
    },
    dependencyError(dependency, kind) {
      dependencyErrors.inc({ dependency, kind });
    },
    webhookDelivery(outcome: WebhookDeliveryOutcome, seconds) {
      webhookDeliveries.inc({ outcome });
      webhookSeconds.observe({ outcome }, seconds);
    },
  };

  const invoiceChanged = (scope: Scope, state: InvoiceState, invoice: Invoice, amount: number) => {
    invoices.inc(labelsOf(scope, { state }));
    // A counter only goes up: a negative total (a credit invoice) is not added.
    if (amount > 0) invoiceAmounts.inc(labelsOf(scope, { state, currency: invoice.currency.toUpperCase() }), amount);
  };

  return {
    name: 'metrics',
    registry,
    sink,
    contentType: registry.contentType,

    installSink() {
      setMetricsSink(sink);
    },

    attach(ledger) {
      if (attached) throw new Error('the metrics plugin is attached to an engine already');
      attached = ledger;
      if (ledger.entitlements.redisHealthy !== null) {
        new Gauge({
          name: 'ledger_redis_healthy',
          help: 'Whether the Redis behind shared usage counters and invalidations answers (1) or not (0).',
          registers,
          collect() {
            this.set(ledger.entitlements.redisHealthy ? 1 : 0);
          },
        });
      }
      // Duplicates, conflicts and rejections are known only inside metering: an observer
      // hears them once the engine reports them (the proposed onRefused, issue 10's report).
      const observer: UsageObserver & { onRefused(scope: Scope, outcome: RefusedOutcome, count: number): void } = {
        onRefused(scope, outcome, count) {
          meterEvents.inc(labelsOf(scope, { outcome }), count);
        },
      };
      ledger.meter.observe(observer);
    },

    async metrics() {
      const source = withDefaults ? Registry.merge([processRegistry(), registry]) : registry;
      return source.metrics();
    },

    onShutdown() {
      if (metricsSink() === sink) setMetricsSink(null);
    },

    // The hot path: a plain tally (check-tally.ts); nothing here awaits or allocates labels.
    onEntitlementChecked(scope: Scope, check: EntitlementCheck) {
      checks.add(scope, check);
      const elapsedMs = (check as TimedCheck).elapsedMs;
      if (elapsedMs !== undefined) checkSeconds.observe(labelsOf(scope, { cache: (check as TimedCheck).cache ?? 'unknown' }), elapsedMs / 1000);
    },
    onQuotaExceeded(scope: Scope) {
      quotaExceeded.inc(labelsOf(scope, {}));
    },
    onUsageIngested(scope: Scope, events: readonly UsageEvent[]) {
      meterEvents.inc(labelsOf(scope, { outcome: 'accepted' }), events.length);
    },
    onUsageFlushed(scope: Scope, count: number, elapsedMs: number) {
      const labels = labelsOf(scope, {});
      batchSize.observe(labels, count);
      batchSeconds.observe(labels, elapsedMs / 1000);
    },
    onInvoiceFinalized(scope: Scope, invoice: Invoice) {
      invoiceChanged(scope, 'finalized', invoice, invoice.total);
    },
    onInvoicePaid(scope: Scope, invoice: Invoice) {
      invoiceChanged(scope, 'paid', invoice, invoice.total);
    },
    onInvoiceVoided(scope: Scope, invoice: Invoice) {
      invoiceChanged(scope, 'voided', invoice, invoice.total);
    },
    onInvoicePastDue(scope: Scope, invoice: Invoice) {
      invoiceChanged(scope, 'past_due', invoice, invoice.amountDue);
    },
    onInvoiceFailed(scope: Scope, invoice: Invoice) {
      invoiceChanged(scope, 'payment_failed', invoice, invoice.amountDue);
    },
    onPaymentProcessed(scope: Scope, payment: Payment) {
      payments.inc(labelsOf(scope, { status: payment.status, provider: payment.provider }));
      paymentAmounts.inc(labelsOf(scope, { status: payment.status, currency: payment.currency.toUpperCase() }), payment.amount);
    },
    onWebhookReceived(scope: Scope, provider: string, received: WebhookReceived) {
      providerWebhooks.inc(labelsOf(scope, { provider, outcome: received.outcome }));
    },
  };
}
