import type { Scope } from '../types';
import { LEDGER_METADATA, type ProviderEvent } from './provider';

/**
 * Webhooks in: what the inbox holds. The normalized event itself is `ProviderEvent`
 * (provider.ts), which each adapter's `verifyWebhook` returns, with the object's
 * `LEDGER_METADATA` (scope and invoice). Processing never trusts the metadata alone: the
 * payment must be found in that scope, on that invoice, by the provider's id.
 */

/**
 * One more metadata key an adapter may write on a charge: its idempotency key. It finds
 * a payment whose provider id Ledger never recorded (the process died after the provider
 * charged and before the write), so the webhook settles it.
 */
export const LEDGER_IDEMPOTENCY_METADATA = 'ledger_idempotency_key';

/** The metadata a charge of `scope`'s invoice carries at the provider. */
export function chargeMetadata(scope: Scope, invoice: { id: string; customerId: string }, idempotencyKey: string): Record<string, string> {
  return {
    [LEDGER_METADATA.tenant]: scope.tenantId,
    [LEDGER_METADATA.app]: scope.appId,
    [LEDGER_METADATA.customer]: invoice.customerId,
    [LEDGER_METADATA.invoice]: invoice.id,
    [LEDGER_IDEMPOTENCY_METADATA]: idempotencyKey,
  };
}

/** What processing made of an event. */
export type WebhookOutcome = 'applied' | 'ignored';

/** One provider event in the inbox: stored once by (provider, event id). */
export interface WebhookEventRecord {
  provider: string;
  /** The provider's event id (`evt_…`). */
  eventId: string;
  /** The provider's own type (`payment_intent.succeeded`), or the normalized one. */
  type: string;
  /** The raw body as received. */
  payload: string;
  event: ProviderEvent;
  receivedAt: Date;
  processedAt: Date | null;
  outcome: WebhookOutcome | null;
  note: string | null;
  attempts: number;
  lastError: string | null;
  lockedUntil: Date | null;
  /** Known once processing found the object the event is about. */
  scope: Scope | null;
}

/** A new row: nothing processed yet. */
export function newInboxRecord(provider: string, event: ProviderEvent, type: string, payload: string, receivedAt: Date): WebhookEventRecord {
  return { provider, eventId: event.id, type, payload, event, receivedAt, processedAt: null, outcome: null, note: null, attempts: 0, lastError: null, lockedUntil: null, scope: null };
}

/** A webhook as a provider sends it: the raw body and the headers (the sandbox's own deliveries). */
export interface WebhookDelivery {
  body: string;
  headers: Record<string, string>;
}

