import Link from 'next/link';
import { buttonPrimary } from '../../../_components/buttons';
import { EmptyState } from '../../../_components/states';

/** Another customer's invoice, or none: the same words either way, nothing about it is told. */
export default function InvoiceNotFound() {
  return (
    <div className="rounded-xl border border-slate-200 bg-white">
      <EmptyState
        title="Invoice not found"
        action={
          <Link href="/portal/invoices" className={buttonPrimary}>
            See your invoices
          </Link>
        }
      >
        This invoice does not exist or is not on your account. Check the link, or find it in your list of invoices.
      </EmptyState>
    </div>
  );
}
