import { LoadingLabel, Skeleton } from './skeleton';

/** Placeholders shaped like the pages they stand for. */
export function CardSkeleton({ lines = 3, className = '' }: { lines?: number; className?: string }) {
  return (
    <div className={`rounded-xl border border-slate-200 bg-white ${className}`}>
      <div className="border-b border-slate-100 px-5 py-4 sm:px-6">
        <Skeleton className="h-4 w-28" />
      </div>
      <div className="space-y-3 px-5 py-5 sm:px-6">
        <Skeleton className="h-6 w-40" />
        {Array.from({ length: lines }, (_, i) => (
          <Skeleton key={i} className={`h-3.5 ${i % 2 ? 'w-2/3' : 'w-5/6'}`} />
        ))}
      </div>
    </div>
  );
}

export function TableSkeleton({ rows = 6 }: { rows?: number }) {
  return (
    <div className="rounded-xl border border-slate-200 bg-white">
      <div className="border-b border-slate-200 bg-slate-50/60 px-5 py-3 sm:px-6">
        <Skeleton className="h-3 w-24" />
      </div>
      <ul className="divide-y divide-slate-100">
        {Array.from({ length: rows }, (_, i) => (
          <li key={i} className="flex items-center justify-between gap-4 px-5 py-4 sm:px-6">
            <div className="space-y-2">
              <Skeleton className="h-3.5 w-28" />
              <Skeleton className="h-3 w-20" />
            </div>
            <Skeleton className="hidden h-3.5 w-32 md:block" />
            <Skeleton className="h-3.5 w-16" />
            <Skeleton className="h-5 w-14 rounded-full" />
          </li>
        ))}
      </ul>
    </div>
  );
}

export function HeadingSkeleton({ label }: { label: string }) {
  return (
    <div className="space-y-2">
      <LoadingLabel>{label}</LoadingLabel>
      <Skeleton className="h-7 w-40" />
      <Skeleton className="h-4 w-72 max-w-full" />
    </div>
  );
}
