import { adminRoute } from '@/server/admin-routes';
import { revokeKey } from '@/server/api-key-admin';

export const dynamic = 'force-dynamic';

/**
 * Revokes a key, for `npm run apikey -- revoke` while the app holds the embedded database.
 *   DELETE /api/admin/api-keys/key_…?tenant=T&app=A → 200 { revoked: true } | 404 { revoked: false }
 */
export function DELETE(req: Request, ctx: { params: Promise<{ id: string }> }) {
  return adminRoute(req, async (db) => {
    const { id } = await ctx.params;
    const q = new URL(req.url).searchParams;
    const revoked = await revokeKey(db, { tenant: q.get('tenant') ?? '', app: q.get('app') ?? '', id });
    return Response.json({ revoked }, { status: revoked ? 200 : 404 });
  });
}
