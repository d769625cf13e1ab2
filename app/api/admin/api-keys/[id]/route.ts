import { adminRoute } from '@/server/admin-routes';
import { revokeKey } from '@/server/api-key-admin';
import { otherMethods } from '@/server/http/route';

export const dynamic = 'force-dynamic';

/**
 * Revokes a key, for `npm run apikey -- revoke` while the app holds the embedded database.
 *   DELETE /api/admin/api-keys/key_…?tenant=T&app=A → 200 { revoked: true } | 404 { revoked: false }
 */
export const DELETE = adminRoute('DELETE /api/admin/api-keys/[id]', async (req, db, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  const q = new URL(req.url).searchParams;
  const revoked = await revokeKey(db, { tenant: q.get('tenant') ?? '', app: q.get('app') ?? '', id });
  return Response.json({ revoked }, { status: revoked ? 200 : 404 });
});

export const { GET, HEAD, POST, PUT, PATCH, OPTIONS } = otherMethods(['DELETE']);
