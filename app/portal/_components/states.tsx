import type { ReactNode } from 'react';

function Icon({ kind }: { kind: 'empty' | 'error' }) {
  return (
    <span className={`grid size-12 place-items-center rounded-full ${kind === 'error' ? 'bg-rose-50 text-rose-600' : 'bg-indigo-50 text-indigo-600'}`} aria-hidden="true">
      <svg viewBox="0 0 24 24" className="size-6" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" strokeLinejoin="round">
        {kind === 'error' ? (
          <>
            <path d="M12 8v5" />
            <circle cx="12" cy="16.5" r="0.6" fill="currentColor" />
            <path d="M10.3 3.9 2.4 17.5A2 2 0 0 0 4.1 20.5h15.8a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0Z" />
          </>
        ) : (
          <>
            <path d="M7 3.5h7l4 4v13H7a1 1 0 0 1-1-1v-15a1 1 0 0 1 1-1Z" />
            <path d="M14 3.5v4h4M9.5 12.5h5M9.5 16h3" />
          </>
        )}
      </svg>
    </span>
  );
}

/** Nothing to show yet: what will appear here, and why it is empty. */
export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="flex flex-col items-center px-6 py-12 text-center">
      <Icon kind="empty" />
      <h2 className="mt-4 text-base font-semibold text-slate-900">{title}</h2>
      {children && <p className="mt-1.5 max-w-sm text-sm text-slate-600">{children}</p>}
      {action && <div className="mt-5">{action}</div>}
    </div>
  );
}

/** Something failed: what the customer can do, and a reference to quote to support. */
export function ErrorState({ title, children, action, reference }: { title: string; children?: ReactNode; action?: ReactNode; reference?: string | null }) {
  return (
    <div role="alert" className="flex flex-col items-center px-6 py-12 text-center">
      <Icon kind="error" />
      <h2 className="mt-4 text-base font-semibold text-slate-900">{title}</h2>
      {children && <p className="mt-1.5 max-w-sm text-sm text-slate-600">{children}</p>}
      {action && <div className="mt-5">{action}</div>}
      {reference && <p className="mt-4 font-mono text-xs text-slate-500">Reference: {reference}</p>}
    </div>
  );
}
