import { CardSkeleton, HeadingSkeleton, TableSkeleton } from '../_components/loading-shapes';

export default function OverviewLoading() {
  return (
    <div className="space-y-6">
      <HeadingSkeleton label="Loading your billing overview…" />
      <div className="grid gap-6 lg:grid-cols-3">
        <CardSkeleton lines={4} className="lg:col-span-2" />
        <div className="space-y-6">
          <CardSkeleton lines={1} />
          <CardSkeleton lines={1} />
        </div>
      </div>
      <TableSkeleton rows={3} />
    </div>
  );
}
