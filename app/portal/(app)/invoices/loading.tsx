import { HeadingSkeleton, TableSkeleton } from '../../_components/loading-shapes';

export default function InvoicesLoading() {
  return (
    <div className="space-y-6">
      <HeadingSkeleton label="Loading your invoices…" />
      <TableSkeleton rows={8} />
    </div>
  );
}
