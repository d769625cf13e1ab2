import type { Invoice } from './types';

/**
 * The state every new invoice starts in, whatever made it (the cycle, a change, a
 * top-up): not yet finalized, paid, voided or collected, charged automatically unless
 * its finalization says otherwise.
 */
export function newInvoiceState(now: Date) {
  return {
    customer: null,
    finalizedAt: null,
    paidAt: null,
    voidedAt: null,
    voidReason: null,
    markedUncollectibleAt: null,
    collectionMethod: 'charge_automatically',
    dueAt: null,
    pastDueAt: null,
    attemptCount: 0,
    nextPaymentAttemptAt: null,
    creditRefunded: 0,
    createdAt: now,
    updatedAt: now,
  } satisfies Partial<Invoice>;
}
