import { z } from 'zod';
import { refundCreditNoteSchema, voidSchema } from '../../ledger';
import { upcomingInvoice } from '../../ledger/invoice/upcoming';
import { apiKeyProcedure, router } from '../init';
import { idOf, pageInput } from '../inputs';

const byId = z.object({ id: idOf('invoice') });

/** Credit notes: numbered corrections that lower what an issued invoice asks for. */
const creditNotesRouter = router({
  /**
   * `{ creditNote, invoice, refund }`: the note (CN-…), the invoice with its new amountDue,
   * and with `refund: true` (a paid invoice) the refund made through the provider that
   * charged it (`refund: null` without). A refund over what is left to refund: BAD_REQUEST,
   * and nothing is made.
   */
  create: apiKeyProcedure
    .input(refundCreditNoteSchema.extend({ invoiceId: idOf('invoice') }))
    .mutation(({ ctx, input: { invoiceId, ...note } }) => ctx.ledger.refunds.creditNote(ctx.scope, invoiceId, note)),
  list: apiKeyProcedure
    .input(z.object({ invoiceId: idOf('invoice') }))
    .query(({ ctx, input }) => ctx.ledger.invoices.listCreditNotes(ctx.scope, input.invoiceId)),
});

export const invoicesRouter = router({
  listByCustomer: apiKeyProcedure
    .input(z.object({ customerId: idOf('customer'), page: pageInput }))
    .query(({ ctx, input }) => ctx.ledger.invoices.listByCustomer(ctx.scope, input.customerId, input.page)),
  /** An invoice with its lines. */
  get: apiKeyProcedure.input(byId).query(({ ctx, input }) => ctx.ledger.invoices.get(ctx.scope, input.id)),
  /** draft → open: numbered, the customer copied, credit applied. */
  finalize: apiKeyProcedure.input(byId).mutation(({ ctx, input }) => ctx.ledger.invoices.finalize(ctx.scope, input.id)),
  /** open or uncollectible → void. */
  void: apiKeyProcedure
    .input(voidSchema.extend({ id: idOf('invoice') }))
    .mutation(({ ctx, input }) => ctx.ledger.invoices.void(ctx.scope, input.id, { reason: input.reason })),
  /**
   * Collects the invoice now through the scope's provider (`ledger.collectPayment`):
   * `{ invoice, payment }`. Nothing due: paid at once, `payment: null`. A decline leaves
   * a failed payment (its `failureCode`) and the invoice open; `requires_action` carries
   * the URL to confirm at. A draft, paid or void invoice: PRECONDITION_FAILED.
   */
  pay: apiKeyProcedure.input(byId).mutation(({ ctx, input }) => ctx.ledger.collectPayment(ctx.scope, input.id)),
  /**
   * `{ url }`: the invoice's hosted pay page (signed, valid 30 days; no API key needed to
   * open it): an open or uncollectible invoice, or a paid one's receipt. A draft or void
   * invoice: PRECONDITION_FAILED.
   */
  hostedUrl: apiKeyProcedure.input(byId).query(async ({ ctx, input }) => ({ url: await ctx.ledger.hosted.invoiceUrl(ctx.scope, input.id) })),
  /** open → uncollectible. */
  markUncollectible: apiKeyProcedure
    .input(byId)
    .mutation(({ ctx, input }) => ctx.ledger.invoices.markUncollectible(ctx.scope, input.id)),
  /**
   * The upcoming invoice of a subscription: what its current period's end would bill,
   * with the usage so far (up to the customer's time: its test clock's, if it is on one). Nothing is stored.
   */
  preview: apiKeyProcedure
    .input(z.object({ subscriptionId: idOf('subscription') }))
    .query(async ({ ctx, input }) => {
      const sub = await ctx.ledger.subscriptions.get(ctx.scope, input.subscriptionId);
      return (await upcomingInvoice(ctx.ledger, ctx.scope, sub)).invoice;
    }),
  creditNotes: creditNotesRouter,
});
