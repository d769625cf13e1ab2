import Link from 'next/link';
import { buttonPrimary } from '../../_components/buttons';
import { EmptyState } from '../../_components/states';

/** A `?period=` that is none of the customer's periods: the same words whether it is another's or none. */
export default function UsagePeriodNotFound() {
  return (
    <div className="rounded-xl border border-slate-200 bg-white">
      <EmptyState
        title="Billing period not found"
        action={
          <Link href="/portal/usage" className={buttonPrimary}>
            See the current period
          </Link>
        }
      >
        This link names no billing period of your account. Choose a period from your usage page instead.
      </EmptyState>
    </div>
  );
}
