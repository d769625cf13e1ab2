import { CardSkeleton, HeadingSkeleton, TableSkeleton } from '../../_components/loading-shapes';

/** The credits page's shape while it loads: the balance and the form, then the activity. */
export default function CreditsLoading() {
  return (
    <div className="space-y-6">
      <HeadingSkeleton label="Loading your credits…" />
      <div className="grid gap-6 lg:grid-cols-5">
        <CardSkeleton lines={2} className="lg:col-span-3" />
        <CardSkeleton lines={4} className="lg:col-span-2" />
      </div>
      <TableSkeleton rows={4} />
    </div>
  );
}
