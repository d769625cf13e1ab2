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
    expect(k.key).toMatch(/^ldg_live_[0-9A-Za-z]{12}_[0-9A-Za-z]{32}$/);
    const [row] = await rt.database.db.select().from(apiKeys).where(eq(apiKeys.id, k.id));
    expect(row!.prefix).toBe(k.key.slice(0, 21));
    expect(row!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(k.key.slice(22));
  });

  it('verify to their scope; a revoked key verifies to nothing', async () => {
    const k = await createApiKey(rt.database.db, s, 'temp');
    expect((await verifyApiKey(rt.database.db, k.key))?.scope).toEqual(s);
    expect(await revokeApiKey(rt.database.db, scope('other', 'billing'), k.id)).toBe(false); // not across scopes
    expect(await revokeApiKey(rt.database.db, s, k.id)).toBe(true);
    expect(await verifyApiKey(rt.database.db, k.key)).toBeNull();
    expect((await listApiKeys(rt.database.db, s)).find((r) => r.id === k.id)?.revokedAt).toBeInstanceOf(Date);
  });

  it('say the mode of their scope, which is set by the first key and never changes', async () => {
    const t = scope('acme', 'sandbox');
    const k = await createApiKey(rt.database.db, t, 'ci', { mode: 'test' });
    expect(k.key).toMatch(/^ldg_test_/);
    expect((await verifyApiKey(rt.database.db, k.key))?.mode).toBe('test');
    // A later key without a mode takes the scope's; the other mode is refused.
    expect((await createApiKey(rt.database.db, t, 'second')).key).toMatch(/^ldg_test_/);
    await expect(createApiKey(rt.database.db, t, 'live', { mode: 'live' })).rejects.toMatchObject({ code: 'conflict' });
    await expect(createApiKey(rt.database.db, s, 'test', { mode: 'test' })).rejects.toMatchObject({ code: 'conflict' });
    expect((await listApiKeys(rt.database.db, t)).map((r) => r.name)).toEqual(['ci', 'second']); // the refused key left nothing
  });

  it('made before modes existed (ldg_<12>_<32>) still verify, in their scope\'s mode', async () => {
    const legacy = 'ldg_LegacyKey123_0123456789abcdefghijABCDEFGHIJ01';
    await createApiKey(rt.database.db, scope('acme', 'legacy'), 'old', { presetKey: legacy });
    expect(await verifyApiKey(rt.database.db, legacy)).toMatchObject({ mode: 'live', scope: { tenantId: 'acme', appId: 'legacy' } });
  });

  it('a malformed key never reaches the database', async () => {
    expect(await verifyApiKey(rt.database.db, "ldg_' or 1=1 --")).toBeNull();
  });
});
