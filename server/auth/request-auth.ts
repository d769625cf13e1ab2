import { LRUCache } from 'lru-cache';
import type { Database, DatabaseHandle } from '../../db/client';
import { API_KEY_REVOCATIONS, onApiKeyRevoked, verifyApiKey, type ApiKeyInfo } from './api-keys';

/**
 * Authenticates a request by its `Authorization: Bearer ldg_…` header (never a cookie).
 *
 * Verified keys are remembered for 10 seconds, so busy clients cost no database round
 * trip per request. A revocation drops the entry at once: in this process directly, and
 * in every process through PostgreSQL (revokeApiKey NOTIFYs in its transaction; each
 * process LISTENs). While the LISTEN is not in place (starting, or its connection
 * dropped) the cache is not trusted: keys are verified on every request, and the cache is
 * emptied each time the LISTEN is back, since notifications may have been missed.
 *
 * One cache per database, so two runtimes in one process (tests) are two instances.
 */
class VerifiedKeys {
  readonly #entries = new LRUCache<string, ApiKeyInfo>({ max: 10_000, ttl: 10_000 });
  #listening = false;
  /** Bumped by every revocation and clear: a lookup that began before one is not cached. */
  #revision = 0;

  constructor(handle: DatabaseHandle) {
    onApiKeyRevoked(handle.db, (id) => this.forget(id));
    void handle
      .subscribe(API_KEY_REVOCATIONS, {
        onNotify: (id) => this.forget(id),
        onListening: () => {
          this.#revision++;
          this.#entries.clear();
          this.#listening = true;
        },
        onLost: () => {
          this.#listening = false;
        },
      })
      .catch((e: unknown) => console.warn(`[auth] cannot listen for API key revocations, so keys are verified on every request: ${(e as Error).message}`));
  }

  get(key: string): ApiKeyInfo | undefined {
    return this.#listening ? this.#entries.get(key) : undefined;
  }

  get revision(): number {
    return this.#revision;
  }

  /** Remembers a key verified by a lookup that began at `revision`, unless a revocation came since. */
  set(key: string, info: ApiKeyInfo, revision: number): void {
    if (revision === this.#revision) this.#entries.set(key, info);
  }

  forget(id: string): void {
    this.#revision++;
    for (const [key, info] of this.#entries.entries()) if (info.id === id) this.#entries.delete(key);
  }
}

const caches = new WeakMap<Database, VerifiedKeys>();

function cacheOf(handle: DatabaseHandle): VerifiedKeys {
  let c = caches.get(handle.db);
  if (!c) caches.set(handle.db, (c = new VerifiedKeys(handle)));
  return c;
}

/** The key's info, or null for no key, a malformed, unknown or revoked one. Database errors propagate. */
export async function apiKeyFromRequest(database: DatabaseHandle, req: Request): Promise<ApiKeyInfo | null> {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.get('authorization') ?? '');
  if (!m) return null;
  const key = m[1]!;
  const cache = cacheOf(database);
  const hit = cache.get(key);
  if (hit) return hit;
  const revision = cache.revision;
  const info = await verifyApiKey(database.db, key);
  if (info) cache.set(key, info, revision);
  return info;
}
