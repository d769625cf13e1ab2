import { isLedgerError } from '../ledger';
import type { Runtime } from '../runtime';
import { readBodyCapped, refuseByHeaders } from './body';
import { jsonError } from './errors';

const PROVIDER_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/**
 * Webhooks from payment providers (`POST /api/webhooks/<provider>`: sandbox, stripe,
 * paddle, or a custom provider's name). No API key, no cookies: the provider's signature
 * over the raw body is the only credential. The body is read raw and capped
 * (LEDGER_MAX_BODY_BYTES), then the provider's adapter verifies it, and each event is
 * stored once in the inbox before the answer; processing follows from the inbox.
 * - 200 `{ received: true, events: [{ id, type, duplicate }] }`: stored now, or already
 *   (a duplicate or a replay: no effect); an event type Ledger does not act on is stored
 *   and ignored.
 * - 400 `invalid`: a missing or bad signature, a stale timestamp, or a signed body that
 *   is malformed (the message says which): nothing stored.
 * - 404 `not_found`: no provider of that name is configured in this deployment (never a
 *   pretend 200: the provider retries, and the operator sees it).
 * - 413 for a body over the cap; 503 when the database cannot store the event (the
 *   provider retries).
 */
export async function postWebhook(rt: Runtime, providerName: string, req: Request): Promise<Response> {
  if (!PROVIDER_NAME.test(providerName) || !rt.ledger.webhooks.has(providerName)) {
    return jsonError(404, 'not_found', `no payment provider "${providerName.slice(0, 40)}" is configured in this deployment, so its webhooks are not accepted here`);
  }
  const maxBytes = rt.env.LEDGER_MAX_BODY_BYTES;
  const refused = refuseByHeaders(req, maxBytes, { requireJson: false });
  if (refused) return jsonError(refused.status, refused.code, refused.message);
  const body = await readBodyCapped(req, maxBytes);
  if (!body.ok) return jsonError(body.refusal.status, body.refusal.code, body.refusal.message);

  const headers: Record<string, string> = {};
  req.headers.forEach((value, name) => (headers[name.toLowerCase()] = value));
  try {
    const receipt = await rt.ledger.webhooks.receive(providerName, body.text, headers);
    return Response.json({ received: true, events: receipt.events }, { status: 200, headers: { 'cache-control': 'no-store' } });
  } catch (e) {
    if (isLedgerError(e) && e.code === 'invalid') {
      return jsonError(400, 'invalid', `webhook refused, nothing stored: ${e.message}`, { issues: e.issues.length ? e.issues : undefined });
    }
    throw e; // apiRoute answers: 503 with the database down, 500 for a bug
  }
}
