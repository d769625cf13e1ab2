import { apiKeyFromRequest } from '../auth/request-auth';
import { errorResponse } from '../http/errors';
import { unauthorized } from '../http/unauthorized';
import { isLedgerError, notFound, parseId, type Scope } from '../ledger';
import { currentPortal, type PortalContext } from '../portal/session';
import type { Runtime } from '../runtime';
import { invoicePdf } from './load';

/**
 * Who asks for an invoice's PDF: a product team's backend with an API key (any invoice of
 * its scope), or someone signed in to the portal (the invoices of their customer only).
 */
export type PdfRequester = { kind: 'api_key'; scope: Scope } | { kind: 'portal'; portal: PortalContext };

/**
 * An API key when the request sends one (a wrong key is a wrong key: no falling back to
 * the portal's cookie), else the portal session; null for nobody.
 */
export async function requesterOf(
  rt: Runtime,
  req: Request,
  portalOf: () => Promise<PortalContext | null> = currentPortal,
): Promise<PdfRequester | null> {
  if (req.headers.has('authorization')) {
    const key = await apiKeyFromRequest(rt.database, req);
    return key ? { kind: 'api_key', scope: key.scope } : null;
  }
  const portal = await portalOf();
  return portal ? { kind: 'portal', portal } : null;
}

/**
 * `GET /api/invoices/<id>/pdf`. 401 for nobody; 400 for a malformed id; 404 for an
 * invoice of another scope or, to the portal, of another customer — never 403, which
 * would tell that the invoice exists. The PDF is private to its customer: never cached.
 */
export async function invoicePdfResponse(rt: Runtime, id: string, who: PdfRequester | null, now = new Date()): Promise<Response> {
  if (!who || (who.kind === 'portal' && who.portal.expiresAt !== null && who.portal.expiresAt <= now)) return unauthorized();
  const where = `GET /api/invoices/${encodeURIComponent(id)}/pdf`;
  try {
    const invoiceId = parseId('invoice', id);
    const scope = who.kind === 'api_key' ? who.scope : who.portal.scope;
    const invoice = await rt.ledger.invoices.get(scope, invoiceId);
    // The same answer as an id of another scope: the portal's customer learns nothing.
    if (who.kind === 'portal' && invoice.customerId !== who.portal.customerId) throw notFound('invoice', invoiceId);
    const { pdf, view } = await invoicePdf(rt.ledger, scope, invoice);
    return new Response(new Uint8Array(pdf), {
      headers: {
        'content-type': 'application/pdf',
        'content-length': String(pdf.length),
        'content-disposition': `attachment; filename="${view.filename}"`,
        'cache-control': 'private, no-store',
      },
    });
  } catch (e) {
    if (isLedgerError(e)) return errorResponse(e, where);
    throw e; // a bug: logged and answered 500 by apiRoute
  }
}
