import { MAX_BATCH, meterEventSchema, type MeterResult } from '../ledger';

/**
 * The body of `POST /api/meter`: one event, an array of events, or `{ "events": [...] }`.
 * Shape errors refuse the whole request (400) and name each field
 * (`events[3].quantity: …`); nothing is written.
 */
export type ParsedMeterBody =
  | { ok: true; events: unknown[] }
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
  const issues: { path: string; message: string }[] = [];
  events.forEach((e, i) => {
    const r = meterEventSchema.safeParse(e);
    if (!r.success) {
      for (const issue of r.error.issues) issues.push({ path: `events[${i}].${issue.path.join('.')}`, message: issue.message });
    }
  });
  if (issues.length > 0) {
    const shown = issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ');
    const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
    return { ok: false, status: 400, error: `invalid events: ${shown}${more}`, issues };
  }
  return { ok: true, events };
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
