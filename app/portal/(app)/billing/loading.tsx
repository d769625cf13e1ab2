import { CardSkeleton, HeadingSkeleton } from '../../_components/loading-shapes';

export default function BillingLoading() {
  return (
    <div className="space-y-6">
      <HeadingSkeleton label="Loading billing details…" />
      <div className="grid gap-6 lg:grid-cols-5">
        <CardSkeleton lines={6} className="lg:col-span-3" />
        <CardSkeleton lines={3} className="lg:col-span-2" />
      </div>
    </div>
  );
}
