import { and, asc, desc, eq, gt, inArray, isNotNull, lt, lte, type SQL } from 'drizzle-orm';
import type { Database } from '../../../db/client';
import { walletEntries, walletGrants, wallets } from '../../../db/schema';
import type { Currency, CustomerId, InvoiceId, Scope } from '../types';
import { notFound } from '../types';
import type { WalletStore } from '../wallet/store';
import type { AutoTopUp, RecurringGrant, Wallet, WalletEntry, WalletEntryId, WalletGrant, WalletGrantId, WalletId } from '../wallet/types';
import { customerOnClock } from './postgres-billing';
import type { Store } from './store';

/**
 * Wallets on PostgreSQL (a server or PGlite). A change locks the wallet row (SELECT …
 * FOR UPDATE) in the caller's transaction (`atomic`: an invoice's finalization, a
 * payment's) or its own, so every change of one wallet waits for the one before.
 */
type ScopedTable = typeof wallets | typeof walletGrants | typeof walletEntries;
const inScope = (t: ScopedTable, s: Scope, ...more: (SQL | undefined)[]): SQL => and(eq(t.tenantId, s.tenantId), eq(t.appId, s.appId), ...more)!;

/** JSON columns hold dates as strings. */
const reviveRule = (r: RecurringGrant): RecurringGrant => ({ ...r, anchor: new Date(r.anchor), nextAt: new Date(r.nextAt), endsAt: r.endsAt === null ? null : new Date(r.endsAt) });

const toWallet = (r: typeof wallets.$inferSelect): Wallet => ({
  id: r.id as WalletId,
  customerId: r.customerId as CustomerId,
  currency: r.currency as Currency,
  balance: r.balance,
  autoTopUp: (r.autoTopUp as AutoTopUp | null) ?? null,
  recurringGrants: (r.recurringGrants as RecurringGrant[]).map(reviveRule),
  nextDueAt: r.nextDueAt,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const toGrant = (r: typeof walletGrants.$inferSelect): WalletGrant => ({
  id: r.id as WalletGrantId,
  walletId: r.walletId as WalletId,
  key: r.key,
  source: r.source,
  amount: r.amount,
  remaining: r.remaining,
  priority: r.priority,
  expiresAt: r.expiresAt,
  featureKeys: r.featureKeys ?? null,
  invoiceId: r.invoiceId as InvoiceId | null,
  description: r.description,
  expiredAt: r.expiredAt,
  createdAt: r.createdAt,
});

const toEntry = (r: typeof walletEntries.$inferSelect): WalletEntry => ({
  id: r.id as WalletEntryId,
  walletId: r.walletId as WalletId,
  type: r.type,
  amount: r.amount,
  balanceAfter: r.balanceAfter,
  grantId: r.grantId as WalletGrantId | null,
  invoiceId: r.invoiceId as InvoiceId | null,
  description: r.description,
  createdAt: r.createdAt,
});

export function createPostgresWalletStore(db: Database, atomic: Store['atomic']): WalletStore {
  const byCustomer = (s: Scope, customerId: string, currency: string) =>
    db.select().from(wallets).where(inScope(wallets, s, eq(wallets.customerId, customerId), eq(wallets.currency, currency)));
  const live = (s: Scope, id: string) =>
    db
      .select()
      .from(walletGrants)
      .where(inScope(walletGrants, s, eq(walletGrants.walletId, id), gt(walletGrants.remaining, 0)))
      .orderBy(asc(walletGrants.id));

  return {
    async insertOnce(s, w) {
      const inserted = await db
        .insert(wallets)
        .values({ ...s, ...w })
        .onConflictDoNothing()
        .returning();
      if (inserted[0]) return { wallet: toWallet(inserted[0]), created: true };
      const [existing] = await byCustomer(s, w.customerId, w.currency);
      if (!existing) throw notFound('wallet', w.id);
      return { wallet: toWallet(existing), created: false };
    },
    async get(s, id) {
      const [r] = await db.select().from(wallets).where(inScope(wallets, s, eq(wallets.id, id)));
      return r ? toWallet(r) : null;
    },
    async getByCustomer(s, customerId, currency) {
      const [r] = await byCustomer(s, customerId, currency);
      return r ? toWallet(r) : null;
    },
    async listByCustomer(s, customerId) {
      const rows = await db.select().from(wallets).where(inScope(wallets, s, eq(wallets.customerId, customerId))).orderBy(asc(wallets.id));
      return rows.map(toWallet);
    },
    async liveGrants(s, id) {
      return (await live(s, id)).map(toGrant);
    },
    async entries(s, id, page) {
      const rows = await db
        .select()
        .from(walletEntries)
        .where(inScope(walletEntries, s, eq(walletEntries.walletId, id), page.cursor ? lt(walletEntries.id, page.cursor) : undefined))
        .orderBy(desc(walletEntries.id))
        .limit(page.limit + 1);
      return rows.map(toEntry);
    },
    async change(s, id, work) {
      return atomic(async () => {
        const [row] = await db.select().from(wallets).where(inScope(wallets, s, eq(wallets.id, id))).for('update');
        if (!row) return null;
        const grants = (await live(s, id)).map(toGrant);
        const { change, result } = await work({
          wallet: toWallet(row),
          grants,
          hasGrant: async (key) => {
            const [g] = await db
              .select({ id: walletGrants.id })
              .from(walletGrants)
              .where(inScope(walletGrants, s, eq(walletGrants.walletId, id), eq(walletGrants.key, key)));
            return !!g;
          },
          // The wallet's entries, filtered: wallet_entries_wallet_idx finds the wallet's rows
          // (a void or a credit note on a credit-paid invoice reads them once).
          invoiceEntries: async (invoiceId) =>
            (
              await db
                .select()
                .from(walletEntries)
                .where(inScope(walletEntries, s, eq(walletEntries.walletId, id), eq(walletEntries.invoiceId, invoiceId)))
                .orderBy(asc(walletEntries.id))
            ).map(toEntry),
          grantsById: async (ids) =>
            ids.length === 0
              ? []
              : (await db.select().from(walletGrants).where(inScope(walletGrants, s, eq(walletGrants.walletId, id), inArray(walletGrants.id, [...ids])))).map(toGrant),
        });
        if (change) {
          if (change.newGrants.length) await db.insert(walletGrants).values(change.newGrants.map((g) => ({ ...s, ...g })));
          for (const u of change.updatedGrants) {
            await db
              .update(walletGrants)
              .set({ remaining: u.remaining, expiredAt: u.expiredAt })
              .where(inScope(walletGrants, s, eq(walletGrants.walletId, id), eq(walletGrants.id, u.id)));
          }
          if (change.entries.length) await db.insert(walletEntries).values(change.entries.map((e) => ({ ...s, ...e })));
          await db
            .update(wallets)
            .set(change.wallet)
            .where(inScope(wallets, s, eq(wallets.id, id)));
        }
        return { result };
      });
    },
    async listDue(s, at, limit, on) {
      // Served by wallets_due_idx (partial: only wallets with something due).
      const rows = await db
        .select()
        .from(wallets)
        .where(inScope(wallets, s, isNotNull(wallets.nextDueAt), lte(wallets.nextDueAt, at), customerOnClock(wallets, on)))
        .orderBy(asc(wallets.nextDueAt), asc(wallets.id))
        .limit(limit);
      return rows.map(toWallet);
    },
  };
}
