import type { Coupon, Customer, Invoice, Ledger, Scope } from '../ledger';
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
  const [creditNotes, payments, customer, coupon] = await Promise.all([
    ledger.invoices.listCreditNotes(scope, invoice.id),
    ledger.payments.list(scope, { invoiceId: invoice.id }, { limit: 100 }).then((p) => p.items),
    invoice.customer ? Promise.resolve<Customer | null>(null) : ledger.customers.get(scope, invoice.customerId),
    invoice.couponId ? ledger.coupons.get(scope, invoice.couponId).catch((): Coupon | null => null) : Promise.resolve(null),
  ]);
  const fonts = fontsOf(env);
  const view = invoiceView({ invoice, customer, seller: sellerOf(scope, env), creditNotes, payments, coupon, fonts });
  return { pdf: await renderInvoicePdf(view, fonts), view };
}
