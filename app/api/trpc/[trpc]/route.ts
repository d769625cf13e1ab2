import { apiRoute, otherMethods } from '@/server/http/route';
import { handleTrpc } from '@/server/http/trpc-handler';
import { getRuntime } from '@/server/runtime';

export const dynamic = 'force-dynamic';

/** The tRPC API for product teams (server/http/trpc-handler.ts). */
const handler = apiRoute('trpc', async (req: Request) => handleTrpc(await getRuntime(), req));

export { handler as GET, handler as POST };
export const { PUT, PATCH, DELETE, OPTIONS } = otherMethods(['GET', 'POST']);
