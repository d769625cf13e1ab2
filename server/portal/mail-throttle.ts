import { LRUCache } from 'lru-cache';

/**
 * At most `max` sign-in emails per address per window, per process: anyone may ask for a
 * magic link for any address, and without a limit a stranger could fill someone's inbox
 * (and the operator's mail quota). Per process only (no shared store): with several
 * instances the limit is per instance, which still bounds the flood.
 */
export class MailThrottle {
  readonly #sent: LRUCache<string, number[]>;
  constructor(
    readonly max = 5,
    readonly windowMs = 15 * 60_000,
  ) {
    this.#sent = new LRUCache({ max: 50_000, ttl: windowMs });
  }

  /** Records a send to `to` at `nowMs` and says whether it is allowed. */
  allow(to: string, nowMs: number): boolean {
    const key = to.trim().toLowerCase();
    const recent = (this.#sent.get(key) ?? []).filter((t) => t > nowMs - this.windowMs);
    if (recent.length >= this.max) return false;
    recent.push(nowMs);
    this.#sent.set(key, recent);
    return true;
  }
}
