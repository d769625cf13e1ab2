import type { ReactNode } from 'react';

/** A white panel with an optional title row (a heading and an action on its right). */
export function Card({
  title,
  titleId,
  action,
  children,
  className = '',
  padded = true,
}: {
  title?: ReactNode;
  titleId?: string;
  action?: ReactNode;
  children: ReactNode;
  className?: string;
  padded?: boolean;
}) {
  return (
    <section
      aria-labelledby={title && titleId ? titleId : undefined}
      className={`rounded-xl border border-slate-200 bg-white shadow-[0_1px_2px_rgba(15,23,42,0.04),0_4px_12px_rgba(15,23,42,0.03)] ${className}`}
    >
      {(title || action) && (
        <div className="flex flex-wrap items-center justify-between gap-2 border-b border-slate-100 px-5 py-3.5 sm:px-6">
          {title && (
            <h2 id={titleId} className="text-sm font-semibold text-slate-900">
              {title}
            </h2>
          )}
          {action}
        </div>
      )}
      <div className={padded ? 'px-5 py-5 sm:px-6' : ''}>{children}</div>
    </section>
  );
}

/** A label and its value, in a card's definition list. */
export function Field({ label, children }: { label: ReactNode; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
      <dd className="mt-1 text-sm text-slate-900">{children}</dd>
    </div>
  );
}
