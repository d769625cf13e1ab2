import { MAX_BATCH, parseMeterEvents, type MeterResult, type ParsedMeterEvent } from '../ledger';

/**
 * The body of `POST /api/meter`: one event, an array of events, or `{ "events": [...] }`.
 * Shape errors refuse the whole request (400) and name each field
 * (`events[3].quantity: …`); nothing is written.
 */
export type ParsedMeterBody =
  | { ok: true; events: ParsedMeterEvent[] }
  | { ok: false; status: 400 | 413; error: string; issues: { path: string; message: string }[] };

export function parseMeterBody(text: string): ParsedMeterBody {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, status: 400, error: 'the body is not valid JSON', issues: [] };
  }
  const events: unknown[] | null = Array.isArray(body)
    ? body
    : body && typeof body === 'object' && Array.isArray((body as { events?: unknown }).events)
      ? (body as { events: unknown[] }).events
      : body && typeof body === 'object'
        ? [body]
        : null;
  if (events === null) {
    return { ok: false, status: 400, error: 'expected an event object, an array of events or {"events": [...]}', issues: [] };
  }
  if (events.length === 0) return { ok: false, status: 400, error: 'the batch is empty', issues: [] };
  if (events.length > MAX_BATCH) {
    return { ok: false, status: 413, error: `a batch holds at most ${MAX_BATCH} events, got ${events.length}`, issues: [] };
  }
  const parsed = parseMeterEvents(events);
  if (!parsed.ok) {
    const issues = parsed.issues.map((i) => ({ path: `events[${i.index}].${i.path}`, message: i.message }));
    const shown = issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ');
    const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
    return { ok: false, status: 400, error: `invalid events: ${shown}${more}`, issues };
  }
  return { ok: true, events: parsed.events };
}

/** Counts by outcome, and the per-event results in request order. */
export function summarize(results: MeterResult[]) {
  const count = (s: string) => results.filter((r) => r.outcome.status === s).length;
  return {
    accepted: count('accepted'),
    duplicates: count('duplicate'),
    conflicts: count('conflict'),
    rejected: count('rejected'),
    results: results.map((r) => ({ idempotencyKey: r.idempotencyKey, ...r.outcome })),
  };
}
