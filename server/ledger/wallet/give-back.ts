import type { Invoice } from '../invoice/types';
import type { WalletEntry, WalletGrantId } from './types';

/**
 * Credits given back when an invoice they paid is undone. The pure rules, no I/O
 * (tests/wallet/give-back.test.ts); WalletService.giveBackVoided / giveBackCredited run
 * them under the wallet's lock, in the void's or the credit note's transaction.
 *
 * - **What an invoice holds** is read from the wallet's ledger, not from the invoice: its
 *   `use` entries less its `restore` entries, grant by grant. So whatever runs twice (a
 *   void retried, two credit notes at once) never gives back more than was used: the
 *   second one, under the same lock, sees the first one's entries.
 * - **To the grants they came from**, the last used first (the reverse of allocate.ts's
 *   order): given-back credits keep their grant's expiry, priority and features, so a
 *   void never turns seats-only credits into credits for anything, nor stretches an
 *   expiry. A grant that expired meanwhile takes them and loses them at once
 *   (WalletDraft.restore).
 */

export interface Held {
  grantId: WalletGrantId;
  amount: number;
}

/** What the invoice still holds of each grant (used − given back, > 0), in the order it used them. */
export function heldByGrant(entries: readonly WalletEntry[]): Held[] {
  const held = new Map<WalletGrantId, number>();
  for (const e of entries) {
    if (!e.grantId || (e.type !== 'use' && e.type !== 'restore')) continue;
    // A use is − (credits out of the wallet, held by the invoice), a restore + (back).
    held.set(e.grantId, (held.get(e.grantId) ?? 0) - e.amount);
  }
  return [...held].filter(([, amount]) => amount > 0).map(([grantId, amount]) => ({ grantId, amount }));
}

/** `amount` of what is held, the last used grant first. */
export function lastUsedFirst(held: readonly Held[], amount: number): Held[] {
  const parts: Held[] = [];
  let left = amount;
  for (const h of [...held].reverse()) {
    if (left <= 0) break;
    const take = Math.min(h.amount, left);
    parts.push({ grantId: h.grantId, amount: take });
    left -= take;
  }
  return parts;
}

/**
 * How many credits a credit note of `amount` gives back, the invoice as the note left it
 * (`credited` includes the note) and `held` the credits the invoice still holds.
 *
 * A note takes first from what is still owed, then from the credits, then from money paid:
 * - **Open or uncollectible** (nothing paid in money yet): the note lowers the amount due;
 *   only what exceeds it gives credits back. Said on the invoice as it is after the
 *   note: the credits it still holds never exceed what is left to credit
 *   (total − credit balance applied − credited).
 * - **Paid**: nothing is owed, so credits first, up to what it holds (as Stripe credits
 *   the customer balance back for an invoice the balance paid); the rest is money, which
 *   the caller refunds or settles out of band.
 * - **A refund** (`refunds.creditNote` with `refund: true`) is money paid back through
 *   the provider: it gives back no credits.
 */
export function creditsForNote(
  invoice: Pick<Invoice, 'status' | 'total' | 'creditApplied' | 'credited'>,
  amount: number,
  held: number,
  refunded: boolean,
): number {
  if (amount <= 0 || held <= 0 || refunded) return 0;
  if (invoice.status === 'paid') return Math.min(amount, held);
  const leftToCredit = invoice.total - invoice.creditApplied - invoice.credited;
  return Math.min(amount, held, Math.max(0, held - leftToCredit));
}
