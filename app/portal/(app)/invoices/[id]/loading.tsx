import { CardSkeleton, HeadingSkeleton } from '../../../_components/loading-shapes';

export default function InvoiceLoading() {
  return (
    <div className="space-y-6">
      <HeadingSkeleton label="Loading the invoice…" />
      <div className="grid gap-6 lg:grid-cols-3">
        <CardSkeleton lines={6} className="lg:col-span-2" />
        <div className="space-y-6">
          <CardSkeleton lines={3} />
          <CardSkeleton lines={2} />
        </div>
      </div>
    </div>
  );
}
