import { postWebhook } from '@/server/http/webhook-handler';
import { apiRoute, otherMethods } from '@/server/http/route';
import { getRuntime } from '@/server/runtime';

export const dynamic = 'force-dynamic';

/**
 * `POST /api/webhooks/sandbox`, `/api/webhooks/stripe`, `/api/webhooks/paddle` (any
 * configured provider's name): provider webhooks in (server/http/webhook-handler.ts).
 * 404 for a provider this deployment has not configured.
 */
export const POST = apiRoute('POST /api/webhooks/[provider]', async (req: Request, ctx: { params: Promise<{ provider: string }> }) =>
  postWebhook(await getRuntime(), (await ctx.params).provider, req),
);

export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = otherMethods(['POST']);
