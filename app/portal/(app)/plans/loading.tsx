import { CardSkeleton, HeadingSkeleton } from '../../_components/loading-shapes';

export default function PlansLoading() {
  return (
    <div className="space-y-6">
      <HeadingSkeleton label="Loading plans…" />
      <CardSkeleton lines={2} />
      <div className="grid gap-4 md:grid-cols-2 lg:grid-cols-3">
        <CardSkeleton lines={4} />
        <CardSkeleton lines={4} />
        <CardSkeleton lines={4} />
      </div>
    </div>
  );
}
