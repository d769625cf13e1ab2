import type { Coupon, Invoice, Ledger, Scope } from '../ledger';
import { fontsOf } from './fonts';
import { renderInvoicePdf } from './render';
import { sellerOf } from './seller';
import { invoiceView, type InvoiceView } from './view';

/**
 * An invoice's PDF in a scope: the invoice, its credit notes and payments, the coupon that
 * discounted it and (for a draft, which has no snapshot yet) the customer as it is now.
 * `not_found` for an id not in the scope, as every engine read.
 */
export async function invoicePdf(
  ledger: Ledger,
  scope: Scope,
  invoice: Invoice,
  env: Record<string, string | undefined> = process.env,
): Promise<{ pdf: Buffer; view: InvoiceView }> {
  // Only what the PDF will print is read: most invoices need no read beyond their own.
  const none = Promise.resolve(null);
  const [creditNotes, payments, customer, coupon] = await Promise.all([
    // Credit notes exist only when something was credited.
    invoice.credited > 0 ? ledger.invoices.listCreditNotes(scope, invoice.id) : [],
    // Succeeded payments (the ones printed) exist only on paid invoices: paying is what marks them paid.
    invoice.status === 'paid' ? ledger.payments.list(scope, { invoiceId: invoice.id }, { limit: 100 }).then((p) => p.items) : [],
    invoice.customer ? none : ledger.customers.get(scope, invoice.customerId),
    // The coupon's name labels the discount; a coupon gone since is no reason to fail.
    invoice.couponId && invoice.discount > 0 ? ledger.coupons.get(scope, invoice.couponId).catch((): Coupon | null => null) : none,
  ]);
  const fonts = fontsOf(env);
  const view = invoiceView({ invoice, customer, seller: sellerOf(scope, env), creditNotes, payments, coupon, fonts });
  return { pdf: await renderInvoicePdf(view, fonts), view };
}
