import type { OnClock } from '../billing/store';
import type { EngineContext } from '../context';
import type { LedgerEvent } from '../events/types';
import type { InvoiceService } from '../invoice/service';
import { newInvoiceState } from '../invoice/draft';
import { allLatestPlans } from '../plan/latest';
import type { CreditNote, Invoice, InvoiceLine } from '../invoice/types';
import {
  conflict,
  findById,
  invalid,
  isLedgerError,
  newId,
  notFound,
  pageOf,
  parseId,
  parseInput,
  type Currency,
  type CustomerId,
  type InvoiceId,
  type Page,
  type PageInput,
  type Scope,
  type SubscriptionId,
} from '../types';
import { allocate, byUseOrder, isLive } from './allocate';
import { creditsForNote, heldByGrant, lastUsedFirst } from './give-back';
import { WalletDraft } from './ledger';
import type { WalletChange, WalletView } from './store';
import {
  autoTopUpSchema,
  DEFAULT_PRIORITY,
  createWalletSchema,
  grantSchema,
  recurringGrantSchema,
  topUpSchema,
  type AutoTopUp,
  type CreateWalletInput,
  type GrantInput,
  type RecurringGrantInput,
  type TopUpInput,
  type Wallet,
  type WalletEntry,
  type WalletGrant,
  type WalletId,
} from './types';

/** The billing reason of an invoice that buys credits. */
export const TOP_UP_REASON = 'wallet_top_up' as const;

export interface WalletBalance {
  walletId: WalletId;
  currency: Currency;
  /** Credits usable now: the live grants' remaining credits, those expired by now left out. */
  balance: number;
  /** The live grants, in the order invoices use them. */
  grants: WalletGrant[];
}

/**
 * Prepaid credit wallets (types.ts for the rules). Every write goes through the store's
 * `change`, which locks the wallet; everything due by then (expiries, recurring grants)
 * is caught up first, so the ledger reads in time order whoever runs first.
 */
