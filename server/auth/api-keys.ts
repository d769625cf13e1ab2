import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { apiKeys, scopes } from '../../db/schema';
import { conflict, createPostgresAuditStore, currentRequest, entryOf, newId, scopeSchema, type ApiKeyId, type AuditInput, type Scope } from '../ledger';
import { splitApiKey, type ScopeMode } from './api-key-format';

/**
 * API keys for product teams: created by `npm run apikey -- create`, shown once, stored
 * as a SHA-256 hash beside a visible prefix. A key is bound to one scope; requests carry
 * it as `Authorization: Bearer ldg_…` and the scope comes from the key, never the body.
 */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const random62 = (n: number) => Array.from({ length: n }, () => BASE62[randomInt(62)]).join('');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Keys are made and revoked by the operator (`npm run apikey`, or the running app's admin
 * routes it calls), outside any API request: the audit trail names them so.
 */
const OPERATOR = { actor: { type: 'system' as const, id: 'operator' }, requestId: null, ip: null };

/** The key's audit entry, in the transaction that writes it (never the key or its hash). */
async function audit(tx: Database, scope: Scope, input: AuditInput, at: Date): Promise<void> {
  await createPostgresAuditStore(tx).append(scope, [entryOf(input, currentRequest() ?? OPERATOR, at)]);
}

export interface ApiKeyInfo {
  id: ApiKeyId;
  name: string;
  prefix: string;
  scope: Scope;
  /** The scope's mode: `test` scopes may run test clocks and never move real money. */
  mode: ScopeMode;
  createdAt: Date;
}

export interface CreatedApiKey extends ApiKeyInfo {
  /** The whole key. Returned once, never stored. */
  key: string;
}

export interface CreateApiKeyOptions {
  /**
   * The scope's mode. A new scope takes it (default `live`); a scope that has one keeps it,
   * and asking for the other mode is a conflict: a key never changes what its scope is.
   */
  mode?: ScopeMode;
  /** Only for fixed demo/test keys; normally generated. */
  presetKey?: string;
}

export async function createApiKey(db: Database, scope: Scope, name: string, opts: CreateApiKeyOptions = {}): Promise<CreatedApiKey> {
  scopeSchema.parse(scope);
  return db.transaction(async (tx) => {
    const mode = await registerScope(tx as unknown as Database, scope, opts.mode);
    const key = opts.presetKey ?? `ldg_${mode}_${random62(12)}_${random62(32)}`;
    const parts = splitApiKey(key);
    if (!parts) throw new Error('malformed API key');
    if (parts.mode && parts.mode !== mode) throw conflict(`a ${parts.mode} key cannot open the ${mode} scope ${scope.tenantId}/${scope.appId}`);
    const row = {
      tenantId: scope.tenantId,
      appId: scope.appId,
      id: newId('apiKey'),
      name,
      prefix: parts.prefix,
      hash: sha256(key),
      createdAt: new Date(),
    };
    await tx.insert(apiKeys).values(row);
    const after = { id: row.id, name, prefix: row.prefix, mode, revokedAt: null };
    await audit(tx as unknown as Database, scope, { action: 'api_key.created', entityId: row.id, before: null, after }, row.createdAt);
    return { id: row.id, name, prefix: row.prefix, scope, mode, createdAt: row.createdAt, key };
  });
}

/**
 * The scope's mode, registering the scope with `wanted` (or `live`) when it has none.
 * Asking for the other mode of a registered scope is a conflict.
 */
export async function registerScope(db: Database, scope: Scope, wanted?: ScopeMode): Promise<ScopeMode> {
  await db
    .insert(scopes)
    .values({ tenantId: scope.tenantId, appId: scope.appId, mode: wanted ?? 'live', createdAt: new Date() })
    .onConflictDoNothing();
  const [row] = await db
    .select({ mode: scopes.mode })
    .from(scopes)
    .where(and(eq(scopes.tenantId, scope.tenantId), eq(scopes.appId, scope.appId)));
  const mode = row!.mode;
  if (wanted && wanted !== mode) throw conflict(`the scope ${scope.tenantId}/${scope.appId} is ${mode}; it cannot have ${wanted} keys`);
  return mode;
}

/**
 * The scope of a valid, unrevoked key, or null. The lookup is by prefix (the key is
 * what names the scope), then the hash is compared in constant time.
 */
export async function verifyApiKey(db: Database, key: string): Promise<ApiKeyInfo | null> {
  const parts = splitApiKey(key);
  if (!parts) return null;
  const rows = await db
    .select({ key: apiKeys, mode: scopes.mode })
    .from(apiKeys)
    .leftJoin(scopes, and(eq(scopes.tenantId, apiKeys.tenantId), eq(scopes.appId, apiKeys.appId)))
    .where(and(eq(apiKeys.prefix, parts.prefix), isNull(apiKeys.revokedAt)));
  const want = Buffer.from(sha256(key), 'hex');
  const found = rows.find((r) => timingSafeEqual(Buffer.from(r.key.hash, 'hex'), want));
  if (!found) return null;
  const row = found.key;
  return {
    id: row.id as ApiKeyId,
    name: row.name,
    prefix: row.prefix,
    scope: { tenantId: row.tenantId, appId: row.appId },
    mode: found.mode ?? 'live',
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

/**
 * The channel revocations are announced on: the payload is the key's id. Every process
 * serving requests LISTENs (server/auth/request-auth.ts) and forgets the key at once.
 */
export const API_KEY_REVOCATIONS = 'ledger_api_key_revoked';

const revocationListeners = new WeakMap<Database, Set<(id: string) => void>>();

/** Called with the id of every key this process revokes on `db`, before revokeApiKey returns. */
export function onApiKeyRevoked(db: Database, listener: (id: string) => void): void {
  let set = revocationListeners.get(db);
  if (!set) revocationListeners.set(db, (set = new Set()));
  set.add(listener);
}

/**
 * Revokes a key of the scope; false when there is no such active key. The NOTIFY is part
 * of the same transaction, so other processes hear of it exactly when it commits (the
 * CLI, `npm run apikey -- revoke`, reaches running apps this way); this process forgets
 * the key before returning.
 */
export async function revokeApiKey(db: Database, scope: Scope, id: string): Promise<boolean> {
  const revoked = await db.transaction(async (tx) => {
    const at = new Date();
    const r = await tx
      .update(apiKeys)
      .set({ revokedAt: at })
      .where(and(eq(apiKeys.tenantId, scope.tenantId), eq(apiKeys.appId, scope.appId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id, name: apiKeys.name, prefix: apiKeys.prefix });
    if (r.length === 1) {
      const { name, prefix } = r[0]!;
      await audit(tx as unknown as Database, scope, { action: 'api_key.revoked', entityId: id, before: { id, name, prefix, revokedAt: null }, after: { id, name, prefix, revokedAt: at.toISOString() } }, at);
      await tx.execute(sql`select pg_notify(${API_KEY_REVOCATIONS}, ${id})`);
    }
    return r.length === 1;
  });
  if (revoked) for (const listener of revocationListeners.get(db) ?? []) listener(id);
  return revoked;
}
