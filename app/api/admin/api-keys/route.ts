import { adminRoute } from '@/server/admin-routes';
import { createKey, listKeys } from '@/server/api-key-admin';
import { otherMethods } from '@/server/http/route';

export const dynamic = 'force-dynamic';

/**
 * API keys, for `npm run apikey` while the app holds the embedded database (server/admin.ts).
 *   GET  ?tenant=T&app=A                    → 200 { items: [{ id, name, prefix, createdAt, revokedAt }] }
 *   POST { tenant, app, name?, mode? }      → 201 { id, name, prefix, mode, tenant, app, createdAt, key }
 */
export const GET = adminRoute('GET /api/admin/api-keys', async (req, db) => {
  const q = new URL(req.url).searchParams;
  const items = await listKeys(db, { tenant: q.get('tenant') ?? '', app: q.get('app') ?? '' });
  return Response.json({ items }, { headers: { 'cache-control': 'no-store' } });
});

export const POST = adminRoute('POST /api/admin/api-keys', async (req, db) => {
  const body: unknown = await req.json().catch(() => null);
  const created = await createKey(db, (body ?? {}) as never);
  return Response.json(created, { status: 201, headers: { 'cache-control': 'no-store' } });
});

export const { PUT, PATCH, DELETE, OPTIONS } = otherMethods(['GET', 'POST']);
