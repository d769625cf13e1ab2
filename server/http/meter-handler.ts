import { apiKeyFromRequest } from '../auth/request-auth';
import { isLedgerError } from '../ledger';
import type { Runtime } from '../runtime';
import { publicErrorOf } from '../trpc/errors';
import { readBodyCapped, refuseByHeaders } from './body';
import { jsonError } from './errors';
import { parseMeterBody, summarize } from './meter-request';
import { rateLimiterFor } from './rate-limit';
import { unauthorized } from './unauthorized';
import { isUnavailable } from './unavailable';

/**
 * Usage events from product teams' backends. API key only (no cookies). Answers 202 only
 * once the events are committed, with one result per event: accepted, duplicate,
 * conflict or rejected (with the reason). 422 when no event of the batch could be
 * accepted; 400 for a malformed body, 413 for one over the byte cap or over 1,000 events,
 * 415 for one that is not JSON (nothing written); 429 over the key's rate limit or when
 * the metering buffer is full; 503 when the database cannot take the write.
 */
export async function postMeter(rt: Runtime, req: Request): Promise<Response> {
  const maxBytes = rt.env.LEDGER_MAX_BODY_BYTES;
  const refused = refuseByHeaders(req, maxBytes, { requireJson: true });
  if (refused) return jsonError(refused.status, refused.code, refused.message);

  const key = await apiKeyFromRequest(rt.database, req);
  if (!key) return unauthorized();
  await rateLimiterFor(rt.env).consume(key.id);

  const body = await readBodyCapped(req, maxBytes);
  if (!body.ok) return jsonError(body.refusal.status, body.refusal.code, body.refusal.message);
  const parsed = parseMeterBody(body.text);
  if (!parsed.ok) {
    return jsonError(parsed.status, parsed.status === 413 ? 'payload_too_large' : 'invalid', parsed.error, { issues: parsed.issues });
  }

  try {
    const results = await rt.ledger.meter.meterDurable(key.scope, parsed.events);
    const summary = summarize(results);
    const status = summary.rejected + summary.conflicts === results.length ? 422 : 202;
    return Response.json(summary, { status });
  } catch (e) {
    if (isLedgerError(e)) {
      // limit_exceeded here is the metering buffer being full: worth a retry soon.
      const p = publicErrorOf(e)!;
      return jsonError(p.status, p.code, p.message, { issues: p.issues?.length ? p.issues : undefined, retryAfterS: p.status === 429 ? 1 : undefined });
    }
    if (!isUnavailable(e)) throw e; // a bug: logged, answered 500 (server/http/route.ts)
    // The write failed after the engine's retries. A statement holds all of the request's
    // events, so all or none were stored; if the last failure was a lost answer, all may
    // have been: resending is safe (stored events come back `duplicate`).
    return jsonError(503, 'unavailable', 'usage could not be stored: the database is unavailable; resend the request (events already stored come back as duplicates)', {
      retryAfterS: 1,
    });
  }
}
