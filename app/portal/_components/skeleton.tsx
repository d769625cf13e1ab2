/** Grey placeholders while a page loads: the page's shape, not a spinner. */
export function Skeleton({ className = '' }: { className?: string }) {
  return <span aria-hidden="true" className={`block animate-pulse rounded-md bg-slate-200/70 motion-reduce:animate-none ${className}`} />;
}

/** Announced once to screen readers; the placeholders themselves are hidden from them. */
export function LoadingLabel({ children }: { children: string }) {
  return (
    <p role="status" className="sr-only">
      {children}
    </p>
  );
}
