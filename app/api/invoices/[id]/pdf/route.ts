import { invoicePdfResponse, requesterOf } from '@/server/invoice-pdf/handler';
import { apiRoute, otherMethods } from '@/server/http/route';
import { getRuntime } from '@/server/runtime';

export const dynamic = 'force-dynamic';
// pdfkit runs on Node (it reads its font metrics from its package directory).
export const runtime = 'nodejs';

/** `GET /api/invoices/<id>/pdf`: the invoice as a PDF (server/invoice-pdf/handler.ts). */
export const GET = apiRoute('GET /api/invoices/[id]/pdf', async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const rt = await getRuntime();
  const { id } = await ctx.params;
  return invoicePdfResponse(rt, id, await requesterOf(rt, req));
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods(['GET']);
