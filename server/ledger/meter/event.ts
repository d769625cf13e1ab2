import { createHash } from 'node:crypto';
import type { Feature } from '../plan/types';
import { Dec, isId, newId, type CustomerId, type EventId } from '../types';
import { meterEventSchema, type MeterConfig, type UsageEvent } from './types';

/**
 * Turns one raw event into a stored-event shape, or says why it cannot be: the checks
 * that need no database (shape, quantity, time window). Customer and feature existence
 * are checked per batch by the caller.
 */
export type Checked = { ok: true; event: UsageEvent } | { ok: false; idempotencyKey: string | null; reason: string };

export function checkEvent(raw: unknown, now: Date, config: MeterConfig): Checked {
  const r = meterEventSchema.safeParse(raw);
  const key =
    raw && typeof raw === 'object' && typeof (raw as { idempotencyKey?: unknown }).idempotencyKey === 'string'
      ? (raw as { idempotencyKey: string }).idempotencyKey
      : null;
  if (!r.success) {
    const reason = r.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ');
    return { ok: false, idempotencyKey: key, reason };
  }
  const e = r.data;
  if (!isId('customer', e.customerId)) return { ok: false, idempotencyKey: key, reason: `customerId: "${e.customerId}" is not a customer id (cst_…)` };
  if (e.id !== undefined && !isId('event', e.id)) return { ok: false, idempotencyKey: key, reason: `id: "${e.id}" is not an event id (evt_…)` };
  const age = now.getTime() - e.timestamp.getTime();
  if (age > config.graceMs) {
    return { ok: false, idempotencyKey: key, reason: `timestamp: older than the ${Math.round(config.graceMs / 86_400_000)}-day grace window` };
  }
  if (-age > config.futureToleranceMs) {
    return { ok: false, idempotencyKey: key, reason: `timestamp: more than ${Math.round(config.futureToleranceMs / 60_000)} minutes in the future` };
  }
  const quantity = new Dec(e.quantity).toString();
  const properties = e.properties;
  const payloadHash = createHash('sha256')
    .update(
      JSON.stringify([e.customerId, e.featureKey, quantity, e.timestamp.toISOString(), Object.entries(properties).sort(([a], [b]) => (a < b ? -1 : 1))]),
    )
    .digest('base64url');
  return {
    ok: true,
    event: {
      id: (e.id as EventId | undefined) ?? newId('event'),
      idempotencyKey: e.idempotencyKey,
      customerId: e.customerId as CustomerId,
      featureKey: e.featureKey,
      quantity,
      timestamp: e.timestamp,
      properties,
      distinctValue: null,
      payloadHash,
    },
  };
}

/** The value a unique_count feature counts, or null when the event lacks it. */
export function distinctValueFor(feature: Feature, event: UsageEvent): string | null {
  if (feature.kind !== 'metered' || feature.aggregation !== 'unique_count' || !feature.uniqueProperty) return null;
  const v = event.properties[feature.uniqueProperty];
  return v === undefined || v === null ? null : String(v);
}
