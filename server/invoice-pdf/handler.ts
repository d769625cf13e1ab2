import { apiKeyFromRequest } from '../auth/request-auth';
import { errorResponse } from '../http/errors';
import { unauthorized } from '../http/unauthorized';
import { isLedgerError, notFound, parseId, type InvoiceDocument, type Scope } from '../ledger';
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
    // An invoice formatter given to the engine makes the document (its own PDF, HTML, CSV …).
    const formatter = rt.ledger.invoices.formatter;
    if (formatter?.render) return documentResponse(await formatter.render(scope, invoice));
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

/** A formatter's document as the answer: its content type, as an attachment, never cached. */
function documentResponse(doc: InvoiceDocument): Response {
  const body = typeof doc.body === 'string' ? new TextEncoder().encode(doc.body) : doc.body;
  // The filename goes into a header: keep it to safe characters.
  const filename = doc.filename.replace(/[^A-Za-z0-9._-]/g, '_') || 'invoice';
  return new Response(new Uint8Array(body), {
    headers: {
      'content-type': doc.contentType,
      'content-length': String(body.length),
      'content-disposition': `attachment; filename="${filename}"`,
      'cache-control': 'private, no-store',
      'x-content-type-options': 'nosniff',
    },
  });
}
