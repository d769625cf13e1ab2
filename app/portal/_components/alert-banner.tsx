import type { ReactNode } from 'react';

const TONES = {
  info: 'border-indigo-200 bg-indigo-50 text-indigo-900',
  warning: 'border-amber-200 bg-amber-50 text-amber-900',
  danger: 'border-rose-200 bg-rose-50 text-rose-900',
} as const;

const ICON_TONES = { info: 'text-indigo-600', warning: 'text-amber-600', danger: 'text-rose-600' } as const;

/** Something that needs the customer's attention, at the top of a page. */
export function AlertBanner({ tone, title, children, action }: { tone: keyof typeof TONES; title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className={`flex flex-col gap-3 rounded-xl border px-4 py-3.5 sm:flex-row sm:items-center ${TONES[tone]}`}>
      <svg viewBox="0 0 20 20" className={`hidden size-5 shrink-0 sm:block ${ICON_TONES[tone]}`} fill="currentColor" aria-hidden="true">
        {tone === 'info' ? (
          <path fillRule="evenodd" d="M18 10a8 8 0 1 1-16 0 8 8 0 0 1 16 0Zm-7-4a1 1 0 1 1-2 0 1 1 0 0 1 2 0ZM9 9a.75.75 0 0 0 0 1.5h.25v3a.75.75 0 0 0 1.5 0v-3.75A.75.75 0 0 0 10 9H9Z" clipRule="evenodd" />
        ) : (
          <path fillRule="evenodd" d="M8.49 2.92c.67-1.17 2.35-1.17 3.02 0l6.28 10.93c.67 1.17-.17 2.62-1.51 2.62H3.72c-1.34 0-2.18-1.45-1.51-2.62L8.49 2.92ZM10 6a.75.75 0 0 1 .75.75v3.5a.75.75 0 0 1-1.5 0v-3.5A.75.75 0 0 1 10 6Zm0 8a1 1 0 1 0 0-2 1 1 0 0 0 0 2Z" clipRule="evenodd" />
        )}
      </svg>
      <div className="min-w-0 flex-1">
        <p className="text-sm font-semibold">{title}</p>
        {children && <div className="mt-0.5 text-sm opacity-90">{children}</div>}
      </div>
      {action && <div className="shrink-0">{action}</div>}
    </div>
  );
}
