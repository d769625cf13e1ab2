import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { apiKeys } from '@/db/schema';
import { createApiKey, listApiKeys, revokeApiKey, verifyApiKey } from '@/server/auth/api-keys';
import { scope } from '@/server/ledger';
import type { Runtime } from '@/server/runtime';
import { createTestRuntime } from '../support/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await createTestRuntime();
});
afterAll(() => rt.close());

describe('API keys', () => {
  const s = scope('acme', 'billing');

  it('are shown once and stored only as a hash with a visible prefix', async () => {
    const k = await createApiKey(rt.database.db, s, 'backend');
    expect(k.key).toMatch(/^ldg_[0-9A-Za-z]{12}_[0-9A-Za-z]{32}$/);
    const [row] = await rt.database.db.select().from(apiKeys).where(eq(apiKeys.id, k.id));
    expect(row!.prefix).toBe(k.key.slice(0, 16));
    expect(row!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(k.key.slice(17));
  });

  it('verify to their scope; a revoked key verifies to nothing', async () => {
    const k = await createApiKey(rt.database.db, s, 'temp');
    expect((await verifyApiKey(rt.database.db, k.key))?.scope).toEqual(s);
    expect(await revokeApiKey(rt.database.db, scope('other', 'billing'), k.id)).toBe(false); // not across scopes
    expect(await revokeApiKey(rt.database.db, s, k.id)).toBe(true);
    expect(await verifyApiKey(rt.database.db, k.key)).toBeNull();
    expect((await listApiKeys(rt.database.db, s)).find((r) => r.id === k.id)?.revokedAt).toBeInstanceOf(Date);
  });

  it('a malformed key never reaches the database', async () => {
    expect(await verifyApiKey(rt.database.db, "ldg_' or 1=1 --")).toBeNull();
  });
});
