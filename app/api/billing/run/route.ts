import { postBillingRun } from '@/server/http/billing-run-handler';
import { apiRoute, otherMethods } from '@/server/http/route';
import { getRuntime } from '@/server/runtime';

export const dynamic = 'force-dynamic';

/** `POST /api/billing/run`: the billing cycle of the key's scope, now (server/http/billing-run-handler.ts). */
export const POST = apiRoute('POST /api/billing/run', async (req: Request) => postBillingRun(await getRuntime(), req));

export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = otherMethods(['POST']);
