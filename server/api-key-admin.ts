import { z } from 'zod';
import type { Database } from '../db/client';
import { SCOPE_MODES, type ScopeMode } from './auth/api-key-format';
import { createApiKey, listApiKeys, revokeApiKey } from './auth/api-keys';
import { scopeSchema } from './ledger';

/**
 * Key management as `npm run apikey` does it: the same three operations whether the CLI
 * opens the database itself or asks the running app through the admin routes
 * (server/admin.ts), with the input checked once, here, and JSON-ready answers.
 */
const scopeFields = { tenant: scopeSchema.shape.tenantId, app: scopeSchema.shape.appId };

export const createKeyInput = z.object({
  ...scopeFields,
  name: z.string().trim().min(1).max(100).default('default'),
  /** The scope's mode: a new scope takes it (default live); an existing one must match. */
  mode: z.enum(SCOPE_MODES).optional(),
});
export const listKeysInput = z.object(scopeFields);
export const revokeKeyInput = z.object({ ...scopeFields, id: z.string().regex(/^key_[0-9a-z]{26}$/, 'a key id, key_…') });

export interface KeyListing {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface CreatedKey extends Omit<KeyListing, 'revokedAt'> {
  tenant: string;
  app: string;
  mode: ScopeMode;
  /** The whole key: shown once, never stored. */
  key: string;
}

export async function createKey(db: Database, input: z.input<typeof createKeyInput>): Promise<CreatedKey> {
  const { tenant, app, name, mode } = createKeyInput.parse(input);
  const k = await createApiKey(db, { tenantId: tenant, appId: app }, name, { mode });
  return { id: k.id, name: k.name, prefix: k.prefix, createdAt: k.createdAt.toISOString(), tenant, app, mode: k.mode, key: k.key };
}

export async function listKeys(db: Database, input: z.input<typeof listKeysInput>): Promise<KeyListing[]> {
  const { tenant, app } = listKeysInput.parse(input);
  const rows = await listApiKeys(db, { tenantId: tenant, appId: app });
  return rows.map((k) => ({
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    createdAt: k.createdAt.toISOString(),
    revokedAt: k.revokedAt ? k.revokedAt.toISOString() : null,
  }));
}

/** True when an active key was revoked; false when there is no such active key in the scope. */
export async function revokeKey(db: Database, input: z.input<typeof revokeKeyInput>): Promise<boolean> {
  const { tenant, app, id } = revokeKeyInput.parse(input);
  return revokeApiKey(db, { tenantId: tenant, appId: app }, id);
}
