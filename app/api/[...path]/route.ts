import { jsonError } from '@/server/http/errors';
import { apiRoute } from '@/server/http/route';

export const dynamic = 'force-dynamic';

/** Any `/api` path no route serves: a JSON 404, whatever the method (HEAD: no body). */
const notFound = apiRoute('404', (req: Request) =>
  req.method === 'HEAD'
    ? new Response(null, { status: 404 })
    : jsonError(404, 'not_found', `no API route at ${new URL(req.url).pathname}`),
);

export { notFound as GET, notFound as HEAD, notFound as POST, notFound as PUT, notFound as PATCH, notFound as DELETE, notFound as OPTIONS };
