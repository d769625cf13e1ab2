import { postMeter } from '@/server/http/meter-handler';
import { apiRoute, otherMethods } from '@/server/http/route';
import { getRuntime } from '@/server/runtime';

export const dynamic = 'force-dynamic';

/** `POST /api/meter`: usage events (server/http/meter-handler.ts). */
export const POST = apiRoute('POST /api/meter', async (req: Request) => postMeter(await getRuntime(), req));

export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = otherMethods(['POST']);
