import { apiKeyFromRequest } from '@/server/auth/request-auth';
import { parseMeterBody, summarize } from '@/server/http/meter-request';
import { isLedgerError } from '@/server/ledger';
import { getRuntime } from '@/server/runtime';
import { httpStatusFor } from '@/server/trpc/errors';

export const dynamic = 'force-dynamic';

/**
 * Usage events from product teams' backends. API key only (no cookies). Answers 202 only
 * once the events are committed, with one result per event: accepted, duplicate,
 * conflict or rejected (with the reason). 422 when no event of the batch could be
 * accepted; 400/413 for a malformed or oversized body (nothing written); 429 when the
 * metering buffer is full; 503 when the database cannot take the write.
 */
export async function POST(req: Request) {
  const rt = await getRuntime();
  const key = await apiKeyFromRequest(rt.database.db, req);
  if (!key) return Response.json({ error: 'a valid API key is required: Authorization: Bearer ldg_…' }, { status: 401 });

  const parsed = parseMeterBody(await req.text());
  if (!parsed.ok) return Response.json({ error: parsed.error, issues: parsed.issues }, { status: parsed.status });

  try {
    const results = await rt.ledger.meter.meterDurable(key.scope, parsed.events);
    const body = summarize(results);
    const status = body.rejected + body.conflicts === results.length ? 422 : 202;
    return Response.json(body, { status });
  } catch (e) {
    if (isLedgerError(e)) {
      const status = httpStatusFor(e.code);
      return Response.json({ error: e.message, code: e.code }, { status, headers: status === 429 ? { 'retry-after': '1' } : {} });
    }
    console.error('[meter] write failed', e);
    return Response.json({ error: 'usage could not be stored; nothing from this request was accepted, retry it' }, { status: 503, headers: { 'retry-after': '1' } });
  }
}
