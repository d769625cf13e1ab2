import type { z } from 'zod';
import type { Feature } from '../plan/types';
import { Dec, isStorableText, newId, type CustomerId, type EventId } from '../types';
import { EVENT_LIMITS, meterEventSchema, type MeterConfig, type UsageEvent, type UsagePayload } from './types';

/**
 * Events whose shape was checked by `parseMeterEvents` carry this mark, so that an HTTP
 * route that must refuse a malformed batch before metering it (400) does not have the
 * meter parse every event a second time. Marked events are frozen: what was checked is
 * what is metered. (`Symbol.for`: Next.js may load this module once per bundle.)
 */
const PARSED = Symbol.for('ledger.parsedMeterEvent');
export type ParsedMeterEvent = Readonly<z.output<typeof meterEventSchema>> & { readonly [PARSED]: true };

export interface EventIssue {
  index: number;
  path: string;
  message: string;
}

/** Checks the shape of every event; all of them, or the issues of the bad ones. */
export function parseMeterEvents(
  raw: readonly unknown[],
): { ok: true; events: ParsedMeterEvent[] } | { ok: false; issues: EventIssue[] } {
  const events: ParsedMeterEvent[] = [];
  const issues: EventIssue[] = [];
  raw.forEach((e, index) => {
    const r = meterEventSchema.safeParse(e);
    if (r.success) {
      events.push(markParsed(r.data));
    } else {
      for (const i of r.error.issues) issues.push({ index, path: i.path.join('.'), message: i.message });
    }
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, events };
}

/**
 * Marks the output of `meterEventSchema` (parsed by a caller's own schema, as tRPC's
 * `usage.record` does) so the meter does not parse it again. Frozen, as above.
 */
export function markParsed(event: z.output<typeof meterEventSchema>): ParsedMeterEvent {
  Object.freeze(event.properties);
  return Object.freeze({ ...event, [PARSED]: true as const });
}

const isParsed = (raw: unknown): raw is ParsedMeterEvent =>
  typeof raw === 'object' && raw !== null && (raw as { [PARSED]?: boolean })[PARSED] === true && Object.isFrozen(raw);

/**
 * The idempotency key of an event that failed its check, to answer with: only a key
 * that is itself valid (a 1 MB or a NUL-bearing key is not echoed back).
 */
function keyOf(raw: unknown): string | null {
  const k = raw && typeof raw === 'object' ? (raw as { idempotencyKey?: unknown }).idempotencyKey : undefined;
  return typeof k === 'string' && k.length > 0 && k.length <= EVENT_LIMITS.idempotencyKey && isStorableText(k) ? k : null;
}

/**
 * Turns one raw event into a stored-event shape, or says why it cannot be: the checks
 * that need no database (shape, quantity, time window). Customer and feature existence
 * are checked per batch by the caller.
 */
export type Checked =
  /** `callerId`: the caller gave the event's id (else it was made here, unique to this event). */
  | { ok: true; event: UsageEvent; callerId: boolean }
  | { ok: false; idempotencyKey: string | null; reason: string };

export function checkEvent(raw: unknown, now: Date, config: MeterConfig): Checked {
  const r = isParsed(raw) ? ({ success: true, data: raw } as const) : meterEventSchema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues;
    const shown = issues.slice(0, 5).map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ');
    const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
    return { ok: false, idempotencyKey: keyOf(raw), reason: shown + more };
  }
  const e = r.data;
  const key = e.idempotencyKey;
  const age = now.getTime() - e.timestamp.getTime();
  if (age > config.graceMs) {
    return { ok: false, idempotencyKey: key, reason: `timestamp: older than the ${Math.round(config.graceMs / 86_400_000)}-day grace window` };
  }
  if (-age > config.futureToleranceMs) {
    return { ok: false, idempotencyKey: key, reason: `timestamp: more than ${Math.round(config.futureToleranceMs / 60_000)} minutes in the future` };
  }
  const quantity = new Dec(e.quantity).toString();
  const properties = e.properties;
  return {
    ok: true,
    callerId: e.id !== undefined,
    event: {
      id: (e.id as EventId | undefined) ?? newId('event'),
      idempotencyKey: e.idempotencyKey,
      customerId: e.customerId as CustomerId,
      featureKey: e.featureKey,
      quantity,
      timestamp: e.timestamp,
      properties,
      distinctValue: null,
    },
  };
}

/** The value a unique_count feature counts, or null when the event lacks it. */
export function distinctValueFor(feature: Feature, event: UsageEvent): string | null {
  if (feature.kind !== 'metered' || feature.aggregation !== 'unique_count' || !feature.uniqueProperty) return null;
  const v = event.properties[feature.uniqueProperty];
  return v === undefined || v === null ? null : String(v);
}

/**
 * Whether two events carry the same payload: customer, feature, quantity (as a decimal:
 * "2.50" is 2.5), timestamp (to the millisecond) and properties (whatever their order).
 */
export function samePayload(a: UsagePayload, b: UsagePayload): boolean {
  return (
    a.customerId === b.customerId &&
    a.featureKey === b.featureKey &&
    a.timestamp.getTime() === b.timestamp.getTime() &&
    new Dec(a.quantity).eq(b.quantity) &&
    canonical(a.properties) === canonical(b.properties)
  );
}

const canonical = (p: UsagePayload['properties']) =>
  JSON.stringify(Object.keys(p).sort().map((k) => [k, p[k]]));
