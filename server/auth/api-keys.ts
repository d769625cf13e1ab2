import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { apiKeys } from '../../db/schema';
import { newId, scopeSchema, type ApiKeyId, type Scope } from '../ledger';
import { API_KEY_PATTERN, splitApiKey } from './api-key-format';

/**
 * API keys for product teams: created by `npm run apikey -- create`, shown once, stored
 * as a SHA-256 hash beside a visible prefix. A key is bound to one scope; requests carry
 * it as `Authorization: Bearer ldg_…` and the scope comes from the key, never the body.
 */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const random62 = (n: number) => Array.from({ length: n }, () => BASE62[randomInt(62)]).join('');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface ApiKeyInfo {
  id: ApiKeyId;
  name: string;
  prefix: string;
  scope: Scope;
  createdAt: Date;
}

export interface CreatedApiKey extends ApiKeyInfo {
  /** The whole key. Returned once, never stored. */
  key: string;
}

export async function createApiKey(
  db: Database,
  scope: Scope,
  name: string,
  /** Only for fixed demo/test keys; normally generated. */
  presetKey?: string,
): Promise<CreatedApiKey> {
  scopeSchema.parse(scope);
  const key = presetKey ?? `ldg_${random62(12)}_${random62(32)}`;
  if (!API_KEY_PATTERN.test(key)) throw new Error('malformed API key');
  const row = {
    tenantId: scope.tenantId,
    appId: scope.appId,
    id: newId('apiKey'),
    name,
    prefix: splitApiKey(key)!.prefix,
    hash: sha256(key),
    createdAt: new Date(),
  };
  await db.insert(apiKeys).values(row);
  return { id: row.id, name, prefix: row.prefix, scope, createdAt: row.createdAt, key };
}

/**
 * The scope of a valid, unrevoked key, or null. The lookup is by prefix (the key is
 * what names the scope), then the hash is compared in constant time.
 */
export async function verifyApiKey(db: Database, key: string): Promise<ApiKeyInfo | null> {
  const parts = splitApiKey(key);
  if (!parts) return null;
  const rows = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.prefix, parts.prefix), isNull(apiKeys.revokedAt)));
  const want = Buffer.from(sha256(key), 'hex');
  const row = rows.find((r) => timingSafeEqual(Buffer.from(r.hash, 'hex'), want));
  if (!row) return null;
  return {
    id: row.id as ApiKeyId,
    name: row.name,
    prefix: row.prefix,
    scope: { tenantId: row.tenantId, appId: row.appId },
    createdAt: row.createdAt,
  };
}

export async function listApiKeys(db: Database, scope: Scope) {
  return db
    .select({ id: apiKeys.id, name: apiKeys.name, prefix: apiKeys.prefix, createdAt: apiKeys.createdAt, revokedAt: apiKeys.revokedAt })
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, scope.tenantId), eq(apiKeys.appId, scope.appId)))
    .orderBy(apiKeys.id);
}

export async function revokeApiKey(db: Database, scope: Scope, id: string): Promise<boolean> {
  const r = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.tenantId, scope.tenantId), eq(apiKeys.appId, scope.appId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return r.length === 1;
}
