import type { OnClock } from '../billing/store';
import type { Currency, CustomerId, InvoiceId, Scope } from '../types';
import type { Wallet, WalletEntry, WalletGrant, WalletGrantId, WalletId } from './types';

/** What one change writes to a wallet, all or nothing (WalletStore.change). */
export interface WalletChange {
  /** The wallet's new fields (its balance always; the rest when they changed). */
  wallet: Pick<Wallet, 'balance' | 'nextDueAt' | 'updatedAt'> & Partial<Pick<Wallet, 'autoTopUp' | 'recurringGrants'>>;
  newGrants: WalletGrant[];
  /** Grants whose remaining credits (or expiry) changed. */
  updatedGrants: Pick<WalletGrant, 'id' | 'remaining' | 'expiredAt'>[];
  entries: WalletEntry[];
}

/** What a change sees: the wallet and its live grants (credits left, not expired), locked. */
export interface WalletView {
  wallet: Wallet;
  grants: WalletGrant[];
  /** Whether a grant with this key was ever made (a top-up paid twice grants once). */
  hasGrant(key: string): Promise<boolean>;
  /** The wallet's entries about an invoice (its uses, what was given back of them), oldest first. */
  invoiceEntries(invoiceId: InvoiceId): Promise<WalletEntry[]>;
  /** The wallet's grants of these ids, used up or expired ones too. */
  grantsById(ids: readonly WalletGrantId[]): Promise<WalletGrant[]>;
}

/**
 * Wallet storage. Every change of a wallet runs through `change`: the wallet is locked
 * (PostgreSQL: its row FOR UPDATE in the caller's transaction; memory: a queue per
 * wallet), its live grants read, `work` decides, and what it returns is written before
 * the lock is let go. So two invoices finalizing at once, a top-up paid meanwhile and
 * an expiry never spend or count the same credits twice.
 */
export interface WalletStore {
  /** Inserts it, unless the customer has a wallet in that currency: then that one (`created: false`). */
  insertOnce(scope: Scope, wallet: Wallet): Promise<{ wallet: Wallet; created: boolean }>;
  get(scope: Scope, id: WalletId): Promise<Wallet | null>;
  getByCustomer(scope: Scope, customerId: CustomerId, currency: Currency): Promise<Wallet | null>;
  listByCustomer(scope: Scope, customerId: CustomerId): Promise<Wallet[]>;
  /** The live grants (credits left, not swept as expired), oldest first. */
  liveGrants(scope: Scope, id: WalletId): Promise<WalletGrant[]>;
  /** The ledger, newest first: `limit + 1` entries after `cursor` (an entry id). */
  entries(scope: Scope, id: WalletId, page: { limit: number; cursor?: string }): Promise<WalletEntry[]>;
  /** Locks the wallet, runs `work`, writes its change (null: nothing to write). Null when the wallet does not exist. */
  change<T>(scope: Scope, id: WalletId, work: (view: WalletView) => Promise<{ change: WalletChange | null; result: T }>): Promise<{ result: T } | null>;
  /** Wallets with work due by `at` (nextDueAt ≤ at), soonest first; `on` as the billing store's. */
  listDue(scope: Scope, at: Date, limit: number, on?: OnClock): Promise<Wallet[]>;
}
