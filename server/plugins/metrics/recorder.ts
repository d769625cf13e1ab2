/**
 * The process-wide seam between code outside the engine (the HTTP wrapper, the database
 * guard, outbound webhook delivery) and the metrics plugin. Callers record facts through
 * the functions below; they cost a property read and nothing else while no plugin listens.
 *
 * This module imports nothing (prom-client stays out of every route's bundle), and the
 * sink lives on globalThis: Next.js bundles route handlers and instrumentation
 * separately, so a module-level variable would be one per bundle, and the plugin set by
 * the runtime would be invisible to the routes.
 */

/** How a request, a dependency or a delivery went, in bounded words. */
export interface MetricsSink {
  /** One answered `/api` request: the route's name (as given to apiRoute), the method, the status and the seconds it took. */
  httpRequest(route: string, method: string, status: number, seconds: number): void;
  /** An error from a dependency: `database` (kind `connection`, `transient`, `unavailable`) or `redis` (kind `unavailable`, `command`). */
  dependencyError(dependency: 'database' | 'redis', kind: string): void;
  /** One outbound webhook delivery attempt: its outcome and the seconds it took. */
  webhookDelivery(outcome: WebhookDeliveryOutcome, seconds: number): void;
}

/**
 * An outbound webhook attempt: `delivered` (2xx), `failed` (another status), `timeout`
 * (no answer in time), `error` (refused before or during the request: DNS, TLS, SSRF
 * guard, connection reset).
 */
export type WebhookDeliveryOutcome = 'delivered' | 'failed' | 'timeout' | 'error';

const SINK = Symbol.for('ledger.metrics-sink');
type Holder = { [SINK]?: MetricsSink | null };

/** Installs (or, with null, removes) the sink; the metrics plugin of the app's engine does it. */
export function setMetricsSink(sink: MetricsSink | null): void {
  (globalThis as Holder)[SINK] = sink;
}

export function metricsSink(): MetricsSink | null {
  return (globalThis as Holder)[SINK] ?? null;
}

/** Records an answered request (server/http/route.ts calls it for every `/api` route). */
export function recordHttpRequest(route: string, method: string, status: number, seconds: number): void {
  (globalThis as Holder)[SINK]?.httpRequest(route, method, status, seconds);
}

/** Records a database or Redis error where one is caught. */
export function recordDependencyError(dependency: 'database' | 'redis', kind: string): void {
  (globalThis as Holder)[SINK]?.dependencyError(dependency, kind);
}

/**
 * Records one outbound webhook delivery attempt, for the outbound webhook plugin to call
 * after each attempt: `recordWebhookDelivery('delivered', 0.042)`.
 */
export function recordWebhookDelivery(outcome: WebhookDeliveryOutcome, seconds: number): void {
  (globalThis as Holder)[SINK]?.webhookDelivery(outcome, seconds);
}
