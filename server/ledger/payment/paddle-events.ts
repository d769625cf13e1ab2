import type {
  AdjustmentNotification,
  CustomerNotification,
  EventEntity,
  PaymentMethodDeletedNotification,
  PaymentMethodNotification,
  TransactionNotification,
} from '@paddle/paddle-node-sdk';
import type { ScopeMode } from '../scope/store';
import type { ProviderEvent, ProviderEventBase, ProviderMethod } from './provider';

/**
 * Paddle's notifications in Ledger's terms (types only from the SDK: the provider loads
 * it). Paddle events carry no live/test flag: an endpoint's environment is its mode.
 *
 * - `transaction.paid`, `transaction.completed` → `payment.succeeded` (both come for one
 *   transaction; the second moves nothing).
 * - `transaction.payment_failed` while the transaction still waits at checkout (`draft`,
 *   `ready`, `billed`) → `payment.requires_action` at its checkout URL, not a failure: at
 *   Paddle's checkout the customer may try another card on the same transaction, and a
 *   Ledger payment marked failed could not take the success that follows (payments move
 *   forward only). When the transaction is `past_due` or `canceled` it is a
 *   `payment.failed`, as are `transaction.past_due` and `transaction.canceled`.
 * - `adjustment.created`/`adjustment.updated` of a refund → `refund.updated` (Paddle's
 *   `approved` → `succeeded`, `pending_approval` → `pending`, `rejected` → `failed`,
 *   `reversed` → `canceled`); a chargeback's `adjustment.created` → `dispute.created`.
 * - `payment_method.saved` → `method.attached` (its card read from Paddle: the
 *   notification has none), `payment_method.deleted` → `method.detached`.
 * - `customer.updated` to `archived` → `customer.deleted` (Paddle archives, never deletes).
 * Everything else is `ignored`.
 */

/**
 * Ledger's reference to a Paddle payment method: Paddle's API reaches a method only
 * through its customer (`/customers/{ctm}/payment-methods/{paymtd}`), so the reference
 * holds both.
 */
export const paddleMethodRef = (customerId: string, methodId: string) => `${customerId}/${methodId}`;

export function parsePaddleMethodRef(ref: string): { customerId: string; methodId: string } | null {
  const m = /^(ctm_[A-Za-z0-9]+)\/(paymtd_[A-Za-z0-9]+)$/.exec(ref);
  return m ? { customerId: m[1]!, methodId: m[2]! } : null;
}

/**
 * Paddle's card types as the brand names Ledger records elsewhere (Stripe's and the
 * sandbox's: `amex`, not `american_express`), so a portal shows one name per brand.
 */
const BRANDS: Record<string, string> = { american_express: 'amex', diners_club: 'diners', union_pay: 'unionpay' };
export const paddleBrand = (cardType: string) => BRANDS[cardType] ?? cardType;

/** custom_data as metadata: string values only (what Ledger wrote is all strings). */
export function metadataOf(data: Record<string, unknown> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The event types normalized to something other than `ignored` (for some of their objects). */
export const PADDLE_HANDLED_EVENTS: ReadonlySet<string> = new Set([
  'transaction.paid',
  'transaction.completed',
  'transaction.payment_failed',
  'transaction.past_due',
  'transaction.canceled',
  'adjustment.created',
  'adjustment.updated',
  'payment_method.saved',
  'payment_method.deleted',
  'customer.updated',
]);

const REFUND_STATUS: Record<string, string> = { approved: 'succeeded', pending_approval: 'pending', rejected: 'failed', reversed: 'canceled' };

/** Reads a saved method's card from Paddle; null when it is gone or not a card. */
export type ReadPaddleMethod = (customerId: string, methodId: string) => Promise<ProviderMethod | null>;

export async function normalizePaddleEvent(event: EventEntity, mode: ScopeMode, readMethod: ReadPaddleMethod): Promise<ProviderEvent> {
  const base = (metadata: Record<string, string> = {}): ProviderEventBase => ({ id: event.eventId, providerType: event.eventType, mode, metadata });
  const ignored = (metadata?: Record<string, string>): ProviderEvent => ({ ...base(metadata), type: 'ignored' });
  switch (event.eventType) {
    case 'transaction.paid':
    case 'transaction.completed': {
      const t = event.data as TransactionNotification;
      return { ...base(metadataOf(t.customData)), type: 'payment.succeeded', providerPaymentId: t.id };
    }
    case 'transaction.payment_failed':
    case 'transaction.past_due':
    case 'transaction.canceled': {
      const t = event.data as TransactionNotification;
      const metadata = metadataOf(t.customData);
      const waiting = t.status === 'draft' || t.status === 'ready' || t.status === 'billed';
      if (event.eventType === 'transaction.payment_failed' && waiting) {
        return t.checkout?.url ? { ...base(metadata), type: 'payment.requires_action', providerPaymentId: t.id, url: t.checkout.url } : ignored(metadata);
      }
      if (event.eventType === 'transaction.canceled' || t.status === 'canceled') {
        return { ...base(metadata), type: 'payment.failed', providerPaymentId: t.id, code: 'canceled', reason: 'The Paddle transaction was canceled.' };
      }
      const code = [...t.payments].reverse().find((p) => p.errorCode)?.errorCode ?? 'payment_failed';
      return { ...base(metadata), type: 'payment.failed', providerPaymentId: t.id, code, reason: `Paddle could not collect the payment (${code}).` };
    }
    case 'adjustment.created':
    case 'adjustment.updated': {
      const a = event.data as AdjustmentNotification;
      if (a.action === 'refund') {
        return { ...base(), type: 'refund.updated', providerRefundId: a.id, providerPaymentId: a.transactionId ?? null, status: REFUND_STATUS[a.status] ?? a.status };
      }
      if (a.action === 'chargeback' && event.eventType === 'adjustment.created') {
        return { ...base(), type: 'dispute.created', providerDisputeId: a.id, providerPaymentId: a.transactionId ?? null, reason: a.reason };
      }
      return ignored();
    }
    case 'payment_method.saved': {
      const pm = event.data as PaymentMethodNotification;
      const method = await readMethod(pm.customerId, pm.id);
      return method ? { ...base(), type: 'method.attached', providerCustomerId: pm.customerId, method } : ignored();
    }
    case 'payment_method.deleted': {
      const pm = event.data as PaymentMethodDeletedNotification;
      // Paddle says which method is gone, not its card: the details stay as Ledger recorded them.
      const method: ProviderMethod = { providerRef: paddleMethodRef(pm.customerId, pm.id), brand: pm.type, last4: '', expMonth: 0, expYear: 0 };
      return { ...base(), type: 'method.detached', providerCustomerId: pm.customerId, method };
    }
    case 'customer.updated': {
      const c = event.data as CustomerNotification;
      return c.status === 'archived' ? { ...base(metadataOf(c.customData)), type: 'customer.deleted', providerCustomerId: c.id } : ignored(metadataOf(c.customData));
    }
    default:
      return ignored();
  }
}
