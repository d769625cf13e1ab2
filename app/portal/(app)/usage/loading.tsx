import { CardSkeleton, HeadingSkeleton } from '../../_components/loading-shapes';
import { Skeleton } from '../../_components/skeleton';

/** The usage page's shape while it loads: the period chooser, then a card per feature. */
export default function UsageLoading() {
  return (
    <div className="space-y-6">
      <HeadingSkeleton label="Loading your usage…" />
      <div className="flex gap-2" aria-hidden="true">
        <Skeleton className="h-8 w-36 rounded-full" />
        <Skeleton className="h-8 w-28 rounded-full" />
        <Skeleton className="h-8 w-28 rounded-full" />
      </div>
      <CardSkeleton lines={5} />
      <div className="grid gap-6 md:grid-cols-2">
        <CardSkeleton lines={2} />
        <CardSkeleton lines={2} />
      </div>
    </div>
  );
}
