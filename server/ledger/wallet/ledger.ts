import { addInterval } from '../subscription/period';
import { newId, type InvoiceId } from '../types';
import { isLive } from './allocate';
import type { WalletChange, WalletView } from './store';
import type { EntryType, GrantSource, RecurringGrant, Wallet, WalletGrant } from './types';

/** Recurring grants caught up in one change at most (a wallet left alone for years). */
const MAX_CATCH_UP = 1000;

/**
 * One change of a wallet being written: grants added, used and expired, each movement an
 * entry with the balance after it. Built on the locked view (WalletStore.change) and
 * turned into the one write the store makes (`change()`).
 */
export class WalletDraft {
  readonly wallet: Wallet;
  readonly #grants: Map<WalletGrant['id'], WalletGrant>;
  readonly #touched = new Set<WalletGrant['id']>();
  readonly #new: WalletGrant[] = [];
  readonly #entries: WalletChange['entries'] = [];
  #rules: RecurringGrant[];
  #rulesChanged = false;
  #autoTopUp: Wallet['autoTopUp'] | undefined;
  balance: number;

  constructor(view: WalletView) {
    this.wallet = view.wallet;
    this.#grants = new Map(view.grants.map((g) => [g.id, g]));
    this.#rules = view.wallet.recurringGrants;
    // The ledger's balance is Σ remaining of the live grants: recomputed, never trusted.
    this.balance = view.grants.reduce((a, g) => a + g.remaining, 0);
  }

