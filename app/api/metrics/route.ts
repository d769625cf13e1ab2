import { apiRoute, otherMethods } from '@/server/http/route';
import { metricsResponse } from '@/server/plugins/metrics/scrape';
import { getRuntime } from '@/server/runtime';

export const dynamic = 'force-dynamic';

/** `GET /api/metrics`: Prometheus text format (server/plugins/metrics/scrape.ts). */
export const GET = apiRoute('GET /api/metrics', async (req: Request) => {
  const rt = await getRuntime();
  return metricsResponse(req, rt.metrics, rt.env.LEDGER_METRICS_TOKEN);
});

// HEAD: Next.js answers it from GET.
export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods(['GET']);
