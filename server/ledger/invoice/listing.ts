import { z } from 'zod';
import type { Invoice } from './types';

/**
 * How a customer's invoices are listed for people: newest first, in numbered pages (a
 * portal shows "page 3 of 7"), and which of them ask for money. The stores order and
 * filter by these same rules, so a page read from SQL and one sorted in memory agree.
 */

/** A numbered page (1-based) of a list and how long the list is. */
export interface NumberedPage<T> {
  items: T[];
  page: number;
  pageCount: number;
  total: number;
}

export const numberedPageSchema = z.object({
  page: z.number().int().min(1).max(10_000).default(1),
  perPage: z.number().int().min(1).max(100).default(20),
});
export type NumberedPageInput = z.input<typeof numberedPageSchema>;

/** Where page `page` of `perPage` rows lies in a list of `total`; a page past the end is the last (a stale link still shows something). */
export function pageWindow(total: number, page: number, perPage: number): { page: number; pageCount: number; offset: number } {
  const pageCount = Math.max(1, Math.ceil(total / perPage));
  const p = Math.min(Math.max(1, Math.floor(page)), pageCount);
  return { page: p, pageCount, offset: (p - 1) * perPage };
}

/** Newest first: by the instant it bills at, then id (TypeIDs sort by creation time). */
export function newestInvoiceFirst(a: Pick<Invoice, 'issueAt' | 'id'>, b: Pick<Invoice, 'issueAt' | 'id'>): number {
  return b.issueAt.getTime() - a.issueAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** The states in which an invoice can still be paid. */
export const PAYABLE_STATUSES = ['open', 'uncollectible'] as const satisfies readonly Invoice['status'][];

/** May this invoice be paid now? Open or uncollectible, with something left to pay. */
export const isPayable = (inv: Pick<Invoice, 'status' | 'amountDue'>): boolean =>
  (PAYABLE_STATUSES as readonly string[]).includes(inv.status) && inv.amountDue > 0;

/** Oldest first, as they should be paid: by the instant each bills at, then id. */
export function oldestInvoiceFirst(a: Pick<Invoice, 'issueAt' | 'id'>, b: Pick<Invoice, 'issueAt' | 'id'>): number {
  return -newestInvoiceFirst(a, b);
}
