import { describe, expect, it } from 'vitest';
import { getRuntime } from '@/server/runtime';
import { useMemoryRuntimeEnv } from '../support/runtime';

useMemoryRuntimeEnv();
const { GET } = await import('@/app/api/health/route');

describe('GET /api/health', () => {
  it('200 with status ok and the database in use', async () => {
    const res = await GET(new Request('http://test/api/health'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: 'pglite' });
  });

  it('503 when the database does not answer', async () => {
    const rt = await getRuntime();
    await rt.database.close();
    const res = await GET(new Request('http://test/api/health'));
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body.status).not.toBe('ok');
    expect(body.database).toBe('pglite');
  });
});