  /** The grants with credits left, not swept as expired yet. */
  get grants(): WalletGrant[] {
    return [...this.#grants.values()].filter((g) => g.remaining > 0 && g.expiredAt === null);
  }

  get rules(): readonly RecurringGrant[] {
    return this.#rules;
  }

  #entry(type: EntryType, amount: number, at: Date, description: string, grant: WalletGrant | null, invoiceId: InvoiceId | null) {
    this.balance += amount;
    this.#entries.push({
      id: newId('walletEntry'),
      walletId: this.wallet.id,
      type,
      amount,
      balanceAfter: this.balance,
      grantId: grant?.id ?? null,
      invoiceId,
      description,
      createdAt: at,
    });
  }

  /** Adds a grant (`top_up` for bought credits, `grant` for the rest). */
  add(g: Omit<WalletGrant, 'id' | 'walletId' | 'remaining' | 'expiredAt'>): WalletGrant {
    const grant: WalletGrant = { ...g, id: newId('walletGrant'), walletId: this.wallet.id, remaining: g.amount, expiredAt: null };
    this.#grants.set(grant.id, grant);
    this.#new.push(grant);
    this.#entry(g.source === 'purchased' ? 'top_up' : 'grant', g.amount, g.createdAt, g.description, grant, g.invoiceId);
    return grant;
  }

  use(grant: WalletGrant, amount: number, invoiceId: InvoiceId, invoiceNumber: string | null, at: Date): void {
    const g = this.#grants.get(grant.id)!;
    if (amount <= 0 || amount > g.remaining) throw new Error(`wallet grant ${g.id}: cannot use ${amount} of ${g.remaining}`);
    this.#grants.set(g.id, { ...g, remaining: g.remaining - amount });
    this.#touched.add(g.id);
    this.#entry('use', -amount, at, `Invoice ${invoiceNumber ?? invoiceId}`, g, invoiceId);
  }

  /** Takes back up to `amount` of a grant's remaining credits (a credit note on its top-up); returns how many. */
  reverse(grant: WalletGrant, amount: number, invoiceId: InvoiceId, description: string, at: Date): number {
    const g = this.#grants.get(grant.id)!;
    const taken = Math.min(amount, g.remaining);
    if (taken <= 0) return 0;
    this.#grants.set(g.id, { ...g, remaining: g.remaining - taken });
    this.#touched.add(g.id);
    this.#entry('reversal', -taken, at, description, g, invoiceId);
    return taken;
  }

  /**
   * Gives back `amount` credits an invoice used to the grant they came from (a void, a
   * credit note: give-back.ts), so they keep that grant's expiry, priority and features.
   * A grant past its expiry at `at` takes them and loses them at once (a `restore` then an
   * `expiry`, both at `at`): given back, credits never outlive their grant.
   */
  restore(grant: WalletGrant, amount: number, invoiceId: InvoiceId, description: string, at: Date): void {
    const g = this.#grants.get(grant.id) ?? grant;
    if (amount <= 0 || g.remaining + amount > g.amount) throw new Error(`wallet grant ${g.id}: cannot give back ${amount} (${g.remaining} of ${g.amount} left)`);
    this.#entry('restore', amount, at, description, g, invoiceId);
    if (g.expiredAt !== null || (g.expiresAt !== null && g.expiresAt <= at)) {
      this.#entry('expiry', -amount, at, `${g.description}: expired`, g, null);
      return;
    }
    this.#grants.set(g.id, { ...g, remaining: g.remaining + amount });
    this.#touched.add(g.id);
  }

  #expire(g: WalletGrant): void {
    const at = g.expiresAt!;
    this.#grants.set(g.id, { ...g, remaining: 0, expiredAt: at });
    this.#touched.add(g.id);
    this.#entry('expiry', -g.remaining, at, `${g.description}: expired`, g, null);
  }

  set autoTopUp(a: Wallet['autoTopUp']) {
    this.#autoTopUp = a;
  }

  setRules(rules: RecurringGrant[]): void {
    this.#rules = rules;
    this.#rulesChanged = true;
  }

  /**
   * Everything due by `now`, in time order: grants expiring (their entry dated at their
   * expiry) and recurring grants (dated at their instant). An expiry and a grant at the
   * same instant: the expiry first (the month's credits end as the next month's begin).
   */
  catchUp(now: Date): void {
    for (let n = 0; n < MAX_CATCH_UP; n++) {
      const expiring = this.grants.filter((g) => g.expiresAt !== null && g.expiresAt <= now).sort((a, b) => a.expiresAt!.getTime() - b.expiresAt!.getTime())[0];
      const rule = this.#rules.filter((r) => r.nextAt <= now && (r.endsAt === null || r.nextAt < r.endsAt)).sort((a, b) => a.nextAt.getTime() - b.nextAt.getTime())[0];
      if (!expiring && !rule) return;
      if (expiring && (!rule || expiring.expiresAt! <= rule.nextAt)) {
        this.#expire(expiring);
        continue;
      }
      this.#grantRecurring(rule!);
    }
  }

  #grantRecurring(rule: RecurringGrant): void {
    const at = rule.nextAt;
    const next = addInterval(rule.anchor, rule.interval, rule.made + 1);
    this.add({
      key: `recurring:${rule.id}:${at.toISOString()}`,
      source: 'recurring' as GrantSource,
      amount: rule.amount,
      priority: rule.priority,
      expiresAt: rule.expires === 'period_end' ? next : null,
      featureKeys: rule.featureKeys,
      invoiceId: null,
      description: rule.description,
      createdAt: at,
    });
    this.setRules(this.#rules.map((r) => (r.id === rule.id ? { ...r, made: r.made + 1, nextAt: next } : r)));
  }

  /** Live credits at `at` (what an invoice at `at` may use). */
  available(at: Date): number {
    return this.grants.filter((g) => isLive(g, at)).reduce((a, g) => a + g.remaining, 0);
  }

  /** The soonest instant with work: a live grant's expiry, a rule's next grant. */
  nextDueAt(): Date | null {
    const times = [
      ...this.grants.filter((g) => g.expiresAt !== null).map((g) => g.expiresAt!.getTime()),
      ...this.#rules.filter((r) => r.endsAt === null || r.nextAt < r.endsAt).map((r) => r.nextAt.getTime()),
    ];
    return times.length ? new Date(Math.min(...times)) : null;
  }

  /** The store's write; null when nothing changed. */
  change(now: Date): WalletChange | null {
    const nothing = this.#entries.length === 0 && !this.#rulesChanged && this.#autoTopUp === undefined;
    if (nothing) return null;
    const created = new Set(this.#new.map((g) => g.id));
    return {
      wallet: {
        balance: this.balance,
        nextDueAt: this.nextDueAt(),
        updatedAt: now,
        ...(this.#rulesChanged ? { recurringGrants: this.#rules } : {}),
        ...(this.#autoTopUp !== undefined ? { autoTopUp: this.#autoTopUp } : {}),
      },
      newGrants: this.#new.map((g) => this.#grants.get(g.id)!),
      updatedGrants: [...this.#touched].filter((id) => !created.has(id)).map((id) => {
        const g = this.#grants.get(id)!;
        return { id: g.id, remaining: g.remaining, expiredAt: g.expiredAt };
      }),
      entries: this.#entries,
    };
  }
}
