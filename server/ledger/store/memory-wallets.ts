import type { Scope } from '../types';
import { notFound, scopeKey } from '../types';
import type { WalletStore } from '../wallet/store';
import type { Wallet, WalletEntry, WalletGrant } from '../wallet/types';
import { ScopedTable } from './memory-table';

/**
 * Wallets in memory. A change holds the wallet's queue from its read to its write (the
 * memory store has no transactions: a change's work may await), so changes of one wallet
 * run one after the other, as under the SQL store's row lock.
 */
export function createMemoryWalletStore(clockOf: (scope: Scope, customerId: string) => string | null): WalletStore & { all(): Iterable<[Scope, Wallet]> } {
  const wallets = new ScopedTable<Wallet>();
  const grants = new ScopedTable<WalletGrant>();
  const entries = new ScopedTable<WalletEntry>();
  const queues = new Map<string, Promise<unknown>>();

  const serialized = <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const before = queues.get(key) ?? Promise.resolve();
    const run = before.then(work, work);
    const tail = run.catch(() => undefined);
    queues.set(key, tail);
    void tail.then(() => {
      if (queues.get(key) === tail) queues.delete(key);
    });
    return run;
  };

  return {
    /** Every wallet of every scope (the billing scheduler's search of due scopes). */
    all: () => wallets.all(),
    async insertOnce(scope, w) {
      const existing = wallets.find(scope, (r) => r.customerId === w.customerId && r.currency === w.currency)[0];
      if (existing) return { wallet: existing, created: false };
      wallets.put(scope, w);
      return { wallet: wallets.get(scope, w.id)!, created: true };
    },
    async get(scope, id) {
      return wallets.get(scope, id);
    },
    async getByCustomer(scope, customerId, currency) {
      return wallets.find(scope, (r) => r.customerId === customerId && r.currency === currency)[0] ?? null;
    },
    async listByCustomer(scope, customerId) {
      return wallets.find(scope, (r) => r.customerId === customerId).sort((a, b) => (a.id < b.id ? -1 : 1));
    },
    async liveGrants(scope, id) {
      return grants.find(scope, (g) => g.walletId === id && g.remaining > 0).sort((a, b) => (a.id < b.id ? -1 : 1));
    },
    async entries(scope, id, page) {
      return entries.newestFirst(scope, { limit: page.limit + 1, cursor: page.cursor }, (e) => e.walletId === id);
    },
    async change(scope, id, work) {
      return serialized(`${scopeKey(scope)}\u0000${id}`, async () => {
        const wallet = wallets.get(scope, id);
        if (!wallet) return null;
        const live = grants.find(scope, (g) => g.walletId === id && g.remaining > 0).sort((a, b) => (a.id < b.id ? -1 : 1));
        const { change, result } = await work({
          wallet,
          grants: live,
          hasGrant: async (key) => grants.find(scope, (g) => g.walletId === id && g.key === key).length > 0,
          invoiceEntries: async (invoiceId) => entries.find(scope, (e) => e.walletId === id && e.invoiceId === invoiceId).sort((a, b) => (a.id < b.id ? -1 : 1)),
          grantsById: async (ids) => grants.find(scope, (g) => g.walletId === id && ids.includes(g.id)),
        });
        if (change) {
          // Checked before anything is written, as the SQL store's constraints would refuse it.
          if (change.wallet.balance < 0) throw new Error(`wallet ${id}: a balance below zero (${change.wallet.balance})`);
          for (const g of change.newGrants) grants.put(scope, g);
          for (const u of change.updatedGrants) {
            const g = grants.get(scope, u.id);
            if (!g) throw notFound('wallet grant', u.id);
            grants.put(scope, { ...g, remaining: u.remaining, expiredAt: u.expiredAt });
          }
          for (const e of change.entries) entries.put(scope, e);
          wallets.put(scope, { ...wallet, ...change.wallet });
        }
        return { result };
      });
    },
    async listDue(scope, at, limit, on) {
      return wallets
        .find(scope, (w) => w.nextDueAt !== null && w.nextDueAt <= at && (!on || clockOf(scope, w.customerId) === on.testClockId))
        .sort((a, b) => a.nextDueAt!.getTime() - b.nextDueAt!.getTime() || (a.id < b.id ? -1 : 1))
        .slice(0, limit);
    },
  };
}
