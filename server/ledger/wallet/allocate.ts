import type { InvoiceLine } from '../invoice/types';
import type { WalletGrant } from './types';

/**
 * The pure rules of a wallet: which grants are live, the order they are used in, and
 * how an invoice's amount is paid from them. No I/O: tests/wallet/allocate.test.ts.
 */

/** Live at `at`: credits left, and not expired (an expiry at `at` is past: half-open). */
export const isLive = (g: WalletGrant, at: Date) => g.remaining > 0 && g.expiredAt === null && (g.expiresAt === null || g.expiresAt > at);

/**
 * The order grants are used in: priority (lower first), then the soonest expiry (none
 * last), then the oldest, then the id (a total order: two runs agree).
 */
export function byUseOrder(a: WalletGrant, b: WalletGrant): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  const ea = a.expiresAt?.getTime() ?? Infinity;
  const eb = b.expiresAt?.getTime() ?? Infinity;
  if (ea !== eb) return ea - eb;
  if (a.createdAt.getTime() !== b.createdAt.getTime()) return a.createdAt.getTime() - b.createdAt.getTime();
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** What a line asks for, tax included (exclusive tax is added; an inclusive one is in the amount). */
export const lineCharge = (l: InvoiceLine, taxInclusive: boolean) => Math.max(0, l.amount - l.discount + (taxInclusive ? 0 : l.tax));

export interface Use {
  grant: WalletGrant;
  amount: number;
}

/**
 * Pays up to `due` of an invoice from the live grants, in use order. A grant limited to
 * features pays only what is left of those features' lines; one for any line pays first
 * the lines no limited grant could pay, so it never takes what only a limited grant
 * could have paid. Returns each grant's use (amount > 0), in order.
 */
export function allocate(grants: readonly WalletGrant[], at: Date, lines: readonly InvoiceLine[], taxInclusive: boolean, due: number): Use[] {
  let budget = Math.max(0, due);
  const left = lines.map((l) => lineCharge(l, taxInclusive));
  const live = grants.filter((g) => isLive(g, at)).sort(byUseOrder);
  const uses: Use[] = [];
  for (const [i, g] of live.entries()) {
    if (budget === 0) break;
    let want = Math.min(g.remaining, budget);
    // Lines this grant may pay, the ones later limited grants may also pay last.
    const laterKeys = new Set(live.slice(i + 1).flatMap((o) => o.featureKeys ?? []));
    const order = lines
      .map((l, j) => j)
      .filter((j) => g.featureKeys === null || (lines[j]!.featureKey !== null && g.featureKeys.includes(lines[j]!.featureKey!)))
      .sort((a, b) => Number(laterKeys.has(lines[a]!.featureKey ?? '')) - Number(laterKeys.has(lines[b]!.featureKey ?? '')) || a - b);
    let took = 0;
    for (const j of order) {
      if (want === 0) break;
      const t = Math.min(want, left[j]!);
      left[j] = left[j]! - t;
      want -= t;
      took += t;
    }
    if (took > 0) {
      uses.push({ grant: g, amount: took });
      budget -= took;
    }
  }
  return uses;
}
