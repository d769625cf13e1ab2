import { LRUCache } from 'lru-cache';
import type { Database } from '../../db/client';
import { verifyApiKey, type ApiKeyInfo } from './api-keys';

/**
 * Authenticates a request by its `Authorization: Bearer ldg_…` header (never a cookie).
 * Verified keys are remembered for 10 seconds, so busy clients cost no database round
 * trip per request; a revoked key stops working within those 10 seconds.
 */
const verified = new LRUCache<string, ApiKeyInfo>({ max: 10_000, ttl: 10_000 });

export async function apiKeyFromRequest(db: Database, req: Request): Promise<ApiKeyInfo | null> {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.get('authorization') ?? '');
  if (!m) return null;
  const key = m[1]!;
  const hit = verified.get(key);
  if (hit) return hit;
  const info = await verifyApiKey(db, key);
  if (info) verified.set(key, info);
  return info;
}