export class WalletService {
  constructor(
    private readonly ctx: EngineContext,
    private readonly invoices: InvoiceService,
  ) {
    // Bought credits are granted in the transaction that marks their invoice paid (its
    // invoice.paid event), once: a provider's webhook twice moves the invoice once, and
    // the grant's key refuses a second grant anyway.
    ctx.events.withinTransaction((scope, events) => this.#grantPaidTopUps(scope, events));
  }

  // --- reading ---------------------------------------------------------------------

  get(scope: Scope, id: string): Promise<Wallet> {
    return findById('wallet', id, (wid) => this.ctx.store.wallets.get(scope, wid));
  }

  async listByCustomer(scope: Scope, customerId: string): Promise<Wallet[]> {
    const customer = await findById('customer', customerId, (cid) => this.ctx.store.customers.get(scope, cid));
    return this.ctx.store.wallets.listByCustomer(scope, customer.id);
  }

  /** The customer's wallet in `currency`, or null. */
  async forCustomer(scope: Scope, customerId: string, currency: string): Promise<Wallet | null> {
    const { customerId: id, currency: code } = parseInput(createWalletSchema, { customerId, currency }, 'wallet');
    return this.ctx.store.wallets.getByCustomer(scope, id, code);
  }

  /** The balance now (on the customer's clock): live grants, those past their expiry left out even before the cycle sweeps them. */
  async balance(scope: Scope, walletId: string): Promise<WalletBalance> {
    const wallet = await this.get(scope, walletId);
    const now = await this.ctx.customerNow(scope, wallet.customerId);
    const grants = (await this.ctx.store.wallets.liveGrants(scope, wallet.id)).filter((g) => isLive(g, now));
    const ordered = [...grants].sort(byUseOrder);
    return { walletId: wallet.id, currency: wallet.currency, balance: ordered.reduce((a, g) => a + g.remaining, 0), grants: ordered };
  }

  /** The ledger, newest first. */
  async ledger(scope: Scope, walletId: string, page: PageInput = {}): Promise<Page<WalletEntry>> {
    const wallet = await this.get(scope, walletId);
    return pageOf(page, (p) => this.ctx.store.wallets.entries(scope, wallet.id, p));
  }

  // --- writing ---------------------------------------------------------------------

  /** The customer's wallet in `currency`, made on first ask (`created` says which). */
  async create(scope: Scope, input: CreateWalletInput): Promise<{ wallet: Wallet; created: boolean }> {
    const { customerId, currency } = parseInput(createWalletSchema, input, 'wallet');
    await findById('customer', customerId, (cid) => this.ctx.store.customers.get(scope, cid));
    const now = await this.ctx.customerNow(scope, customerId);
    return this.ctx.events.atomic(scope, async (record) => {
      const r = await this.ctx.store.wallets.insertOnce(scope, {
        id: newId('wallet'),
        customerId,
        currency,
        balance: 0,
        autoTopUp: null,
        recurringGrants: [],
        nextDueAt: null,
        createdAt: now,
        updatedAt: now,
      });
      if (r.created) record({ type: 'wallet.created', object: r.wallet, customerId });
      return r;
    });
  }

  /** Promotional credits: an optional expiry (after now), a priority, optionally only for some features. */
  async grant(scope: Scope, input: GrantInput): Promise<WalletGrant> {
    const data = parseInput(grantSchema, input, 'grant');
    const wallet = await this.get(scope, data.walletId);
    const now = await this.ctx.customerNow(scope, wallet.customerId);
    if (data.expiresAt && data.expiresAt <= now) {
      throw invalid(`a grant's expiry must be after now (${now.toISOString()})`, [{ path: 'expiresAt', message: `after ${now.toISOString()}` }]);
    }
    await this.#checkFeatureKeys(scope, data.featureKeys);
    const key = data.idempotencyKey ? `grant:${data.idempotencyKey}` : `grant:${newId('walletGrant')}`;
    return this.#change(scope, wallet.id, now, async (draft, { hasGrant }) => {
      if (await hasGrant(key)) {
        // A retry: the grant it made, if it still has credits; else the key is spent.
        const made = draft.grants.find((g) => g.key === key);
        if (made) return made;
        throw conflict(`a grant with idempotency key "${data.idempotencyKey}" was made already`);
      }
      return draft.add({
        key,
        source: 'promotional',
        amount: data.amount,
        priority: data.priority,
        expiresAt: data.expiresAt,
        featureKeys: data.featureKeys,
        invoiceId: null,
        description: data.description || 'Promotional credits',
        createdAt: now,
      });
    });
  }

  /**
   * Buys credits: a top-up invoice with one "Prepaid credits" line (untaxed: the credits
   * are taxed on the invoices they pay), finalized and collected as any invoice (charged
   * to the default payment method, or sent). Its credits are granted when it is paid.
   * The same idempotency key gives the same invoice.
   */
  async topUp(scope: Scope, input: TopUpInput): Promise<Invoice> {
    const data = parseInput(topUpSchema, input, 'top-up');
    const wallet = await this.get(scope, data.walletId);
    return this.#topUp(scope, wallet, data.amount, data.idempotencyKey ? `top_up:${data.idempotencyKey}` : `top_up:${newId('invoice')}`, 'Prepaid credits');
  }

  /** Automatic top-ups: on (the settings) or off (null). */
  async setAutoTopUp(scope: Scope, walletId: string, settings: AutoTopUp | null): Promise<Wallet> {
    const auto = settings === null ? null : parseInput(autoTopUpSchema, settings, 'automatic top-up');
    const wallet = await this.get(scope, walletId);
    const now = await this.ctx.customerNow(scope, wallet.customerId);
    await this.#change(scope, wallet.id, now, async (draft) => {
      draft.autoTopUp = auto;
    });
    return this.get(scope, wallet.id);
  }

  /** A rule granting credits every interval from `startsAt` (default now); the first one due now is granted at once. */
  async addRecurringGrant(scope: Scope, input: RecurringGrantInput): Promise<Wallet> {
    const data = parseInput(recurringGrantSchema, input, 'recurring grant');
    const wallet = await this.get(scope, data.walletId);
    const now = await this.ctx.customerNow(scope, wallet.customerId);
    const anchor = data.startsAt ?? now;
    // A rule starting in the past would grant every period since at once: it starts now
    // or later (5 minutes' tolerance for a client's clock).
    const earliest = new Date(now.getTime() - 5 * 60_000);
    if (anchor < earliest) throw invalid(`a recurring grant starts now or later, not before ${earliest.toISOString()}`, [{ path: 'startsAt', message: `at or after ${earliest.toISOString()}` }]);
    if (data.endsAt && data.endsAt <= anchor) throw invalid('a recurring grant must end after it starts', [{ path: 'endsAt', message: `after ${anchor.toISOString()}` }]);
    if (wallet.recurringGrants.length >= 10) throw invalid('a wallet has at most 10 recurring grants');
    await this.#checkFeatureKeys(scope, data.featureKeys);
    await this.#change(scope, wallet.id, now, async (draft) => {
      draft.setRules([
        ...draft.rules,
        {
          id: newId('walletGrant'),
          amount: data.amount,
          priority: data.priority,
          featureKeys: data.featureKeys,
          interval: data.interval,
          expires: data.expires,
          anchor,
          made: 0,
          nextAt: anchor,
          endsAt: data.endsAt,
          description: data.description || 'Recurring credits',
        },
      ]);
      draft.catchUp(now);
    });
    return this.get(scope, wallet.id);
  }

  /** Stops a recurring grant (the credits it granted stay until they expire). */
  async removeRecurringGrant(scope: Scope, walletId: string, ruleId: string): Promise<Wallet> {
    const wallet = await this.get(scope, walletId);
    if (!wallet.recurringGrants.some((r) => r.id === ruleId)) throw notFound('recurring grant', ruleId);
    const now = await this.ctx.customerNow(scope, wallet.customerId);
    await this.#change(scope, wallet.id, now, async (draft) => draft.setRules(draft.rules.filter((r) => r.id !== ruleId)));
    return this.get(scope, wallet.id);
  }

  // --- the engine's hooks (invoice/service.ts, ledger.ts) -------------------------

  /**
   * At finalization, in its transaction, after the customer's credit balance: the wallet
   * in the invoice's currency pays what it can of the amount due (limited grants only
   * their features' lines), and the invoice records it (`walletApplied`), paid when
   * nothing is left. A top-up invoice is never paid with credits.
   */
  async applyToInvoice(scope: Scope, inv: Invoice, now: Date): Promise<Invoice> {
    if (inv.billingReason === TOP_UP_REASON || inv.amountDue <= 0) return inv;
    const wallet = await this.ctx.store.wallets.getByCustomer(scope, inv.customerId, inv.currency);
    if (!wallet) return inv;
    const used = await this.#change(scope, wallet.id, now, async (draft) => {
      const uses = allocate(draft.grants, now, inv.lines, inv.taxInclusive, inv.amountDue);
      for (const u of uses) draft.use(u.grant, u.amount, inv.id, inv.number, now);
      return uses.reduce((a, u) => a + u.amount, 0);
    });
    if (used === 0) return inv;
    const amountDue = inv.amountDue - used;
    const paid = amountDue === 0;
    const updated = await this.ctx.store.invoices.transition(scope, inv.id, [inv.status], {
      status: paid ? 'paid' : inv.status,
      walletApplied: (inv.walletApplied ?? 0) + used,
      amountDue,
      ...(paid ? { paidAt: now, nextPaymentAttemptAt: null } : {}),
      updatedAt: now,
    });
    if (!updated) throw new Error(`invoice ${inv.id} changed while its credits were applied`);
    return updated;
  }

  /**
   * A voided invoice gives back every credit it still holds (all its `walletApplied`, less
   * what credit notes gave back), each to the grant it came from (give-back.ts), in the
   * void's transaction. Returns how many.
   */
  async giveBackVoided(scope: Scope, inv: Invoice, at: Date): Promise<number> {
    return this.#giveBack(scope, inv, at, `Invoice ${inv.number ?? inv.id} voided`, (held) => held);
  }

  /**
   * A credit note on an invoice credits paid: the credits it gives back (creditsForNote:
   * what is owed first, then credits, then money), in the note's transaction. `inv` is
   * the invoice as the note left it. Returns how many.
   */
  async topUpCreditable(scope: Scope, inv: Invoice): Promise<number | null> {
    if (inv.billingReason !== TOP_UP_REASON || inv.status !== 'paid') return null;
    const grants = await this.ctx.store.wallets.liveGrants(scope, parseId('wallet', inv.subscriptionId));
    return grants.find((g) => g.key === `top_up:${inv.id}`)?.remaining ?? 0;
  }

  async giveBackCredited(scope: Scope, inv: Invoice, note: CreditNote, refunded: boolean): Promise<number> {
    return this.#giveBack(scope, inv, note.createdAt, `Credit note ${note.number} on invoice ${inv.number ?? inv.id}`, (held) =>
      creditsForNote(inv, note.amount, held, refunded),
    );
  }

  async #giveBack(scope: Scope, inv: Invoice, at: Date, description: string, howMany: (held: number) => number): Promise<number> {
    if (!(inv.walletApplied ?? 0)) return 0;
    const wallet = await this.ctx.store.wallets.getByCustomer(scope, inv.customerId, inv.currency);
    if (!wallet) return 0;
    return this.#change(scope, wallet.id, at, async (draft, view) => {
      // Read under the wallet's lock: a give-back before this one (a credit note, a void
      // run twice) is in these entries, so nothing is given back twice.
      const held = heldByGrant(await view.invoiceEntries(inv.id));
      const holding = held.reduce((a, h) => a + h.amount, 0);
      const amount = Math.min(holding, howMany(holding));
      if (amount <= 0) return 0;
      const parts = lastUsedFirst(held, amount);
      const grants = new Map((await view.grantsById(parts.map((p) => p.grantId))).map((g) => [g.id, g]));
      for (const p of parts) {
        const grant = grants.get(p.grantId);
        if (!grant) throw new Error(`wallet ${wallet.id}: grant ${p.grantId} used by invoice ${inv.id} is missing`);
        draft.restore(grant, p.amount, inv.id, description, at);
        if (grant.source === 'purchased' && grant.invoiceId) await this.#retakeCreditedTopUp(scope, draft, view, grant, at);
      }
      return amount;
    });
  }

  /**
   * Bought credits given back whose top-up was credited after it was paid, when they were
   * used (#reverseTopUp could take nothing back: the note's money went back instead):
   * what those notes could not take is taken now, so the customer never has both the
   * money and the credits.
   */
  async #retakeCreditedTopUp(scope: Scope, draft: WalletDraft, view: WalletView, grant: WalletGrant, at: Date): Promise<void> {
    const topUp = await this.ctx.store.invoices.get(scope, grant.invoiceId!);
    if (!topUp) return;
    // The grant is the total less what was credited before it was paid; the rest came after.
    const creditedAfter = topUp.credited - (topUp.total - grant.amount);
    const taken = -(await view.invoiceEntries(topUp.id)).filter((e) => e.type === 'reversal').reduce((a, e) => a + e.amount, 0);
    if (creditedAfter - taken > 0) draft.reverse(grant, creditedAfter - taken, topUp.id, `Credit note on top-up ${topUp.number ?? topUp.id}`, at);
  }

  /** The billing cycle's wallet work at `now`: expiries and recurring grants due. */
  async due(scope: Scope, now: Date, on: OnClock | undefined): Promise<void> {
    for (let round = 0; round < 100; round++) {
      const due = await this.ctx.store.wallets.listDue(scope, now, 100, on);
      for (const w of due) {
        try {
          await this.#change(scope, w.id, now, async () => undefined);
        } catch (e) {
          this.ctx.logger.error('a wallet\'s expiries or recurring grants could not be written; the next billing run tries again', {
            walletId: w.id,
            error: e instanceof Error ? e.message : String(e),
          });
        }
      }
      if (due.length < 100) return;
    }
  }

  /** The earliest instant by `to` when a wallet has work; null: none. */
  async nextDue(scope: Scope, to: Date, on: OnClock | undefined): Promise<Date | null> {
    const [w] = await this.ctx.store.wallets.listDue(scope, to, 1, on);
    return w?.nextDueAt ?? null;
  }

  /**
   * After an invoice took credits (onInvoiceFinalized): below the threshold, an automatic
   * top-up, charged to the default payment method; at most one open at a time.
   */
  async autoTopUp(scope: Scope, inv: Invoice): Promise<Invoice | null> {
    if (inv.billingReason === TOP_UP_REASON || !(inv.walletApplied ?? 0)) return null;
    const wallet = await this.ctx.store.wallets.getByCustomer(scope, inv.customerId, inv.currency);
    if (!wallet?.autoTopUp) return null;
    const { balance } = await this.balance(scope, wallet.id);
    const auto = wallet.autoTopUp;
    if (balance >= auto.threshold) return null;
    const amount = auto.mode === 'fixed' ? auto.amount : auto.amount - balance;
    if (amount <= 0) return null;
    if (!(await this.ctx.store.payments.defaultMethod(scope, wallet.customerId))) {
      this.ctx.logger.warn('an automatic top-up needs a default payment method; none is saved', { walletId: wallet.id });
      return null;
    }
    const autos = (await this.ctx.store.invoices.listBySubscription(scope, wallet.id as unknown as SubscriptionId)).filter((i) => i.key.startsWith('auto:'));
    if (autos.some((i) => i.status === 'open' || i.status === 'draft')) return null;
    // Keyed by its place among the wallet's automatic top-ups: two invoices finalized at
    // once both ask for the next one, and the invoice's unique key makes it once.
    return this.#topUp(scope, wallet, amount, `auto:${autos.length + 1}`, 'Prepaid credits (automatic top-up)');
  }

  // --- inside ------------------------------------------------------------------------

  /**
   * Credits limited to features name features of the scope's plans (any kind, archived
   * plans too): a misspelt key would make credits nothing could ever use.
   */
  async #checkFeatureKeys(scope: Scope, keys: readonly string[] | null | undefined): Promise<void> {
    if (!keys?.length) return;
    const known = new Set((await allLatestPlans(this.ctx.store.plans, scope)).flatMap((p) => p.features.map((f) => f.key)));
    const unknown = keys.filter((k) => !known.has(k));
    if (unknown.length) {
      throw invalid(`no plan of this scope has the feature${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}: credits limited to it could never be used`, [
        { path: 'featureKeys', message: `unknown: ${unknown.join(', ')}` },
      ]);
    }
  }

  async #change<T>(
    scope: Scope,
    walletId: WalletId,
    now: Date,
    work: (draft: WalletDraft, view: WalletView) => Promise<T>,
  ): Promise<T> {
    // Every movement is an event of the log (so outbound webhooks and the audit trail have
    // it), written in the change's transaction; inside another change (an invoice's
    // finalization, a void) it joins that one's.
    return this.ctx.events.atomic(scope, async (record) => {
      let made: { before: Wallet; change: WalletChange | null } | null = null;
      const r = await this.ctx.store.wallets.change(scope, walletId, async (view) => {
        const draft = new WalletDraft(view);
        draft.catchUp(now);
        const result = await work(draft, view);
        const change = draft.change(now);
        made = { before: view.wallet, change };
        return { change, result };
      });
      if (!r) throw notFound('wallet', walletId);
      const { before, change } = made! as { before: Wallet; change: WalletChange | null };
      if (change) {
        for (const entry of change.entries) record({ type: 'wallet_transaction.created', object: entry, customerId: before.customerId });
        if (change.wallet.autoTopUp !== undefined || change.wallet.recurringGrants !== undefined) {
          record({ type: 'wallet.updated', object: { ...before, ...change.wallet }, before, customerId: before.customerId });
        }
      }
      return r.result;
    });
  }

  /**
   * The top-up invoice, made once per key: its `subscriptionId` is the wallet's id (a
   * top-up belongs to no subscription, so a failed charge moves none into dunning),
   * then finalized and collected.
   */
  async #topUp(scope: Scope, wallet: Wallet, amount: number, key: string, description: string): Promise<Invoice> {
    const now = await this.ctx.customerNow(scope, wallet.customerId);
    const line: InvoiceLine = {
      id: 'credits',
      kind: 'credits',
      description: `${description}: ${amount} credits`,
      featureKey: null,
      quantity: String(amount),
      unitPrice: null,
      amount,
      discount: 0,
      tax: 0,
      periodStart: now,
      periodEnd: now,
    };
    const invoice: Invoice = {
      id: newId('invoice'),
      number: null,
      status: 'draft',
      subscriptionId: wallet.id as unknown as SubscriptionId,
      customerId: wallet.customerId,
      currency: wallet.currency,
      billingReason: TOP_UP_REASON,
      key,
      issueAt: now,
      periodStart: now,
      periodEnd: now,
      lines: [line],
      subtotal: amount,
      discount: 0,
      tax: 0,
      total: amount,
      creditApplied: 0,
      walletApplied: 0,
      credited: 0,
      amountDue: amount,
      taxInclusive: false,
      taxRate: null,
      taxNote: null,
      couponId: null,
      basis: { advance: null, usage: null, prorations: [line], couponId: null },
      finalizeAt: now,
      ...newInvoiceState(now),
    };
    const stored = await this.invoices.storeNew(scope, invoice);
    if (stored.invoice.status !== 'draft') return stored.invoice;
    try {
      return (await this.invoices.finalizeDraft(scope, stored.invoice.id)).invoice;
    } catch (e) {
      // The same top-up asked for twice at once (its key): the other call finalized it.
      if (isLedgerError(e) && e.code === 'illegal_state') return this.invoices.get(scope, stored.invoice.id);
      throw e;
    }
  }

  /**
   * In the transaction of every change with events: top-up invoices just paid get their
   * credits; a credit note on a paid top-up takes back as many of its credits as are
   * left (those already used stay used: the note's money is the rest).
   */
  async #grantPaidTopUps(scope: Scope, events: readonly LedgerEvent[]): Promise<void> {
    for (const e of events) {
      if (e.type === 'credit_note.created') await this.#reverseTopUp(scope, e.data as unknown as { invoiceId: InvoiceId; number: string; amount: number; createdAt: string });
      if (e.type !== 'invoice.paid' || e.data.billingReason !== TOP_UP_REASON) continue;
      const inv = e.data as unknown as { id: InvoiceId; number: string | null; subscriptionId: string; total: number; credited: number; paidAt: string | null; customerId: CustomerId };
      // What was paid for: a credit note may have taken some (or all) of it back.
      const amount = inv.total - inv.credited;
      if (amount <= 0) continue;
      const walletId = parseId('wallet', inv.subscriptionId);
      const at = inv.paidAt ? new Date(inv.paidAt) : await this.ctx.customerNow(scope, inv.customerId);
      const key = `top_up:${inv.id}`;
      await this.#change(scope, walletId, at, async (draft, { hasGrant }) => {
        if (await hasGrant(key)) return;
        draft.add({
          key,
          source: 'purchased',
          amount,
          priority: DEFAULT_PRIORITY,
          expiresAt: null,
          featureKeys: null,
          invoiceId: inv.id,
          description: `Top-up ${inv.number ?? inv.id}`,
          createdAt: at,
        });
      });
    }
  }

  async #reverseTopUp(scope: Scope, note: { invoiceId: InvoiceId; number: string; amount: number; createdAt: string }): Promise<void> {
    const inv = await this.ctx.store.invoices.get(scope, note.invoiceId);
    if (!inv || inv.billingReason !== TOP_UP_REASON || inv.status !== 'paid') return; // unpaid: its grant will be the total less the note
    const walletId = parseId('wallet', inv.subscriptionId);
    const at = new Date(note.createdAt);
    await this.#change(scope, walletId, at, async (draft) => {
      const bought = draft.grants.find((g) => g.key === `top_up:${inv.id}`);
      // Credits already used were service given: a note (and a refund) may pay back only
      // the credits still left, or the customer would keep both. Refused, the note is not
      // made (this runs in its transaction).
      const left = bought?.remaining ?? 0;
      if (note.amount > left) {
        throw invalid(`a credit note on top-up ${inv.number} may credit only its credits not yet used: ${left} of ${inv.total} are left`, [
          { path: 'amount', message: `at most ${left}` },
        ]);
      }
      if (bought) draft.reverse(bought, note.amount, inv.id, `Credit note ${note.number}`, at);
    });
  }
}
