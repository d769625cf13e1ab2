import type { OnClock } from '../billing/store';
import type { Customer } from '../customer/types';
import type { Scope } from '../types';
import type { Invoice } from './types';

/** How a customer's invoice is collected, decided when it is finalized. */
export interface CollectionTerms {
  method: Invoice['collectionMethod'];
  /** For `send_invoice`: days from finalization until due. */
  daysUntilDue: number;
}

/** What collecting at the billing cycle's instant did. */
export interface CollectionReport {
  /** Automatic charges retried (dunning). */
  retried: number;
  /** Sent invoices found past their due date. */
  pastDue: number;
}

/**
 * Collection, as invoices see it: the seam between invoicing and payments, so the invoice
 * domain needs nothing of payments. The engine gives InvoiceService its collector
 * (payment/dunning.ts); without one, every invoice is sent, due in 30 days, and nothing
 * is charged.
 */
export interface InvoiceCollector {
  /** The terms of the customer's invoice finalized now. */
  terms(scope: Scope, customer: Customer): Promise<CollectionTerms>;
  /**
   * An invoice was just finalized, open with something due: an automatic one is charged
   * now. Never throws: a provider's failure is dunning's to handle, never the
   * finalization's.
   */
  finalized(scope: Scope, invoice: Invoice): Promise<void>;
  /** The billing cycle at `now`: retries due, sent invoices coming due (customers `on`). */
  due(scope: Scope, now: Date, on: OnClock | undefined): Promise<CollectionReport>;
  /** The earliest instant by `to` when collection has work (an advance steps through it); null: none. */
  nextDue(scope: Scope, to: Date, on: OnClock | undefined): Promise<Date | null>;
}

export const DEFAULT_DAYS_UNTIL_DUE = 30;

/** Without payments: every invoice sent, due in 30 days (or the customer's days), nothing charged. */
export const sendOnly: InvoiceCollector = {
  terms: async (_scope, customer) => ({ method: 'send_invoice', daysUntilDue: customer.daysUntilDue ?? DEFAULT_DAYS_UNTIL_DUE }),
  finalized: async () => {},
  due: async () => ({ retried: 0, pastDue: 0 }),
  nextDue: async () => null,
};
